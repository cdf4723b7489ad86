import { encodeBlock, verifyMerkleProof } from '@ghostfleet/cometbft'
import { describe, expect, it } from 'vitest'
import {
  makeSyntheticBlock,
  makeSyntheticValidatorSet,
  splitIntoParts,
} from '../../src/simnode/store/synthetic.js'
import { hex } from './store-helpers.js'

describe('synthetic blocks', () => {
  it('parts carry proofs that verify against the part set hash', () => {
    const validators = makeSyntheticValidatorSet({ count: 3 })
    const block = makeSyntheticBlock({
      chainId: 'c',
      height: 1,
      time: new Date(0),
      lastBlockId: null,
      lastCommit: null,
      txCount: 20,
      txSize: 100,
      validators,
    })
    const bytes = encodeBlock(block)
    const { header, parts } = splitIntoParts(bytes, 512)
    expect(header.total).toBe(Math.ceil(bytes.length / 512))
    expect(header.total).toBeGreaterThan(3)
    expect(hex(Buffer.concat(parts.map((p) => p.bytes)))).toBe(hex(bytes))
    for (const p of parts) expect(verifyMerkleProof(header.hash, p.bytes, p.proof)).toBe(true)
  })
})

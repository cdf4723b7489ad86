import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  addressFromPubKey,
  type Header,
  headerHash,
  merkleProofs,
  merkleRoot,
  timestampFromDate,
  verifyMerkleProof,
} from '../../src/store/index.js'
import { hex } from './helpers.js'

const sha = (s: string | Uint8Array) => new Uint8Array(createHash('sha256').update(s).digest())

describe('merkle tree (CometBFT crypto/merkle test vectors)', () => {
  it('HashFromByteSlices vectors', () => {
    const u = (...xs: number[]) => Uint8Array.from(xs)
    expect(hex(merkleRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(hex(merkleRoot([u(1, 2, 3)]))).toBe(
      '054edec1d0211f624fed0cbca9d4f9400b0e491c43742af2c5b0abebf0c990d8',
    )
    expect(hex(merkleRoot([u()]))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
    expect(hex(merkleRoot([u(1, 2, 3), u(4, 5, 6)]))).toBe(
      '82e6cfce00453804379b53962939eaa7906b39904be0813fcadd31b100773c4b',
    )
    expect(hex(merkleRoot([u(1, 2), u(3, 4), u(5, 6), u(7, 8), u(9, 10)]))).toBe(
      'f326493eceab4f2d9ffbc78c59432a0a005d6ea98392045c74df5d14a113be18',
    )
  })

  it('proofs list aunts bottom-up and verify for every leaf', () => {
    const items = [1, 2, 3, 4, 5].map((i) => Uint8Array.from([i]))
    const { root, proofs } = merkleProofs(items)
    expect(hex(root)).toBe(hex(merkleRoot(items)))
    const leaf = (i: number) => sha(Uint8Array.from([0, i]))
    const inner = (a: Uint8Array, b: Uint8Array) => sha(Uint8Array.from([1, ...a, ...b]))
    // 5 leaves split 4 | 1, the 4 split 2 | 2.
    expect(proofs[0]!.aunts.map(hex)).toEqual([leaf(2), inner(leaf(3), leaf(4)), leaf(5)].map(hex))
    expect(proofs[4]!.aunts.map(hex)).toEqual([hex(inner(inner(leaf(1), leaf(2)), inner(leaf(3), leaf(4))))])
    for (let n = 1; n <= 9; n++) {
      const xs = Array.from({ length: n }, (_, i) => Uint8Array.from([i, n]))
      const r = merkleProofs(xs)
      xs.forEach((x, i) => {
        expect(r.proofs[i]!.total).toBe(n)
        expect(r.proofs[i]!.index).toBe(i)
        expect(verifyMerkleProof(r.root, x, r.proofs[i]!)).toBe(true)
        expect(verifyMerkleProof(r.root, Uint8Array.from([99]), r.proofs[i]!)).toBe(false)
      })
    }
  })
})

describe('block hashes', () => {
  it('Header.Hash() matches CometBFT TestHeaderHash', () => {
    const h: Header = {
      version: { block: 1, app: 2 },
      chainId: 'chainId',
      height: 3,
      time: timestampFromDate(new Date(Date.UTC(2019, 9, 13, 16, 14, 44))),
      lastBlockId: { hash: new Uint8Array(32), partSetHeader: { total: 6, hash: new Uint8Array(32) } },
      lastCommitHash: sha('last_commit_hash'),
      dataHash: sha('data_hash'),
      validatorsHash: sha('validators_hash'),
      nextValidatorsHash: sha('next_validators_hash'),
      consensusHash: sha('consensus_hash'),
      appHash: sha('app_hash'),
      lastResultsHash: sha('last_results_hash'),
      evidenceHash: sha('evidence_hash'),
      proposerAddress: sha('proposer_address').subarray(0, 20),
    }
    expect(hex(headerHash(h)).toUpperCase()).toBe(
      'F740121F553B5418C3EFBD343C2DBFE9E007BB67B0D020A0741374BAB65242A4',
    )
    expect(headerHash({ ...h, validatorsHash: new Uint8Array(0) }).length).toBe(0)
  })

  it('ed25519 addresses are the first 20 bytes of sha256(key)', () => {
    const key = sha('k')
    expect(hex(addressFromPubKey({ type: 'ed25519', key }))).toBe(hex(sha(key).subarray(0, 20)))
    expect(addressFromPubKey({ type: 'secp256k1', key: new Uint8Array(33) }).length).toBe(20)
  })
})

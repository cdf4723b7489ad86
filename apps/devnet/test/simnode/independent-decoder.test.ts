/**
 * Reads what ChainStore wrote with nothing from our codec: raw LevelDB keys via classic-level, values decoded by
 * protobufjs from the fixture .proto files (field definitions copied from CometBFT v0.37).
 */
import path from 'node:path'
import { encodeValidatorSet, sha256, validatorSetHash } from '@ghostfleet/cometbft'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import type protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GENESIS_SET, SECOND_SET, STANDARD_CHANGES, type WrittenChain, writeChain } from './chain-fixtures.js'
import { dumpDb, hex, loadFixtureProtos } from './store-helpers.js'

type Obj = Record<string, unknown>

let tmp: TempDir
let root: protobuf.Root
let blocks: Map<string, Buffer>
let states: Map<string, Buffer>
let written: WrittenChain

function decode(type: string, bytes: Uint8Array): Obj {
  const t = root.lookupType(type)
  return t.toObject(t.decode(bytes), { longs: Number, enums: Number, defaults: true }) as Obj
}

const bytesHex = (v: unknown) => hex(v as Uint8Array)
const o = (v: unknown) => v as Obj

beforeAll(async () => {
  tmp = await tempDir('gf-indep-')
  const dataDir = path.join(tmp.path, 'data')
  written = await writeChain(dataDir, 45, { batch: 9, changes: STANDARD_CHANGES })
  root = await loadFixtureProtos()
  blocks = await dumpDb(path.join(dataDir, 'blockstore.db'))
  states = await dumpDb(path.join(dataDir, 'state.db'))
})

afterAll(async () => {
  await tmp.remove()
})

describe('independent decoding of ChainStore data (protobufjs + raw LevelDB keys)', () => {
  it('blockStore decodes to base 1, height 45', () => {
    expect(decode('tendermint.store.BlockStoreState', blocks.get('blockStore')!)).toEqual({
      base: 1,
      height: 45,
    })
  })

  it('H:<h> → P:<h>:<i> reassembles into the block that was written', () => {
    for (const input of written.blocks) {
      const h = input.block.header.height
      const meta = decode('tendermint.types.BlockMeta', blocks.get(`H:${h}`)!)
      const blockId = o(meta.block_id)
      const psh = o(blockId.part_set_header)
      const total = psh.total as number
      const parts: Buffer[] = []
      for (let i = 0; i < total; i++) {
        const part = decode('tendermint.types.Part', blocks.get(`P:${h}:${i}`)!)
        expect(part.index).toBe(i)
        expect(o(part.proof).total).toBe(total)
        expect(o(part.proof).index).toBe(i)
        parts.push(Buffer.from(part.bytes as Uint8Array))
      }
      expect(blocks.has(`P:${h}:${total}`)).toBe(false)
      const blockBytes = Buffer.concat(parts)
      expect(meta.block_size).toBe(blockBytes.length)
      const block = decode('tendermint.types.Block', blockBytes)
      const header = o(block.header)
      expect(header.height).toBe(h)
      expect(header.chain_id).toBe('simnet-1')
      expect(o(header.version)).toEqual({ block: 11, app: 0 })
      expect(o(header.time).seconds).toBe(Math.floor(input.block.header.time.seconds))
      expect(bytesHex(header.app_hash)).toBe(hex(input.block.header.appHash))
      expect(bytesHex(header.proposer_address)).toBe(hex(input.block.header.proposerAddress))
      expect(o(meta.header)).toEqual(header)
      expect((o(block.data).txs as Uint8Array[]).map(bytesHex)).toEqual(input.block.data.txs.map(hex))
      // BH:<hash> → ASCII height
      expect(blocks.get(`BH:${bytesHex(blockId.hash)}`)!.toString('latin1')).toBe(String(h))
      expect(meta.num_txs).toBe(3)
      // The part set hash is a 32-byte sha256 merkle root; the block hash is 32 bytes.
      expect((psh.hash as Uint8Array).length).toBe(32)
      expect((blockId.hash as Uint8Array).length).toBe(32)
      // last_commit of h is stored again as C:(h-1)
      const lastCommit = o(block.last_commit)
      expect(decode('tendermint.types.Commit', blocks.get(`C:${h - 1}`)!)).toEqual(lastCommit)
      if (h > 1) {
        const prevMeta = decode('tendermint.types.BlockMeta', blocks.get(`H:${h - 1}`)!)
        expect(o(header.last_block_id)).toEqual(o(prevMeta.block_id))
        expect(lastCommit.height).toBe(h - 1)
        expect(o(lastCommit.block_id)).toEqual(o(prevMeta.block_id))
      } else {
        expect(lastCommit.height).toBe(0)
        expect((lastCommit.signatures as unknown[]).length).toBe(0)
      }
      const seen = decode('tendermint.types.Commit', blocks.get(`SC:${h}`)!)
      expect(seen.height).toBe(h)
      expect(o(seen.block_id)).toEqual(blockId)
      for (const sig of seen.signatures as Obj[]) {
        expect(sig.block_id_flag).toBe(2)
        expect((sig.signature as Uint8Array).length).toBe(64)
      }
    }
  })

  it('ValidatorsInfo: full sets at 1, 12 and 42, pointers elsewhere', () => {
    const full = (h: number) => decode('tendermint.state.ValidatorsInfo', states.get(`validatorsKey:${h}`)!)
    const v1 = full(1)
    expect(v1.last_height_changed).toBe(1)
    const set1 = o(v1.validator_set)
    expect((set1.validators as Obj[]).length).toBe(3)
    expect(set1.total_voting_power).toBe(0)
    const key0 = o(o((set1.validators as Obj[])[0]).pub_key)
    expect(bytesHex(key0.ed25519)).toBe(hex(GENESIS_SET.validators[0]!.pubKey.key))
    const v12 = full(12)
    expect(v12.last_height_changed).toBe(12)
    expect((o(v12.validator_set).validators as Obj[]).length).toBe(4)
    const v20 = full(20)
    expect(v20.validator_set).toBeNull()
    expect(v20.last_height_changed).toBe(12)
    // Cross-check the header's validators_hash against a hash of the protobufjs-decoded set.
    // protobufjs re-encodes the decoded message (only fields present on the wire) to the same bytes.
    const info = root
      .lookupType('tendermint.state.ValidatorsInfo')
      .decode(states.get('validatorsKey:12')!) as unknown as Obj
    const t = root.lookupType('tendermint.types.ValidatorSet')
    const reencoded = t.encode(info.validator_set as protobuf.Message).finish()
    expect(hex(reencoded)).toBe(hex(encodeValidatorSet(SECOND_SET)))
    expect(hex(sha256(reencoded))).toBe(hex(sha256(encodeValidatorSet(SECOND_SET))))
    const header12 = o(decode('tendermint.types.BlockMeta', blocks.get('H:12')!).header)
    expect(bytesHex(header12.validators_hash)).toBe(hex(validatorSetHash(SECOND_SET)))
  })

  it('ConsensusParamsInfo and State', () => {
    const p21 = decode('tendermint.state.ConsensusParamsInfo', states.get('consensusParamsKey:21')!)
    expect(p21.last_height_changed).toBe(21)
    expect(o(o(p21.consensus_params).block)).toEqual({ max_bytes: 1_000_000, max_gas: 50_000_000 })
    const p22 = decode('tendermint.state.ConsensusParamsInfo', states.get('consensusParamsKey:22')!)
    expect(p22.last_height_changed).toBe(21)
    expect(o(p22.consensus_params).block).toBeNull()
    const state = decode('tendermint.state.State', states.get('stateKey')!)
    expect(state.last_block_height).toBe(45)
    expect(state.initial_height).toBe(1)
    expect(state.last_height_validators_changed).toBe(42)
    expect(state.last_height_consensus_params_changed).toBe(21)
    expect(o(state.last_block_id)).toEqual(
      o(decode('tendermint.types.BlockMeta', blocks.get('H:45')!).block_id),
    )
    const info = decode('tendermint.state.ABCIResponsesInfo', states.get('lastABCIResponseKey')!)
    expect(info.height).toBe(45)
    const results = decode('tendermint.state.ABCIResponses', states.get('abciResponsesKey:10')!)
    expect((results.deliver_txs as unknown[]).length).toBe(3)
    // Block 10 decided the validator change: its EndBlock carries the updates.
    expect((o(results.end_block).validator_updates as unknown[]).length).toBeGreaterThan(0)
  })
})

import { createReadStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import {
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  commitHash,
  consensusParamsHash,
  decodeABCIResponses,
  decodeABCIResponsesInfo,
  decodeBlockMeta,
  decodeBlockMetaIds,
  decodeBlockStoreState,
  decodeCommit,
  decodeConsensusParamsInfo,
  decodePart,
  decodeState,
  decodeValidatorsInfo,
  encodeCommit,
  headerHash,
  isEmptyConsensusParams,
  lastStoredHeightFor,
  validatorSetHash,
  verifyMerkleProof,
} from '../../src/store/index.js'

// The goleveldb conformance kit writes homes exactly in CometBFT v0.37's layout and encodings: every record kind
// it writes must decode with Ghostfleet's decoders, and heights, hashes and pointers must agree with each other.

const BLOCKS = 20_000
const PARTS = 2
const PART_SIZE = 3000
const VALIDATORS = 5
const VAL_EVERY = 1000
const PARAMS_EVERY = 3000

let tmp: TempDir
let gl: GoleveldbTool
let home: string

/** The entries of a store as goleveldb reads them (via the kit's dump), keys as latin1 strings. */
async function* entries(
  db: string,
  options: { prefix?: string; keysOnly?: boolean } = {},
): AsyncGenerator<[string, Buffer]> {
  const file = path.join(tmp.path, `dump-${dumps++}`)
  await gl.dump(db, file, options)
  const lines = createInterface({
    input: createReadStream(file, { encoding: 'latin1' }),
    crlfDelay: Infinity,
  })
  for await (const line of lines) {
    if (line === '') continue
    const tab = line.indexOf('\t')
    const key = Buffer.from(tab < 0 ? line : line.slice(0, tab), 'hex').toString('latin1')
    yield [key, tab < 0 ? Buffer.alloc(0) : Buffer.from(line.slice(tab + 1), 'hex')]
  }
  await rm(file)
}
let dumps = 0

/**
 * Collects mismatches instead of one expect() per record (tens of thousands of records); the test asserts the
 * list is empty, which also shows every kind of mismatch at once.
 */
class Problems {
  readonly list: string[] = []
  count = 0
  check(ok: boolean, what: () => string): void {
    if (ok) return
    this.count++
    if (this.list.length < 20) this.list.push(what())
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

beforeAll(async () => {
  requireGoleveldb()
  gl = await goleveldbTool()
  tmp = await tempDir('gf-goleveldb-decode-')
  home = path.join(tmp.path, 'home')
  await gl.generateHome({
    home,
    chainId: 'decode-1',
    blocks: BLOCKS,
    partsPerBlock: PARTS,
    partSize: PART_SIZE,
    validators: VALIDATORS,
    validatorChangeEvery: VAL_EVERY,
    paramsChangeEvery: PARAMS_EVERY,
    abciResponseSize: 2000,
  })
}, 300_000)

afterAll(async () => {
  await tmp?.remove()
})

describe('goleveldb kit homes decode with the CometBFT decoders', () => {
  const validatorSetHashes = new Map<number, string>()
  const paramsHashes = new Map<number, string>()

  it('state.db: validators, params, ABCI responses, state and genesis', async () => {
    const p = new Problems()
    const seen = { vals: 0, params: 0, abci: 0, state: 0, last: 0, genesis: 0 }
    for await (const [key, value] of entries(path.join(home, 'data', 'state.db'))) {
      const [prefix, num] = key.split(':')
      const h = Number(num)
      if (prefix === 'validatorsKey') {
        seen.vals++
        const info = decodeValidatorsInfo(value)
        // Full exactly at the change heights (and checkpoints), a pointer elsewhere.
        const full = h === info.lastHeightChanged || h % 100_000 === 0
        p.check((info.validatorSet !== null) === full, () => `${key}: full=${info.validatorSet !== null}`)
        p.check(
          info.lastHeightChanged === validatorsLastChanged(h),
          () => `${key}: lhc ${info.lastHeightChanged}`,
        )
        if (info.validatorSet !== null) {
          p.check(info.validatorSet.validators.length === VALIDATORS, () => `${key}: validators`)
          validatorSetHashes.set(h, hex(validatorSetHash(info.validatorSet)))
        }
      } else if (prefix === 'consensusParamsKey') {
        seen.params++
        const info = decodeConsensusParamsInfo(value)
        p.check(
          info.lastHeightChanged === paramsLastChanged(h),
          () => `${key}: lhc ${info.lastHeightChanged}`,
        )
        const full = h === info.lastHeightChanged
        p.check(!isEmptyConsensusParams(info.consensusParams) === full, () => `${key}: full=${!full}`)
        // A pointer is the v0.37 "empty" encoding 0a 00 10 <lhc>.
        if (!full) p.check(hex(value).startsWith('0a0010'), () => `${key}: pointer ${hex(value)}`)
        else paramsHashes.set(h, hex(consensusParamsHash(info.consensusParams)))
      } else if (prefix === 'abciResponsesKey') {
        seen.abci++
        const r = decodeABCIResponses(value)
        p.check(r.deliverTxs.length > 2 && value.length >= 2000, () => `${key}: ${r.deliverTxs.length} txs`)
        const types = r.deliverTxs[0]?.events.map((e) => e.type).join(',')
        p.check(types === 'message,transfer,tx', () => `${key}: events ${types}`)
        p.check(r.endBlock !== null && r.beginBlock?.events.length === 1, () => `${key}: begin/end block`)
        const valUpdates = r.endBlock?.validatorUpdates.length ?? -1
        p.check(valUpdates === (h % VAL_EVERY === 0 ? 1 : 0), () => `${key}: ${valUpdates} validator updates`)
        const paramsUpdate = r.endBlock?.consensusParamUpdates ?? null
        p.check((paramsUpdate !== null) === (h % PARAMS_EVERY === 0), () => `${key}: params update`)
      } else if (key === 'stateKey') {
        seen.state++
        const s = decodeState(value)
        expect(s).toMatchObject({ chainId: 'decode-1', lastBlockHeight: BLOCKS, initialHeight: 1 })
        expect(s.validators?.validators).toHaveLength(VALIDATORS)
        expect(s.lastHeightValidatorsChanged).toBe(validatorsLastChanged(BLOCKS + 2))
        expect(s.lastHeightConsensusParamsChanged).toBe(paramsLastChanged(BLOCKS + 1))
      } else if (key === 'lastABCIResponseKey') {
        seen.last++
        const info = decodeABCIResponsesInfo(value)
        expect(info.height).toBe(BLOCKS)
        expect(info.abciResponses?.deliverTxs.length).toBeGreaterThan(0)
      } else if (key === 'genesisDoc') {
        seen.genesis++
        expect(JSON.parse(value.toString('utf8'))).toMatchObject({
          chain_id: 'decode-1',
          initial_height: '1',
        })
      } else {
        p.check(false, () => `unexpected state.db key ${key}`)
      }
    }
    expect(p.list).toEqual([])
    expect(seen).toEqual({
      vals: BLOCKS + 2,
      params: BLOCKS + 1,
      abci: BLOCKS,
      state: 1,
      last: 1,
      genesis: 1,
    })
  }, 600_000)

  it('blockstore.db: metas, parts, commits, hashes and blockStore agree', async () => {
    const db = path.join(home, 'data', 'blockstore.db')
    const p = new Problems()
    const metas = new Map<number, ReturnType<typeof decodeBlockMeta>>()
    for await (const [key, value] of entries(db, { prefix: 'H:' })) {
      const meta = decodeBlockMeta(value)
      const ids = decodeBlockMetaIds(value)
      p.check(
        hex(ids.hash) === hex(meta.blockId.hash) &&
          ids.partsTotal === meta.blockId.partSetHeader.total &&
          ids.height === meta.header.height,
        () => `${key}: decodeBlockMetaIds disagrees with decodeBlockMeta`,
      )
      metas.set(Number(key.slice(2)), meta)
    }
    const bh = new Map<string, number>()
    for await (const [key, value] of entries(db, { prefix: 'BH:' }))
      bh.set(key.slice(3), Number(value.toString('latin1')))
    const seenCommits = new Map<number, ReturnType<typeof decodeCommit>>()
    for await (const [key, value] of entries(db, { prefix: 'SC:' }))
      seenCommits.set(Number(key.slice(3)), decodeCommit(value))
    const commits = new Map<number, ReturnType<typeof decodeCommit>>()
    for await (const [key, value] of entries(db, { prefix: 'C:' }))
      commits.set(Number(key.slice(2)), decodeCommit(value))
    const partCounts = new Map<number, number>()
    for await (const [key] of entries(db, { prefix: 'P:', keysOnly: true })) {
      const h = Number(key.split(':')[1])
      partCounts.set(h, (partCounts.get(h) ?? 0) + 1)
    }
    const blockStore = await gl.get(db, 'blockStore')
    expect(blockStore && decodeBlockStoreState(blockStore)).toEqual({ base: 1, height: BLOCKS })
    expect([metas.size, bh.size, seenCommits.size, commits.size, partCounts.size]).toEqual([
      BLOCKS,
      BLOCKS,
      BLOCKS,
      BLOCKS, // C:0 .. C:BLOCKS-1
      BLOCKS,
    ])
    // The initial block's last commit is CometBFT's empty commit.
    expect(commits.get(0)).toMatchObject({ height: 0, signatures: [] })

    for (let h = 1; h <= BLOCKS; h++) {
      const meta = metas.get(h)
      if (meta === undefined) {
        p.check(false, () => `H:${h} missing`)
        continue
      }
      const { header, blockId } = meta
      const hash = hex(blockId.hash)
      p.check(header.height === h && header.chainId === 'decode-1', () => `H:${h}: header ${header.height}`)
      p.check(hex(headerHash(header)) === hash, () => `H:${h}: block hash is not the header hash`)
      p.check(bh.get(hash) === h, () => `BH:${hash} = ${bh.get(hash)}, want ${h}`)
      p.check(blockId.partSetHeader.total === PARTS, () => `H:${h}: total ${blockId.partSetHeader.total}`)
      p.check(partCounts.get(h) === blockId.partSetHeader.total, () => `P:${h}: ${partCounts.get(h)} parts`)
      if (h > 1) {
        const prev = metas.get(h - 1)
        p.check(
          hex(header.lastBlockId.hash) === hex(prev?.blockId.hash ?? new Uint8Array()),
          () => `H:${h}: last_block_id`,
        )
      }
      const seen = seenCommits.get(h)
      p.check(seen?.height === h && hex(seen.blockId.hash) === hash, () => `SC:${h}: ${seen?.height}`)
      p.check(seen?.signatures.length === VALIDATORS, () => `SC:${h}: signatures`)
      // C:h is block h+1's last commit, the same commit as SC:h.
      if (h < BLOCKS)
        p.check(hex(encodeCommit(commits.get(h)!)) === hex(encodeCommit(seen!)), () => `C:${h} != SC:${h}`)
      // The header's hashes point at the state store's objects.
      const setHash = validatorSetHashes.get(lastStoredHeightFor(h, validatorsLastChanged(h)))
      p.check(hex(header.validatorsHash) === setHash, () => `H:${h}: validators_hash`)
      p.check(
        hex(header.consensusHash) === paramsHashes.get(paramsLastChanged(h)),
        () => `H:${h}: consensus_hash`,
      )
      if (h > 1)
        p.check(
          hex(header.lastCommitHash) === hex(commitHash(commits.get(h - 1)!)),
          () => `H:${h}: last_commit_hash`,
        )
    }
    // Parts: every height's count was checked above; decode a sample (heights 19, 190-199, 1900-1999, 19000-19999)
    // fully and verify each proof against the part set header.
    let sampled = 0
    for await (const [key, value] of entries(db, { prefix: 'P:19' })) {
      const [, hs, is] = key.split(':')
      const h = Number(hs)
      const part = decodePart(value)
      const psh = metas.get(h)?.blockId.partSetHeader
      p.check(part.index === Number(is) && part.bytes.length === PART_SIZE, () => `${key}: index/size`)
      p.check(psh !== undefined && verifyMerkleProof(psh.hash, part.bytes, part.proof), () => `${key}: proof`)
      sampled++
    }
    expect(p.list).toEqual([])
    expect(sampled).toBe(PARTS * (1 + 10 + 100 + 1000))
  }, 600_000)
})

/** Where the set in effect at h was last changed: changes in blocks k·VAL_EVERY take effect at k·VAL_EVERY + 2. */
function validatorsLastChanged(h: number): number {
  const k = h < 3 ? 0 : Math.floor((h - 2) / VAL_EVERY)
  return k === 0 ? 1 : k * VAL_EVERY + 2
}

/** Params changes in blocks k·PARAMS_EVERY take effect at k·PARAMS_EVERY + 1. */
function paramsLastChanged(h: number): number {
  const k = h < 2 ? 0 : Math.floor((h - 1) / PARAMS_EVERY)
  return k === 0 ? 1 : k * PARAMS_EVERY + 1
}

/**
 * A completed prune of a 100,000-block goleveldb-written store (2 parts × 3,000 bytes, validator-set and params
 * changes), compared with CometBFT's own PruneBlocks + PruneStates run on goleveldb (`tool.prune`) on an identical
 * copy: goleveldb must see exactly the same keys and values (no batch skipped by its journal recovery), and
 * classic-level must read the same. Stores this size are where C++ LevelDB's background version edits cover
 * batches still in its log (cometbft.md §6).
 */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { type GoleveldbTool, goleveldbTool, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseBytes, pruneHome } from '../../src/store/index.js'
import {
  classicLevelSha256,
  type GoleveldbView,
  goleveldbHome,
  goleveldbView,
  STORE_100K,
} from './prune-fixtures.js'

const UNTIL = 90_000

let tool: GoleveldbTool
let tmp: TempDir
let expected: GoleveldbView

beforeAll(async () => {
  tool = await goleveldbTool()
  tmp = await tempDir('gf-prune-100k-')
  const ref = await goleveldbHome(tool, path.join(tmp.path, 'ref'), STORE_100K)
  const go = await tool.prune(ref.home, { untilHeight: UNTIL, states: true })
  expect(go.journalErrors).toEqual([])
  expected = await goleveldbView(tool, ref.dataDir)
  expect(expected.blocks.blockStore).toEqual({ base: UNTIL, height: STORE_100K.blocks })
}, 1_800_000)

afterAll(async () => {
  await tmp?.remove()
})

function expectSameView(seen: GoleveldbView) {
  expect(seen.blocks.journalErrors).toEqual([])
  expect(seen.states.journalErrors).toEqual([])
  expect({ ...seen.blocks, journalErrors: [] }).toEqual({ ...expected.blocks, journalErrors: [] })
  expect({ ...seen.states, journalErrors: [] }).toEqual({ ...expected.states, journalErrors: [] })
}

/** Bytes still in LevelDB logs (`NNNNNN.log`): what a node's goleveldb would have to replay. */
async function logBytes(db: string): Promise<number> {
  let total = 0
  for (const name of await readdir(db))
    if (/^\d+\.log$/.test(name)) total += (await stat(path.join(db, name))).size
  return total
}

describe('a completed prune of 100,000 goleveldb-written blocks', () => {
  it('goleveldb sees exactly what CometBFT prune on goleveldb leaves, and classic-level reads the same', async () => {
    const { home, dataDir } = await goleveldbHome(tool, path.join(tmp.path, 'home'), STORE_100K)
    const result = await pruneHome({ home, untilHeight: UNTIL })
    expect(result).toMatchObject({
      fromBase: 1,
      toBase: UNTIL,
      blocksPruned: UNTIL - 1,
      statesPruned: UNTIL - 1,
    })
    // Nothing left only in C++ LevelDB's log: the node replays nothing of ours.
    for (const db of ['blockstore.db', 'state.db']) expect(await logBytes(path.join(dataDir, db))).toBe(0)
    const seen = await goleveldbView(tool, dataDir)
    expectSameView(seen)
    for (const [db, digest] of [
      ['blockstore.db', seen.blocks],
      ['state.db', seen.states],
    ] as const) {
      expect(await classicLevelSha256(path.join(dataDir, db))).toEqual({
        keys: digest.keys,
        sha256: digest.sha256,
      })
    }
  }, 600_000)

  it('--force-compact: goleveldb reads the same, and the bytes reported are on disk when the pruner returns', async () => {
    const { home, dataDir } = await goleveldbHome(tool, path.join(tmp.path, 'compact'), STORE_100K)
    const onDisk = async () =>
      (await databaseBytes(path.join(dataDir, 'blockstore.db'))) +
      (await databaseBytes(path.join(dataDir, 'state.db')))
    const before = await onDisk()
    const result = await pruneHome({ home, untilHeight: UNTIL, forceCompact: true })
    expect(result.bytesBefore).toBe(before)
    expect(result.bytesAfter).toBe(await onDisk())
    // 10% of the blocks are left: the compaction gave the space back.
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore * 0.2)
    for (const db of ['blockstore.db', 'state.db']) expect(await logBytes(path.join(dataDir, db))).toBe(0)
    expectSameView(await goleveldbView(tool, dataDir))
  }, 600_000)
})

import { rm } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ChainStore,
  DatabaseLockedError,
  decodeBlockStoreState,
  encodeValidatorsInfo,
  type PruneProgress,
  PruneRefusedError,
  pruneBlocks,
  pruneHome,
  pruneStates,
  StoreNotFoundError,
  SyntheticChain,
  VERSION_KEY,
  validatorsKey,
} from '../../src/store/index.js'
import { chainOptions, SECOND_SET, STANDARD_CHANGES } from './chain-fixtures.js'
import { dumpDb } from './helpers.js'
import { copyHome, expectedAfterPrune, keysOf, makeHome, type Snapshot, snapshot } from './prune-fixtures.js'

let tmp: TempDir

beforeEach(async () => {
  tmp = await tempDir('gf-prune-')
})

afterEach(async () => {
  await tmp.remove()
})

function blockStoreOf(s: Snapshot) {
  return decodeBlockStoreState(Buffer.from(s.blocks.get('blockStore')!, 'hex'))
}

/** Every key that survived kept its value. */
function expectValuesUnchanged(before: Snapshot, after: Snapshot) {
  for (const [k, v] of after.blocks) if (k !== 'blockStore') expect(v, k).toBe(before.blocks.get(k))
  for (const [k, v] of after.states) expect(v, k).toBe(before.states.get(k))
}

async function rawPut(location: string, key: Buffer, value: Buffer) {
  const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.put(key, value)
  await db.close()
}

describe('pruneHome on a synthetic chain with validator and params changes', () => {
  it('leaves exactly the keys CometBFT leaves, in several batches', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 60, { changes: STANDARD_CHANGES })
    const before = await snapshot(dataDir)
    const progress: PruneProgress[] = []
    const result = await pruneHome({
      home,
      untilHeight: 30,
      batchSize: 7,
      onProgress: (p) => progress.push(p),
    })
    const after = await snapshot(dataDir)

    // Validators changed at 12 (full set there); 30 points at 12. Params changed at 21; 30 points at 21.
    const keep = { validators: [12], consensusParams: [21] }
    expect(keysOf(after)).toEqual(expectedAfterPrune(before, 1, 30, keep))
    expectValuesUnchanged(before, after)
    expect(blockStoreOf(after)).toEqual({ base: 30, height: 60 })
    expect(result).toMatchObject({
      fromBase: 1,
      toBase: 30,
      height: 60,
      blocksPruned: 29,
      statesPruned: 29,
      noop: false,
      kept: keep,
      dataDir,
    })
    expect(result.bytesBefore).toBeGreaterThan(0)
    expect(result.bytesAfter).toBeGreaterThan(0)
    expect(result.durationMs).toBeGreaterThanOrEqual(0)

    // Spelled out for the record: what remains of the block store.
    const blockKeys = [...after.blocks.keys()]
    expect(blockKeys.filter((k) => k.startsWith('H:')).length).toBe(31) // 30..60
    expect(blockKeys.filter((k) => k.startsWith('SC:')).length).toBe(31)
    expect(blockKeys.filter((k) => k.startsWith('BH:')).length).toBe(31)
    // C:h is written when h+1 is saved: C:30..C:59 remain, plus C:0 (below the original base, never pruned).
    expect(blockKeys.filter((k) => k.startsWith('C:')).sort()).toEqual(
      ['C:0', ...Array.from({ length: 30 }, (_, i) => `C:${30 + i}`)].sort(),
    )
    expect(after.states.has('validatorsKey:29')).toBe(false)
    expect(after.states.has('validatorsKey:12')).toBe(true)
    expect(after.states.has('consensusParamsKey:21')).toBe(true)
    expect(after.states.has('abciResponsesKey:29')).toBe(false)
    expect(after.states.has('abciResponsesKey:30')).toBe(true)
    expect(after.states.get('stateKey')).toBe(before.states.get('stateKey'))

    // 29 heights in batches of 7: 5 state batches and 5 block batches, the last one reaching 29.
    expect(progress.filter((p) => p.phase === 'blocks').map((p) => p.done)).toEqual([7, 14, 21, 28, 29])
    expect(progress.filter((p) => p.phase === 'states').map((p) => p.done)).toEqual([7, 14, 21, 28, 29])
    expect(progress.every((p) => p.total === 29)).toBe(true)

    // The pruned node still serves every height ≥ 30 and keeps growing.
    const store = await ChainStore.open(dataDir)
    try {
      expect([store.base(), store.height()]).toEqual([30, 60])
      expect(await store.loadBlock(29)).toBeNull()
      expect((await store.loadBlock(30))!.block.header.height).toBe(30)
      for (let h = 30; h <= 62; h++) expect(await store.loadValidators(h), `validators ${h}`).not.toBeNull()
      for (let h = 30; h <= 61; h++) expect(await store.loadConsensusParams(h), `params ${h}`).not.toBeNull()
      const chain = await SyntheticChain.resume(store, chainOptions())
      await store.appendBlocks(chain.take(3))
      expect(store.height()).toBe(63)
    } finally {
      await store.close()
    }
  })

  it('is a no-op when re-run with the same height, and prunes further on a higher one', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 60, { changes: STANDARD_CHANGES })
    const original = await snapshot(dataDir)
    await pruneHome({ home, untilHeight: 30 })
    const once = await snapshot(dataDir)
    const again = await pruneHome({ home, untilHeight: 30 })
    expect(again).toMatchObject({ noop: true, fromBase: 30, toBase: 30, blocksPruned: 0, statesPruned: 0 })
    expect(await snapshot(dataDir)).toEqual(once)

    const further = await pruneHome({ home, untilHeight: 50, batchSize: 6 })
    expect(further).toMatchObject({
      fromBase: 30,
      toBase: 50,
      blocksPruned: 20,
      kept: { validators: [42], consensusParams: [] },
    })
    const after = await snapshot(dataDir)
    // validatorsKey:12 and consensusParamsKey:21 were kept by the first prune and are below this run's base: they
    // stay behind, exactly as with CometBFT ("some old states are left behind").
    const expected = expectedAfterPrune(original, 1, 50, { validators: [12, 42], consensusParams: [21] })
    expect(keysOf(after)).toEqual(expected)
    expectValuesUnchanged(original, after)
  })

  it('prunes up to the latest height, keeping only the top block', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 25, { changes: STANDARD_CHANGES })
    const before = await snapshot(dataDir)
    const result = await pruneHome({ home, untilHeight: 25 })
    const after = await snapshot(dataDir)
    expect(result.blocksPruned).toBe(24)
    expect(keysOf(after)).toEqual(
      expectedAfterPrune(before, 1, 25, { validators: [12], consensusParams: [21] }),
    )
    expect([...after.blocks.keys()].filter((k) => k.startsWith('H:'))).toEqual(['H:25'])
    expect([...after.blocks.keys()].filter((k) => k.startsWith('C:'))).toEqual(['C:0'])
    expect(blockStoreOf(after)).toEqual({ base: 25, height: 25 })
  })

  it('keeps the checkpoint and the last change that a pointer leads to', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 40, {
      chain: { initialHeight: 99_990 },
    })
    const before = await snapshot(dataDir)
    const result = await pruneHome({ home, untilHeight: 100_020, batchSize: 8 })
    // validatorsKey:100020 → {lhc 99990}: lastStoredHeightFor(100020, 99990) = 100000 (checkpoint) and 99990 kept.
    expect(result.kept).toEqual({ validators: [99_990, 100_000], consensusParams: [99_990] })
    expect(keysOf(await snapshot(dataDir))).toEqual(
      expectedAfterPrune(before, 99_990, 100_020, {
        validators: [99_990, 100_000],
        consensusParams: [99_990],
      }),
    )
  })

  it('keeps the target of a kept height that holds only a pointer (instead of materialising it)', async () => {
    const changes = { 99991: { validatorSetUpdate: SECOND_SET } } // lhc 99993
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 40, {
      chain: { initialHeight: 99_990 },
      changes,
    })
    // An odd history (e.g. a partial prune elsewhere): the entry at the change height lost its full set.
    await rawPut(
      path.join(dataDir, 'state.db'),
      validatorsKey(99_993),
      Buffer.from(encodeValidatorsInfo({ validatorSet: null, lastHeightChanged: 99_990 })),
    )
    const before = await snapshot(dataDir)
    const result = await pruneHome({ home, untilHeight: 100_020 })
    // 100020 → lhc 99993 and checkpoint 100000; 99993 is a pointer → 99990 is kept as well.
    expect(result.kept.validators).toEqual([99_990, 99_993, 100_000])
    const after = await snapshot(dataDir)
    expect(keysOf(after)).toEqual(
      expectedAfterPrune(before, 99_990, 100_020, {
        validators: [99_990, 99_993, 100_000],
        consensusParams: [99_990],
      }),
    )
  })

  it('can leave state.db alone', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 30, { changes: STANDARD_CHANGES })
    const before = await snapshot(dataDir)
    const result = await pruneHome({ home, untilHeight: 20, statePruning: false })
    const after = await snapshot(dataDir)
    expect(result.statesPruned).toBe(0)
    expect(after.states).toEqual(before.states)
    expect(keysOf(after)).toEqual(
      expectedAfterPrune(before, 1, 20, { validators: [], consensusParams: [] }, { statePruning: false }),
    )
  })

  it('compacts on request, and reports sizes', async () => {
    const { home } = await makeHome(path.join(tmp.path, 'home'), 400, { chain: { txCount: 10, txSize: 500 } })
    const phases: string[] = []
    const result = await pruneHome({
      home,
      untilHeight: 380,
      forceCompact: true,
      onProgress: (p) => phases.push(p.phase),
    })
    expect(phases.slice(-3)).toEqual(['compact', 'compact', 'compact'])
    expect(result.bytesBefore).toBeGreaterThan(1_000_000)
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore / 4)
  })
})

describe('pruneHome refuses, changing nothing', () => {
  let home: string
  let dataDir: string
  let before: Snapshot

  beforeEach(async () => {
    ;({ home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 40, { changes: STANDARD_CHANGES }))
    before = await snapshot(dataDir)
  })

  async function expectRefusal(
    promise: Promise<unknown>,
    error: new (...args: never[]) => Error,
    message: RegExp | string,
  ) {
    const err = await promise.then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(error)
    expect((err as Error).message).toMatch(message)
    expect(await snapshot(dataDir)).toEqual(before)
  }

  it('heights CometBFT refuses, with its messages', async () => {
    await expectRefusal(
      pruneHome({ home, untilHeight: 0 }),
      PruneRefusedError,
      /^height must be greater than 0$/,
    )
    await expectRefusal(
      pruneHome({ home, untilHeight: -3 }),
      PruneRefusedError,
      /^height must be greater than 0$/,
    )
    await expectRefusal(
      pruneHome({ home, untilHeight: 41 }),
      PruneRefusedError,
      /^cannot prune beyond the latest height 40$/,
    )
    await pruneHome({ home, untilHeight: 20 })
    before = await snapshot(dataDir)
    await expectRefusal(
      pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      /^cannot prune to height 10, it is lower than base height 20$/,
    )
    await expectRefusal(
      pruneHome({ home, untilHeight: 2.5 }),
      PruneRefusedError,
      /invalid prune options: untilHeight/,
    )
  })

  it('the v2 key layout', async () => {
    await rawPut(path.join(dataDir, 'blockstore.db'), VERSION_KEY, Buffer.from('v2'))
    before = await snapshot(dataDir)
    await expectRefusal(
      pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      /"v2" \(orderedcode\) key layout/,
    )
  })

  it('accepts an explicit v1 layout', async () => {
    await rawPut(path.join(dataDir, 'blockstore.db'), VERSION_KEY, Buffer.from('v1'))
    expect((await pruneHome({ home, untilHeight: 10 })).toBase).toBe(10)
  })

  it('a non-goleveldb backend and broken config files', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises')
    await mkdir(path.join(home, 'config'))
    await writeFile(path.join(home, 'config', 'config.toml'), 'db_backend = "rocksdb"\ndb_dir = "data"\n')
    await expectRefusal(pruneHome({ home, untilHeight: 10 }), PruneRefusedError, /db_backend = "rocksdb"/)
    await writeFile(path.join(home, 'config', 'config.toml'), 'db_backend = goleveldb\n')
    await expectRefusal(pruneHome({ home, untilHeight: 10 }), PruneRefusedError, /not valid TOML/)
    await writeFile(path.join(home, 'config', 'config.toml'), 'db_dir = 5\n')
    await expectRefusal(pruneHome({ home, untilHeight: 10 }), PruneRefusedError, /db_dir/)
  })

  it('missing databases', async () => {
    await rm(path.join(dataDir, 'state.db'), { recursive: true })
    const err = await pruneHome({ home, untilHeight: 10 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreNotFoundError)
    expect((err as Error).message).toContain(path.join(dataDir, 'state.db'))
    const blocks = await dumpDb(path.join(dataDir, 'blockstore.db'))
    expect(new Map([...blocks].map(([k, v]) => [k, v.toString('hex')]))).toEqual(before.blocks)
    const noHome = await pruneHome({ home: path.join(tmp.path, 'nothing'), untilHeight: 10 }).catch(
      (e: unknown) => e,
    )
    expect(noHome).toBeInstanceOf(StoreNotFoundError)
  })

  it('databases held open by this very process (fcntl)', async () => {
    const store = await ChainStore.open(dataDir, { readOnly: true })
    try {
      const err = await pruneHome({ home, untilHeight: 10 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DatabaseLockedError)
      expect((err as Error).message).toMatch(/locked by another process \(fcntl\)/)
    } finally {
      await store.close()
    }
    expect(await snapshot(dataDir)).toEqual(before)
  })
})

describe('pruneBlocks / pruneStates on open databases', () => {
  it('match pruneHome and refuse what CometBFT refuses', async () => {
    const { home, dataDir } = await makeHome(path.join(tmp.path, 'home'), 50, { changes: STANDARD_CHANGES })
    const refHome = path.join(tmp.path, 'ref')
    await copyHome(home, refHome)
    await pruneHome({ home: refHome, untilHeight: 33 })
    const open = (db: string) =>
      new ClassicLevel<Buffer, Buffer>(path.join(dataDir, db), {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
      })
    const blockDb = open('blockstore.db')
    const stateDb = open('state.db')
    try {
      const batches: number[] = []
      expect(await pruneBlocks(blockDb, 33, { batchSize: 10, onBatch: (done) => batches.push(done) })).toBe(
        32,
      )
      expect(batches).toEqual([10, 20, 30, 32])
      expect(await pruneStates(stateDb, 1, 33)).toBe(32)
      await expect(pruneStates(stateDb, 33, 33)).rejects.toThrow(
        'from height 33 must be lower than to height 33',
      )
      await expect(pruneStates(stateDb, 0, 33)).rejects.toThrow(
        'from height 0 and to height 33 must be greater than 0',
      )
      await expect(pruneStates(stateDb, 1, 60)).rejects.toThrow('validators at height 60 not found')
      await expect(pruneBlocks(blockDb, 20)).rejects.toThrow(
        'cannot prune to height 20, it is lower than base height 33',
      )
    } finally {
      await blockDb.close()
      await stateDb.close()
    }
    expect(await snapshot(dataDir)).toEqual(await snapshot(path.join(refHome, 'data')))
  })
})

describe('pruneHome honours db_dir', () => {
  it('relative and absolute', async () => {
    const { dataDir } = await makeHome(path.join(tmp.path, 'src'), 20)
    const home = path.join(tmp.path, 'home')
    await copyHome(dataDir, path.join(home, 'chaindata'))
    const { writeFile, mkdir } = await import('node:fs/promises')
    await mkdir(path.join(home, 'config'))
    await writeFile(
      path.join(home, 'config', 'config.toml'),
      'moniker = "x"\ndb_backend = "goleveldb"\ndb_dir = "chaindata"\n[p2p]\nseeds = ""\n',
    )
    expect((await pruneHome({ home, untilHeight: 5 })).dataDir).toBe(path.join(home, 'chaindata'))
    await writeFile(path.join(home, 'config', 'config.toml'), `db_dir = "${dataDir}"\n`)
    const result = await pruneHome({ home, untilHeight: 7 })
    expect(result.dataDir).toBe(dataDir)
    expect(result.fromBase).toBe(1)
  })
})

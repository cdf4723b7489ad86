/**
 * The offline pruner on goleveldb-written homes (the kit's `generateHome`): what goleveldb sees afterwards, compared
 * with CometBFT's own PruneBlocks/PruneStates run on goleveldb (`tool.prune`) on an identical copy; the refusals,
 * each with every file byte-identical afterwards.
 */
import { spawn } from 'node:child_process'
import { open, rm, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, type GoleveldbTool, goleveldbTool, type TempDir, tempDir } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DatabaseLockedError,
  databaseBytes,
  decodeBlockMetaIds,
  decodeBlockStoreState,
  encodeValidatorsInfo,
  type PruneProgress,
  PruneRefusedError,
  pruneBlocks,
  pruneHome,
  pruneStates,
  StoreNotFoundError,
  VERSION_KEY,
  validatorsKey,
} from '../../src/store/index.js'
import {
  classicLevelSha256,
  expectedAfterPrune,
  fileHashes,
  type GoleveldbHomeSpec,
  goleveldbHome,
  goleveldbSnapshot,
  goleveldbView,
  keysOf,
  type Snapshot,
} from './prune-fixtures.js'

/** Small but with everything the pruner must handle: several validator-set and params changes, two parts. */
const SMALL: GoleveldbHomeSpec = {
  chainId: 'gf-prune-small',
  blocks: 300,
  partsPerBlock: 2,
  partSize: 400,
  validatorChangeEvery: 40,
  paramsChangeEvery: 70,
  abciResponseSize: 200,
  seed: 5,
}

let tool: GoleveldbTool
let tmp: TempDir

beforeAll(async () => {
  tool = await goleveldbTool()
}, 300_000)

beforeEach(async () => {
  tmp = await tempDir('gf-prune-')
})

afterEach(async () => {
  await tmp.remove()
})

async function smallHome(name: string) {
  return await goleveldbHome(tool, path.join(tmp.path, name), SMALL)
}

function blockStoreOf(s: Snapshot) {
  return decodeBlockStoreState(Buffer.from(s.blocks.get('blockStore') as string, 'hex'))
}

async function expectGoleveldbSeesTheSame(dataDirA: string, dataDirB: string) {
  const a = await goleveldbView(tool, dataDirA)
  const b = await goleveldbView(tool, dataDirB)
  expect(a.blocks.journalErrors).toEqual([])
  expect(a.states.journalErrors).toEqual([])
  expect({ ...a.blocks, journalErrors: [] }).toEqual({ ...b.blocks, journalErrors: [] })
  expect({ ...a.states, journalErrors: [] }).toEqual({ ...b.states, journalErrors: [] })
  return a
}

describe('pruneHome on a goleveldb-written home', () => {
  it('leaves what CometBFT PruneBlocks + PruneStates on goleveldb leave, as goleveldb and classic-level read it', async () => {
    const { home, dataDir } = await smallHome('home')
    const ref = await smallHome('ref')
    const go = await tool.prune(ref.home, { untilHeight: 250, states: true })
    expect(go.journalErrors).toEqual([])

    const progress: PruneProgress[] = []
    const result = await pruneHome({
      home,
      untilHeight: 250,
      batchSize: 7,
      onProgress: (p) => progress.push(p),
    })
    expect(result).toMatchObject({
      fromBase: 1,
      toBase: 250,
      height: 300,
      blocksPruned: 249,
      statesPruned: 249,
      noop: false,
      dataDir,
    })
    expect(go.blocksPruned).toBe(249)
    const seen = await expectGoleveldbSeesTheSame(dataDir, ref.dataDir)
    expect(seen.blocks.blockStore).toEqual({ base: 250, height: 300 })
    expect(seen.blocks.prefixes['H:']).toBe(51)
    // classic-level reads exactly what goleveldb reads.
    for (const db of ['blockstore.db', 'state.db']) {
      const cl = await classicLevelSha256(path.join(dataDir, db))
      const gl = db === 'state.db' ? seen.states : seen.blocks
      expect(cl).toEqual({ keys: gl.keys, sha256: gl.sha256 })
    }
    // Blocks in batches of 7 heights, then the flush of blockstore.db, then the states, then the flush of state.db.
    const phases = progress.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1])
    expect(phases).toEqual(['blocks', 'flush', 'states', 'flush'])
    expect(progress.filter((p) => p.phase === 'blocks').map((p) => p.done)).toEqual(
      Array.from({ length: 36 }, (_, i) => Math.min((i + 1) * 7, 249)),
    )
  })

  it('blocks only: state.db is left alone and the block store equals PruneBlocks on goleveldb', async () => {
    const { home, dataDir } = await smallHome('home')
    const ref = await smallHome('ref')
    await tool.prune(ref.home, { untilHeight: 120, states: false })
    const statesBefore = await tool.digest(path.join(dataDir, 'state.db'))
    const result = await pruneHome({ home, untilHeight: 120, statePruning: false })
    expect(result).toMatchObject({ blocksPruned: 119, statesPruned: 0 })
    await expectGoleveldbSeesTheSame(dataDir, ref.dataDir)
    expect(await tool.digest(path.join(dataDir, 'state.db'))).toEqual(statesBefore)
  })

  it('up to the latest height keeps only the top block', async () => {
    const { home, dataDir } = await smallHome('home')
    const ref = await smallHome('ref')
    await tool.prune(ref.home, { untilHeight: 300, states: true })
    expect((await pruneHome({ home, untilHeight: 300 })).blocksPruned).toBe(299)
    const seen = await expectGoleveldbSeesTheSame(dataDir, ref.dataDir)
    expect(seen.blocks.prefixes['H:']).toBe(1)
  })

  it('a second prune also deletes what the first kept and no height at or above the new height needs (unlike CometBFT)', async () => {
    const { home, dataDir } = await smallHome('home')
    const original = await goleveldbSnapshot(tool, dataDir, tmp.path)
    const first = await pruneHome({ home, untilHeight: 150 })
    const second = await pruneHome({ home, untilHeight: 250, batchSize: 6 })
    expect(second).toMatchObject({ fromBase: 150, toBase: 250, blocksPruned: 100 })
    const after = await goleveldbSnapshot(tool, dataDir, tmp.path)
    // The first prune's keep sets are below 150; the scan removes them now that only 250's keep sets matter.
    expect(first.kept.validators.some((h) => !second.kept.validators.includes(h))).toBe(true)
    expect(keysOf(after)).toEqual(expectedAfterPrune(original, 1, 250, second.kept))
    expect(blockStoreOf(after)).toEqual({ base: 250, height: 300 })
    // The same store pruned once to 250 by CometBFT on goleveldb: identical.
    const ref = await smallHome('ref')
    await tool.prune(ref.home, { untilHeight: 250, states: true })
    await expectGoleveldbSeesTheSame(dataDir, ref.dataDir)
  })

  it('a run with base already at the height still deletes what is left below it, and is a no-op after that', async () => {
    const { home, dataDir } = await smallHome('home')
    const source = await smallHome('source')
    await pruneHome({ home, untilHeight: 200 })
    const done = await goleveldbView(tool, dataDir)
    // Leftovers as a killed run can leave them (goleveldb dropped the batch that deleted them): height 77 whole.
    const blocks = path.join(dataDir, 'blockstore.db')
    const states = path.join(dataDir, 'state.db')
    const meta = (await tool.get(path.join(source.dataDir, 'blockstore.db'), 'H:77')) as Buffer
    for (const k of ['H:77', 'P:77:0', 'P:77:1', 'C:77', 'SC:77']) {
      await tool.put(blocks, k, (await tool.get(path.join(source.dataDir, 'blockstore.db'), k)) as Buffer)
    }
    const hashKey = `BH:${Buffer.from(decodeBlockMetaIds(meta).hash).toString('hex')}`
    await tool.put(blocks, hashKey, Buffer.from('77'))
    for (const k of ['validatorsKey:77', 'consensusParamsKey:77', 'abciResponsesKey:77']) {
      await tool.put(states, k, (await tool.get(path.join(source.dataDir, 'state.db'), k)) as Buffer)
    }
    const again = await pruneHome({ home, untilHeight: 200 })
    expect(again).toMatchObject({ fromBase: 200, toBase: 200, blocksPruned: 1, statesPruned: 1, noop: false })
    const after = await goleveldbView(tool, dataDir)
    expect(after.blocks.sha256).toBe(done.blocks.sha256)
    expect(after.states.sha256).toBe(done.states.sha256)
    expect(await pruneHome({ home, untilHeight: 200 })).toMatchObject({ noop: true, blocksPruned: 0 })
  })

  it('keeps the target of a kept height that holds only a pointer (instead of materialising it)', async () => {
    const { home, dataDir } = await smallHome('home')
    const states = path.join(dataDir, 'state.db')
    // The first prune's keep set at 250 is the last validator change height; turn it into a pointer to 121 (an
    // odd history, e.g. a partial prune elsewhere): then 121 must be kept as well.
    const probe = await smallHome('probe')
    const keep = (await pruneHome({ home: probe.home, untilHeight: 250 })).kept.validators
    const lhc = keep[keep.length - 1] as number
    await tool.put(
      states,
      validatorsKey(lhc),
      Buffer.from(encodeValidatorsInfo({ validatorSet: null, lastHeightChanged: 121 })),
    )
    const before = await goleveldbSnapshot(tool, dataDir, tmp.path)
    const result = await pruneHome({ home, untilHeight: 250 })
    expect(result.kept.validators).toEqual(expect.arrayContaining([121, lhc]))
    const after = await goleveldbSnapshot(tool, dataDir, tmp.path)
    expect(after.states.has('validatorsKey:121')).toBe(true)
    expect(keysOf(after)).toEqual(expectedAfterPrune(before, 1, 250, result.kept))
  })

  it('reads block metas of any protobuf shape as the reference decoder does (field order, a repeated field)', async () => {
    const { home, dataDir } = await smallHome('home')
    const blocks = path.join(dataDir, 'blockstore.db')
    const hashKey = (hash: Uint8Array) => `BH:${Buffer.from(hash).toString('hex')}`
    // H:10 with the header before block_id: the same ids.
    const meta10 = (await tool.get(blocks, 'H:10')) as Buffer
    const idEnd = 2 + (meta10[1] as number)
    expect(meta10[0]).toBe(0x0a)
    expect((meta10[1] as number) < 0x80).toBe(true)
    const reordered = Buffer.concat([meta10.subarray(idEnd), meta10.subarray(0, idEnd)])
    expect(decodeBlockMetaIds(reordered)).toEqual(decodeBlockMetaIds(meta10))
    await tool.put(blocks, 'H:10', reordered)
    // H:20 with a second block_id after the header: protobuf's last occurrence wins, here another hash.
    const meta20 = (await tool.get(blocks, 'H:20')) as Buffer
    const other = Buffer.alloc(32, 0xab)
    const repeated = Buffer.concat([
      meta20,
      Buffer.from([0x0a, 38, 0x0a, 32]),
      other,
      Buffer.from([0x12, 2, 0x08, 2]),
    ])
    expect(Buffer.from(decodeBlockMetaIds(repeated).hash)).toEqual(other)
    await tool.put(blocks, 'H:20', repeated)
    await tool.put(blocks, hashKey(other), Buffer.from('20'))

    await pruneHome({ home, untilHeight: 100, statePruning: false })
    const after = await goleveldbSnapshot(tool, dataDir, tmp.path)
    expect(after.blocks.has('H:10')).toBe(false)
    expect(after.blocks.has(hashKey(decodeBlockMetaIds(meta10).hash))).toBe(false)
    expect(after.blocks.has('H:20')).toBe(false)
    expect(after.blocks.has(hashKey(other))).toBe(false)
    // The hash the meta no longer names is not the pruner's to find (CometBFT would leave it too).
    expect(after.blocks.has(hashKey(decodeBlockMetaIds(meta20).hash))).toBe(true)
  })

  it('--force-compact: goleveldb reads the same, and the bytes reported are what is on disk after closing', async () => {
    const { home, dataDir } = await smallHome('home')
    const plain = await smallHome('plain')
    await pruneHome({ home: plain.home, untilHeight: 280 })
    const phases: string[] = []
    const bytesOnDisk = async () =>
      (await databaseBytes(path.join(dataDir, 'blockstore.db'))) +
      (await databaseBytes(path.join(dataDir, 'state.db')))
    const before = await bytesOnDisk()
    const result = await pruneHome({
      home,
      untilHeight: 280,
      forceCompact: true,
      onProgress: (p) => phases.push(p.phase),
    })
    expect(phases.slice(-3)).toEqual(['compact', 'compact', 'compact'])
    expect(result.bytesBefore).toBe(before)
    expect(result.bytesAfter).toBe(await bytesOnDisk())
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore / 3)
    await expectGoleveldbSeesTheSame(dataDir, plain.dataDir)
  })
})

describe('pruneHome refuses, changing no file', () => {
  let home: string
  let dataDir: string

  beforeEach(async () => {
    ;({ home, dataDir } = await smallHome('home'))
  })

  async function expectRefusal(
    run: () => Promise<unknown>,
    error: new (...args: never[]) => Error,
    message: RegExp | string,
  ) {
    const before = await fileHashes(home)
    const err = await run().then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(error)
    expect((err as Error).message).toMatch(message)
    expect(await fileHashes(home)).toEqual(before)
  }

  it('heights CometBFT refuses, with its messages', async () => {
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 0 }),
      PruneRefusedError,
      /^height must be greater than 0$/,
    )
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 301 }),
      PruneRefusedError,
      /^cannot prune beyond the latest height 300$/,
    )
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 2.5 }),
      PruneRefusedError,
      /invalid prune options: untilHeight/,
    )
    await pruneHome({ home, untilHeight: 200 })
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 100 }),
      PruneRefusedError,
      /^cannot prune to height 100, it is lower than base height 200$/,
    )
  })

  it('the v2 key layout, in either database', async () => {
    await tool.put(path.join(dataDir, 'blockstore.db'), VERSION_KEY, Buffer.from('v2'))
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      /blockstore\.db uses CometBFT's "v2" \(orderedcode\) key layout/,
    )
    await tool.put(path.join(dataDir, 'blockstore.db'), VERSION_KEY, Buffer.from('v1'))
    await tool.put(path.join(dataDir, 'state.db'), VERSION_KEY, Buffer.from('v2'))
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      /state\.db uses CometBFT's "v2" \(orderedcode\) key layout/,
    )
  })

  it('pebbledb and rocksdb backends, by name', async () => {
    for (const backend of ['pebbledb', 'rocksdb']) {
      await writeFile(
        path.join(home, 'config', 'config.toml'),
        `db_backend = "${backend}"\ndb_dir = "data"\n`,
      )
      await expectRefusal(
        () => pruneHome({ home, untilHeight: 10 }),
        PruneRefusedError,
        new RegExp(`db_backend = "${backend}"; only goleveldb databases can be pruned`),
      )
    }
  })

  it('a missing MANIFEST', async () => {
    const { readFile } = await import('node:fs/promises')
    const manifest = (await readFile(path.join(dataDir, 'state.db', 'CURRENT'), 'latin1')).trim()
    await unlink(path.join(dataDir, 'state.db', manifest))
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      new RegExp(`state\\.db/${manifest} \\(named by CURRENT\\) is missing`),
    )
  })

  it('a corrupt table file', async () => {
    const { readdir } = await import('node:fs/promises')
    const db = path.join(dataDir, 'blockstore.db')
    await tool.compact(db) // a small store may still be all in goleveldb's journal: write tables
    const table = (await readdir(db)).filter((f) => f.endsWith('.ldb')).sort()[0] as string
    // Overwrite the end of the table (its footer) as a torn copy or a bad sector would.
    const file = await open(path.join(db, table), 'r+')
    const { size } = await file.stat()
    await file.write(Buffer.alloc(16, 0xab), 0, 16, size - 16)
    await file.close()
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 10 }),
      PruneRefusedError,
      new RegExp(`${table} is not a valid LevelDB table \\(bad table magic number`),
    )
  })

  it('a database held open by a goleveldb process (the node)', async () => {
    const holder = spawn(tool.binary, ['hold', '--db', path.join(dataDir, 'state.db')], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let stderr = ''
    holder.stderr.on('data', (c: Buffer) => {
      stderr += c.toString()
    })
    try {
      await eventually(() => expect(stderr).toContain('holding'), { description: 'goleveldb holds state.db' })
      await expectRefusal(
        () => pruneHome({ home, untilHeight: 10 }),
        DatabaseLockedError,
        /state\.db\/LOCK is flock\(\)ed by another process: stop the node before pruning/,
      )
    } finally {
      holder.stdin.end()
      await new Promise((resolve) => holder.once('exit', resolve))
    }
  })

  it('a database held open by C++ LevelDB in this process (fcntl)', async () => {
    const before = await goleveldbView(tool, dataDir)
    const db = new ClassicLevel(path.join(dataDir, 'blockstore.db'), { createIfMissing: false })
    await db.open()
    try {
      const files = await fileHashes(home)
      const err = await pruneHome({ home, untilHeight: 10 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DatabaseLockedError)
      expect((err as Error).message).toMatch(/blockstore\.db is locked by another process \(fcntl\)/)
      // Our own open of blockstore.db (the fcntl lock) failed before touching a file; state.db was not opened.
      expect(await fileHashes(path.join(dataDir, 'state.db'))).toEqual(
        new Map([...files].filter(([k]) => k.startsWith('data/state.db/')).map(([k, v]) => [k.slice(14), v])),
      )
    } finally {
      await db.close()
    }
    expect((await goleveldbView(tool, dataDir)).blocks.sha256).toBe(before.blocks.sha256)
  })

  it('missing databases', async () => {
    await rm(path.join(dataDir, 'state.db'), { recursive: true })
    await expectRefusal(
      () => pruneHome({ home, untilHeight: 10 }),
      StoreNotFoundError,
      `no LevelDB database at ${path.join(dataDir, 'state.db')} (CURRENT missing)`,
    )
    const noHome = await pruneHome({ home: path.join(tmp.path, 'nothing'), untilHeight: 10 }).catch(
      (e: unknown) => e,
    )
    expect(noHome).toBeInstanceOf(StoreNotFoundError)
  })
})

describe('pruneBlocks / pruneStates on open databases', () => {
  it('leave what pruneHome leaves', async () => {
    const { dataDir } = await smallHome('home')
    const ref = await smallHome('ref')
    await pruneHome({ home: ref.home, untilHeight: 133 })
    const openDb = async (db: string) => {
      const d = new ClassicLevel<Buffer, Buffer>(path.join(dataDir, db), {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
      })
      await d.open()
      return d
    }
    const blockDb = await openDb('blockstore.db')
    const stateDb = await openDb('state.db')
    try {
      const batches: number[] = []
      expect(await pruneBlocks(blockDb, 133, { batchSize: 50, onBatch: (done) => batches.push(done) })).toBe(
        132,
      )
      expect(batches).toEqual([50, 100, 132])
      expect(await pruneStates(stateDb, 133)).toBe(132)
      await expect(pruneStates(stateDb, 400)).rejects.toThrow('validators at height 400 not found')
      await expect(pruneBlocks(blockDb, 20)).rejects.toThrow(
        'cannot prune to height 20, it is lower than base height 133',
      )
    } finally {
      await blockDb.close()
      await stateDb.close()
    }
    await expectGoleveldbSeesTheSame(dataDir, ref.dataDir)
  })
})

describe('pruneHome honours db_dir', () => {
  it('relative and absolute', async () => {
    const { dataDir } = await smallHome('src')
    const home = path.join(tmp.path, 'home')
    const { cp, mkdir } = await import('node:fs/promises')
    await cp(dataDir, path.join(home, 'chaindata'), { recursive: true })
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

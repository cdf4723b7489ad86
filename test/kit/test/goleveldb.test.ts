import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildGoleveldbBinary,
  type GoleveldbTool,
  GoleveldbToolError,
  goleveldbTool,
  requireGoleveldb,
} from '../src/goleveldb.js'
import { runProcess } from '../src/process.js'
import { type TempDir, tempDir } from '../src/temp.js'

// The kit's own behaviour. Decoding generated records with Ghostfleet's CometBFT decoders, and reproducing the
// C++-log-vs-goleveldb-replay problem, live in packages/cometbft/test/store/goleveldb-*.test.ts (the cometbft
// package depends on this kit, so this kit cannot depend on it).

let tmp: TempDir
let gl: GoleveldbTool

beforeAll(async () => {
  requireGoleveldb()
  gl = await goleveldbTool()
  tmp = await tempDir('gf-goleveldb-kit-')
}, 180_000)

afterAll(async () => {
  await tmp?.remove()
})

function stores(home: string) {
  return { blocks: path.join(home, 'data', 'blockstore.db'), state: path.join(home, 'data', 'state.db') }
}

// Generous timeouts: the CI machine is shared, and generation and goleveldb opens are real disk work.
const SLOW = { timeout: 300_000 }

describe('goleveldb kit: build', SLOW, () => {
  it('concurrent builds into one cache directory all succeed and leave one binary', async () => {
    const root = path.join(tmp.path, 'cache')
    const built = await Promise.all([1, 2, 3].map(() => buildGoleveldbBinary(root)))
    expect(new Set(built).size).toBe(1)
    const dir = path.dirname(built[0]!)
    expect(await readdir(dir)).toEqual(['gf-goleveldb'])
    // It runs: without a subcommand it prints its usage and exits 2.
    const r = await runProcess(built[0]!, [])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/usage: gf-goleveldb <command>/)
    // A second call finds the cached binary.
    expect(await buildGoleveldbBinary(root)).toBe(built[0])
  })
})

describe('goleveldb kit: generateHome', SLOW, () => {
  it('writes both stores and a goleveldb config.toml', async () => {
    const home = path.join(tmp.path, 'gen')
    const r = await gl.generateHome({ home, chainId: 'kit-1', blocks: 300 })
    expect(r).toMatchObject({ blocks: 300, base: 1, height: 300 })
    expect(r.bytes).toBeGreaterThan(300 * 2 * 3000)
    const toml = await readFile(path.join(home, 'config', 'config.toml'), 'utf8')
    expect(toml).toMatch(/^db_backend = "goleveldb"$/m)
    expect(toml).toMatch(/^db_dir = "data"$/m)
    const d = await gl.digest(stores(home).blocks)
    expect(d.blockStore).toEqual({ base: 1, height: 300 })
    // C:0 is block 1's empty last commit, as CometBFT writes it.
    expect(d.prefixes).toEqual({ 'H:': 300, 'P:': 600, 'C:': 300, 'SC:': 300, 'BH:': 300, blockStore: 1 })
    expect(d.journalErrors).toEqual([])
    const s = await gl.digest(stores(home).state)
    expect(s.prefixes).toEqual({
      'validatorsKey:': 302,
      'consensusParamsKey:': 301,
      'abciResponsesKey:': 300,
      genesisDoc: 1,
      lastABCIResponseKey: 1,
      stateKey: 1,
    })
  })

  it('is deterministic for a seed and differs across seeds', async () => {
    const a = path.join(tmp.path, 'seed-a')
    const b = path.join(tmp.path, 'seed-b')
    const c = path.join(tmp.path, 'seed-c')
    await gl.generateHome({ home: a, chainId: 'kit-1', blocks: 50, seed: 7 })
    await gl.generateHome({ home: b, chainId: 'kit-1', blocks: 50, seed: 7 })
    await gl.generateHome({ home: c, chainId: 'kit-1', blocks: 50, seed: 8 })
    const [da, db, dc] = await Promise.all([a, b, c].map((h) => gl.digest(stores(h).blocks)))
    expect(da?.sha256).toBe(db?.sha256)
    expect(dc?.sha256).not.toBe(da?.sha256)
  })

  it('refuses to overwrite an existing store and rejects bad options', async () => {
    const home = path.join(tmp.path, 'gen')
    await expect(gl.generateHome({ home, chainId: 'kit-1', blocks: 10 })).rejects.toThrow(
      /already holds a store/,
    )
    await expect(
      gl.generateHome({ home: path.join(tmp.path, 'x'), chainId: 'kit-1', blocks: 0 }),
    ).rejects.toThrow()
  })

  it('closeCleanly: false leaves the last writes in the journal, and goleveldb recovers them without errors', async () => {
    const home = path.join(tmp.path, 'no-close')
    await gl.generateHome({ home, chainId: 'kit-1', blocks: 1500, closeCleanly: false })
    // The process exited without Close: the newest batches exist only in the journal (*.log).
    const logs = (await readdir(stores(home).blocks)).filter((f) => f.endsWith('.log'))
    const logBytes = await Promise.all(
      logs.map(async (f) => (await stat(path.join(stores(home).blocks, f))).size),
    )
    expect(logBytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(100_000)
    expect(await gl.open(stores(home).blocks)).toEqual({ journalErrors: [] })
    const d = await gl.digest(stores(home).blocks)
    expect(d.blockStore).toEqual({ base: 1, height: 1500 })
    expect(d.prefixes['H:']).toBe(1500)
    expect(d.prefixes['P:']).toBe(3000)
    expect(d.journalErrors).toEqual([])
    const s = await gl.digest(stores(home).state)
    expect(s.prefixes['abciResponsesKey:']).toBe(1500)
  })
})

describe('goleveldb kit: reading and editing', SLOW, () => {
  let home: string
  beforeAll(async () => {
    home = path.join(tmp.path, 'kv')
    await gl.generateHome({ home, chainId: 'kit-1', blocks: 20 })
  }, 300_000)

  it('get, put and del round trip (string and binary keys)', async () => {
    const db = stores(home).blocks
    expect(await gl.get(db, 'BH:nothing')).toBeUndefined()
    expect((await gl.get(db, 'blockStore'))?.toString('hex')).toBe('0801' + '1014')
    const value = Buffer.from([0, 1, 2, 255, 10, 13])
    await gl.put(db, 'kit:test', value)
    expect(await gl.get(db, 'kit:test')).toEqual(value)
    const binKey = Buffer.from([0x80, 0xc0, 0x64, 0x00])
    await gl.put(db, binKey, Buffer.alloc(0))
    expect(await gl.get(db, binKey)).toEqual(Buffer.alloc(0))
    await gl.del(db, 'kit:test')
    await gl.del(db, binKey)
    expect(await gl.get(db, 'kit:test')).toBeUndefined()
    expect(await gl.get(db, binKey)).toBeUndefined()
  })

  it('digest is stable across open/close and changes with any edit', async () => {
    const db = stores(home).blocks
    const first = await gl.digest(db)
    await gl.open(db)
    await gl.open(db)
    const second = await gl.digest(db)
    expect(second).toEqual(first)
    await gl.put(db, 'H:5', Buffer.from('x'))
    const edited = await gl.digest(db)
    expect(edited.keys).toBe(first.keys)
    expect(edited.sha256).not.toBe(first.sha256)
  })

  it('dump writes one hex line per key in key order', async () => {
    const db = stores(home).state
    const out = path.join(tmp.path, 'state.dump')
    await gl.dump(db, out)
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n')
    const d = await gl.digest(db)
    expect(lines).toHaveLength(d.keys)
    const keys = lines.map((l) => Buffer.from(l.split('\t')[0] ?? '', 'hex'))
    for (let i = 1; i < keys.length; i++) expect(Buffer.compare(keys[i - 1]!, keys[i]!)).toBe(-1)
    const stateLine = lines.find((l) => l.startsWith(Buffer.from('stateKey').toString('hex')))
    expect(stateLine?.split('\t')[1]).toBe((await gl.get(db, 'stateKey'))?.toString('hex'))
    // prefix and keysOnly
    const vOut = path.join(tmp.path, 'validators.keys')
    const r = await gl.dump(db, vOut, { prefix: 'validatorsKey:', keysOnly: true })
    const vKeys = (await readFile(vOut, 'utf8')).trimEnd().split('\n')
    expect(r.keys).toBe(d.prefixes['validatorsKey:'])
    expect(vKeys).toHaveLength(r.keys)
    for (const k of vKeys) expect(Buffer.from(k, 'hex').toString('latin1')).toMatch(/^validatorsKey:\d+$/)
  })

  it('compact keeps the content', async () => {
    const db = stores(home).state
    const before = await gl.digest(db)
    const r = await gl.compact(db)
    expect(r.bytesAfter).toBeGreaterThan(0)
    expect(r.journalErrors).toEqual([])
    expect((await gl.digest(db)).sha256).toBe(before.sha256)
  })

  it('errors name the subcommand, the store and goleveldb message, and create nothing', async () => {
    const missing = path.join(tmp.path, 'missing.db')
    const err = await gl.digest(missing).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GoleveldbToolError)
    expect((err as GoleveldbToolError).message).toContain(`gf-goleveldb digest ${missing}`)
    expect((err as GoleveldbToolError).message).toMatch(/not a LevelDB store/)
    await expect(stat(missing)).rejects.toThrow()
    await expect(gl.get(missing, 'x')).rejects.toThrow(/gf-goleveldb get/)
  })
})

describe('goleveldb kit: prune (CometBFT v0.37 PruneBlocks + PruneStates on goleveldb)', SLOW, () => {
  // 2,500 blocks; validator changes in blocks 300, 600, … (effective at +2), params changes in 700, 1400, …
  // (effective at +1). Prune to 2000: blocks [1, 2000) go; PruneStates(1, 2000) keeps the full set the pointer at
  // 2000 refers to (lhc 1802 = change in block 1800) and the params at their lhc (1401 = change in block 1400).
  const blocks = 2500
  const until = 2000
  let home: string
  let result: Awaited<ReturnType<GoleveldbTool['prune']>>

  beforeAll(async () => {
    home = path.join(tmp.path, 'prune')
    await gl.generateHome({
      home,
      chainId: 'kit-1',
      blocks,
      validatorChangeEvery: 300,
      paramsChangeEvery: 700,
    })
    result = await gl.prune(home, { untilHeight: until, states: true })
  }, 300_000)

  it('reports what it did', () => {
    expect(result.blocksPruned).toBe(until - 1)
    expect(result.statesPruned).toBe(until - 1)
    expect(result.base).toBe(until)
    expect(result.bytesBefore).toBeGreaterThan(0)
    expect(result.journalErrors).toEqual([])
    expect(result.compactMs).toBeUndefined()
  })

  it('leaves exactly the block store keys CometBFT PruneBlocks leaves', async () => {
    const db = stores(home).blocks
    const d = await gl.digest(db)
    expect(d.blockStore).toEqual({ base: until, height: blocks })
    const kept = blocks - until + 1
    // C:<h> for h in [base, until) go; C:0 (block 1's empty last commit) is below the base and stays.
    expect(d.prefixes).toEqual({
      'H:': kept,
      'P:': 2 * kept,
      'C:': kept,
      'SC:': kept,
      'BH:': kept,
      blockStore: 1,
    })
    for (const k of ['H:1999', 'P:1999:0', 'P:1999:1', 'C:1999', 'SC:1999', 'H:1', 'SC:1', 'C:1']) {
      expect(await gl.get(db, k), k).toBeUndefined()
    }
    for (const k of ['H:2000', 'P:2000:1', 'C:2000', 'SC:2000', 'H:2500', 'C:0']) {
      expect(await gl.get(db, k), k).toBeDefined()
    }
    // The BH: value of a kept block is its height.
    const dump = path.join(tmp.path, 'pruned-blocks.dump')
    await gl.dump(db, dump)
    const bh = (await readFile(dump, 'utf8'))
      .split('\n')
      .filter((l) =>
        Buffer.from(l.split('\t')[0] ?? '', 'hex')
          .toString('latin1')
          .startsWith('BH:'),
      )
      .map((l) => Number(Buffer.from(l.split('\t')[1] ?? '', 'hex').toString('latin1')))
      .sort((a, b) => a - b)
    expect(bh[0]).toBe(until)
    expect(bh.at(-1)).toBe(blocks)
  })

  it('leaves exactly the state keys CometBFT PruneStates leaves', async () => {
    const db = stores(home).state
    const d = await gl.digest(db)
    // validatorsKey: 1802 (kept target) + until..blocks+2; consensusParamsKey: 1401 + until..blocks+1.
    expect(d.prefixes).toEqual({
      'validatorsKey:': 1 + (blocks + 2 - until + 1),
      'consensusParamsKey:': 1 + (blocks + 1 - until + 1),
      'abciResponsesKey:': blocks - until + 1,
      genesisDoc: 1,
      lastABCIResponseKey: 1,
      stateKey: 1,
    })
    for (const k of [
      'validatorsKey:1802',
      'consensusParamsKey:1401',
      'validatorsKey:2000',
      'abciResponsesKey:2000',
    ]) {
      expect(await gl.get(db, k), k).toBeDefined()
    }
    for (const k of ['validatorsKey:1', 'validatorsKey:1502', 'validatorsKey:1999', 'consensusParamsKey:1']) {
      expect(await gl.get(db, k), k).toBeUndefined()
    }
    for (const k of ['consensusParamsKey:701', 'consensusParamsKey:1999', 'abciResponsesKey:1999']) {
      expect(await gl.get(db, k), k).toBeUndefined()
    }
  })

  it('refuses out-of-range heights with CometBFT messages and changes nothing', async () => {
    const before = await gl.digest(stores(home).blocks)
    await expect(gl.prune(home, { untilHeight: blocks + 1, states: false })).rejects.toThrow(
      /cannot prune beyond the latest height 2500/,
    )
    await expect(gl.prune(home, { untilHeight: 10, states: false })).rejects.toThrow(
      /cannot prune to height 10, it is lower than base height 2000/,
    )
    expect((await gl.digest(stores(home).blocks)).sha256).toBe(before.sha256)
  })

  it('compact: true reclaims space and reports its own time', async () => {
    const r = await gl.prune(home, { untilHeight: 2400, states: true, compact: true })
    expect(r.blocksPruned).toBe(400)
    expect(r.compactMs).toBeGreaterThanOrEqual(0)
    expect(r.bytesAfter).toBeLessThan(r.bytesBefore)
  })
})

/**
 * The pruner killed with SIGKILL at 22 seeded random points, one after another on ONE goleveldb-written copy of a
 * 100,000-block store (blocks phase, states phase, the flushes, closing). After each kill goleveldb opens both
 * databases as the node would at its next start, and what it sees must be live: every block at or above the
 * recorded base complete, every state entry a height ≥ that base needs loadable. The next run is killed later, and
 * a final run must leave exactly what CometBFT's own prune on goleveldb leaves on an identical copy.
 *
 * GF_PRUNE_KILL_SEED=<n> repeats a run's kill points (the seed is printed).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, type GoleveldbTool, goleveldbTool, type TempDir, tempDir } from '@ghostfleet/testkit'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeBlockStoreState,
  decodeConsensusParamsInfo,
  decodeValidatorsInfo,
  holdFlock,
  isEmptyConsensusParams,
  lastStoredHeightFor,
  pruneHome,
} from '../../src/store/index.js'
import { goleveldbHome, goleveldbView, STORE_100K } from './prune-fixtures.js'

const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const HEIGHT = STORE_100K.blocks
const UNTIL = 90_000
/**
 * Heights per batch (450 block batches and 450 state batches in a full run, so kills land between and inside
 * them) and the child's memtable size (1 MiB: frequent memtable flushes and level-0 compactions, i.e. frequent
 * background version edits recording C++ LevelDB's last sequence).
 */
const BATCH = 200
const WRITE_BUFFER_BYTES = 1 << 20
const SEED = Number(process.env.GF_PRUNE_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** mulberry32: a small seeded PRNG, so a failing run's kill points can be repeated. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Where to kill: in the blocks or states phase, once done/total reaches `fraction` (a random share of what this
 * run still has to do), at the next batch after a background version edit of C++ LevelDB that left the log
 * unchanged (or at the phase's last batch); or
 * at flush step `step` (0: before blockstore.db's flush, 1: before state.db's, 2: after both, i.e. while closing).
 * The kill lands a little later than the event: the child keeps running while the signal is sent.
 */
type KillPoint = { phase: 'blocks' | 'states'; fraction: number } | { phase: 'flush'; step: 0 | 1 | 2 }

function killPlan(random: () => number): KillPoint[] {
  const share = () => Math.round(random() * 0.1 * 1000) / 1000
  return [
    ...Array.from({ length: 8 }, () => ({ phase: 'blocks' as const, fraction: share() })),
    { phase: 'flush', step: 0 },
    { phase: 'flush', step: 0 },
    ...Array.from({ length: 8 }, () => ({ phase: 'states' as const, fraction: share() })),
    { phase: 'flush', step: 1 },
    { phase: 'flush', step: 1 },
    { phase: 'flush', step: 2 },
    { phase: 'flush', step: 2 },
  ]
}

let tool: GoleveldbTool
let tmp: TempDir
let childModule: string

beforeAll(async () => {
  tool = await goleveldbTool()
  tmp = await tempDir('gf-prune-kill-')
  // The child runs the current sources, transpiled here (dist/ may be stale), in a directory whose node_modules
  // points at the workspace's so classic-level, smol-toml, zod and snappyjs resolve.
  const out = path.join(tmp.path, 'child')
  const srcDir = path.join(PACKAGE_DIR, 'src', 'store')
  for (const entry of await readdir(srcDir, { recursive: true })) {
    if (!entry.endsWith('.ts')) continue
    const source = await readFile(path.join(srcDir, entry), 'utf8')
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText
    await mkdir(path.dirname(path.join(out, 'store', entry)), { recursive: true })
    await writeFile(path.join(out, 'store', entry.replace(/\.ts$/, '.js')), js)
  }
  await writeFile(path.join(out, 'package.json'), '{ "type": "module" }\n')
  await symlink(path.join(PACKAGE_DIR, '..', '..', 'node_modules'), path.join(out, 'node_modules'))
  childModule = path.join(out, 'store', 'index.js')
}, 600_000)

afterAll(async () => {
  await tmp?.remove()
})

/** Runs the pruner in a child that prints every progress event; resolves how it ended and the last event. */
function runChild(
  home: string,
  point: KillPoint,
): Promise<{ killed: boolean; last: string; output: string }> {
  const script = `import { pruneHome } from ${JSON.stringify(childModule)}
const { home, until, batch, buffer } = JSON.parse(process.env.GF_PRUNE_JOB)
await pruneHome({ home, untilHeight: until, batchSize: batch, writeBufferBytes: buffer, onProgress: (p) => {
  process.stdout.write(p.phase + ' ' + p.done + ' ' + p.total + '\\n')
} })
process.stdout.write('done\\n')
`
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GF_PRUNE_JOB: JSON.stringify({ home, until: UNTIL, batch: BATCH, buffer: WRITE_BUFFER_BYTES }),
      },
    })
    let output = ''
    let last = 'start'
    let killed = false
    let pending = ''
    let armed: { log: number; manifest: number } | null = null
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString()
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) {
        output += `${line}\n`
        if (killed) continue
        last = line
        const [phase, done, total] = line.split(' ')
        const d = Number(done)
        const t = Number(total)
        let hit = false
        if (point.phase === 'flush') hit = phase === 'flush' && d === point.step
        else if (phase === point.phase) {
          // Armed at the fraction; then the kill waits for a version edit that C++ LevelDB writes in the
          // background (its MANIFEST grows) while the log it records stays the one our last batches went to:
          // those batches are below the edit's last sequence, the case goleveldb's recovery skips.
          const db = path.join(home, 'data', point.phase === 'blocks' ? 'blockstore.db' : 'state.db')
          const now = { log: logNumbers(db), manifest: manifestBytes(db) }
          if (armed === null) {
            if (t === 0 || d / t >= point.fraction) armed = now
          } else if (now.log !== armed.log) armed = now
          else if (now.manifest > armed.manifest) hit = true
          if (d === t) hit = true
        }
        if (hit) {
          killed = true
          child.kill('SIGKILL')
        }
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ killed: signal === 'SIGKILL', last, output })
      else reject(new Error(`pruner child exited with ${code ?? signal}:\n${output}`))
    })
  })
}

/** The highest `NNNNNN.log` number in a database directory (C++ LevelDB starts a new log at each memtable switch). */
function logNumbers(db: string): number {
  let max = 0
  for (const f of readdirSync(db)) {
    const m = /^(\d+)\.log$/.exec(f)
    if (m) max = Math.max(max, Number(m[1]))
  }
  return max
}

/** Size of the MANIFEST named by CURRENT (it grows with every version edit). */
function manifestBytes(db: string): number {
  try {
    return statSync(path.join(db, readFileSync(path.join(db, 'CURRENT'), 'latin1').trim())).size
  } catch {
    return 0 // between C++ LevelDB's rename of a new MANIFEST and CURRENT: the next event looks again
  }
}

/**
 * Lines of a kit dump (`hex(key)` or `hex(key)\thex(value)`) as latin1 key → hex value. Values stay hex: most are
 * the same few pointers, decoded once each through {@link memo} (decoding 200,000 of them made each check 3 s).
 */
async function dumpPrefix(db: string, prefix: string, keysOnly: boolean): Promise<Map<string, string>> {
  const file = path.join(tmp.path, `dump-${Date.now()}-${Math.random()}.tsv`)
  await tool.dump(db, file, { prefix, keysOnly })
  const out = new Map<string, string>()
  for (const line of (await readFile(file, 'latin1')).split('\n')) {
    if (line === '') continue
    const tab = line.indexOf('\t')
    const key = tab < 0 ? line : line.slice(0, tab)
    out.set(Buffer.from(key, 'hex').toString('latin1'), tab < 0 ? '' : line.slice(tab + 1))
  }
  return out
}

/** `decode` of hex values, once per distinct value. */
function memo<T>(decode: (value: Buffer) => T): (hex: string) => T {
  const seen = new Map<string, T>()
  return (hex) => {
    let decoded = seen.get(hex)
    if (decoded === undefined) {
      decoded = decode(Buffer.from(hex, 'hex'))
      seen.set(hex, decoded)
    }
    return decoded
  }
}

/**
 * What goleveldb sees must be live: returns the recorded base. Blocks: `H:`, `P:h:0`, `P:h:1`, `SC:`, `BH:` of
 * every height in [base, HEIGHT], `C:` below HEIGHT. States: for every height in [base, HEIGHT],
 * `abciResponsesKey:h`, and `validatorsKey:h` / `consensusParamsKey:h` that load (a full object, or a pointer whose
 * target holds one).
 */
async function expectLive(dataDir: string): Promise<number> {
  const blockDb = path.join(dataDir, 'blockstore.db')
  const stateDb = path.join(dataDir, 'state.db')
  const bs = decodeBlockStoreState(
    Buffer.from((await dumpPrefix(blockDb, 'blockStore', false)).get('blockStore') as string, 'hex'),
  )
  expect(bs.height).toBe(HEIGHT)
  expect(bs.base).toBeGreaterThanOrEqual(1)
  expect(bs.base).toBeLessThanOrEqual(UNTIL)
  const keys = await dumpPrefix(blockDb, '', true)
  const hashHeights = new Set(
    [...(await dumpPrefix(blockDb, 'BH:', false)).values()].map((v) =>
      Number(Buffer.from(v, 'hex').toString()),
    ),
  )
  const missing: string[] = []
  for (let h = bs.base; h <= HEIGHT; h++) {
    for (const k of [`H:${h}`, `P:${h}:0`, `P:${h}:1`, `SC:${h}`, ...(h < HEIGHT ? [`C:${h}`] : [])]) {
      if (!keys.has(k)) missing.push(k)
    }
    if (!hashHeights.has(h)) missing.push(`BH: for ${h}`)
  }
  const validators = await dumpPrefix(stateDb, 'validatorsKey:', false)
  const params = await dumpPrefix(stateDb, 'consensusParamsKey:', false)
  const abci = await dumpPrefix(stateDb, 'abciResponsesKey:', true)
  const validatorsInfo = memo(decodeValidatorsInfo)
  const paramsInfo = memo(decodeConsensusParamsInfo)
  for (let h = bs.base; h <= HEIGHT; h++) {
    if (!abci.has(`abciResponsesKey:${h}`)) missing.push(`abciResponsesKey:${h}`)
    const v = validators.get(`validatorsKey:${h}`)
    if (v === undefined) missing.push(`validatorsKey:${h}`)
    else {
      const info = validatorsInfo(v)
      if (info.validatorSet === null) {
        const at = lastStoredHeightFor(h, info.lastHeightChanged)
        const target = validators.get(`validatorsKey:${at}`)
        if (target === undefined || validatorsInfo(target).validatorSet === null) {
          missing.push(`validatorsKey:${at} (full set for ${h})`)
        }
      }
    }
    const p = params.get(`consensusParamsKey:${h}`)
    if (p === undefined) missing.push(`consensusParamsKey:${h}`)
    else {
      const info = paramsInfo(p)
      if (isEmptyConsensusParams(info.consensusParams)) {
        const target = params.get(`consensusParamsKey:${info.lastHeightChanged}`)
        if (target === undefined || isEmptyConsensusParams(paramsInfo(target).consensusParams)) {
          missing.push(`consensusParamsKey:${info.lastHeightChanged} (params for ${h})`)
        }
      }
    }
  }
  expect(missing.slice(0, 10), `live keys missing with base ${bs.base}`).toEqual([])
  return bs.base
}

describe('the pruner killed with SIGKILL at random points', () => {
  it(`leaves goleveldb a live store after every kill, and the next run completes it exactly (seed ${SEED})`, async () => {
    console.log(`pruner kill test: seed ${SEED} (GF_PRUNE_KILL_SEED=${SEED} repeats these kill points)`)
    const { home, dataDir } = await goleveldbHome(tool, path.join(tmp.path, 'home'), STORE_100K)
    const ref = await goleveldbHome(tool, path.join(tmp.path, 'ref'), STORE_100K)
    await tool.prune(ref.home, { untilHeight: UNTIL, states: true })
    const expected = await goleveldbView(tool, ref.dataDir)

    const plan = killPlan(prng(SEED))
    const landed: string[] = []
    let kills = 0
    let journalErrors = 0
    for (const [i, point] of plan.entries()) {
      const run = await runChild(home, point)
      const target =
        point.phase === 'flush' ? `flush step ${point.step}` : `${point.phase} ≥ ${point.fraction}`
      if (run.killed) kills++
      // The killed child's flock helpers notice their closed stdin and exit. Only the flock is probed:
      // checkDatabaseUnlocked's fcntl probe opens the database with C++ LevelDB, whose recovery would replay (and
      // so rescue) every batch goleveldb skips.
      for (const db of ['blockstore.db', 'state.db']) {
        await eventually(
          async () => {
            const hold = await holdFlock(path.join(dataDir, db, 'LOCK'))
            expect(hold).not.toBeNull()
            await hold?.release()
          },
          { description: `${db} unlocked after kill ${i + 1}` },
        )
      }
      // The node's next start: goleveldb replays what the pruner left in its logs (and may skip some of it).
      for (const db of ['blockstore.db', 'state.db']) {
        journalErrors += (await tool.open(path.join(dataDir, db))).journalErrors.length
      }
      const base = await expectLive(dataDir)
      landed.push(
        `#${i + 1} ${target}: ${run.killed ? `killed after "${run.last}"` : 'completed first'}, goleveldb base ${base}`,
      )
    }
    console.log(
      `pruner kill test (seed ${SEED}): ${kills} kills, ${journalErrors} journal errors logged by goleveldb\n  ${landed.join('\n  ')}`,
    )
    expect(kills).toBeGreaterThanOrEqual(20)
    // The premise: some kills left batches that goleveldb skipped (a 1 MiB memtable makes C++ LevelDB write a
    // version edit every few thousand heights), and the store stayed live all the same.
    expect(journalErrors).toBeGreaterThan(0)

    await pruneHome({ home, untilHeight: UNTIL })
    const seen = await goleveldbView(tool, dataDir)
    expect(seen.blocks.journalErrors).toEqual([])
    expect(seen.states.journalErrors).toEqual([])
    expect({ ...seen.blocks, journalErrors: [] }).toEqual({ ...expected.blocks, journalErrors: [] })
    expect({ ...seen.states, journalErrors: [] }).toEqual({ ...expected.states, journalErrors: [] })
  }, 900_000)
})

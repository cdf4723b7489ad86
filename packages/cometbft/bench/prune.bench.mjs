// Offline pruner benchmark (`npm run bench -- prune`): Ghostfleet's `pruneHome` against CometBFT's own
// PruneBlocks / PruneStates running on goleveldb (the kit's `prune`, a Go build of CometBFT v0.37's algorithm on
// Debian's goleveldb), in the same run, on identical copies of the same goleveldb-written store.
//
// Target (issue): ≥ 2× goleveldb's blocks/s with goleveldb-correct results, linear in the number of blocks.
//
// Per size N (GF_BENCH_PRUNE_BLOCKS, default "100000,1000000"; GF_BENCH_QUICK=1 → "20000,100000"):
// 1. A home of N blocks × 2 parts × 3000 bytes (validator-set change every 100k blocks, params every 250k) is
//    written with goleveldb by the kit, once. GF_BENCH_PRUNE_HOMES=<dir> keeps generated homes there for the next
//    run (1M blocks take ~20 min to write on 2 cores and ~8 GB); without it they go to the temp dir and are removed.
// 2. Cases, each on two fresh copies (`cp --reflink=auto -r`, then `sync`, each just before its side runs), prune
//    to H = 0.9·N:
//    - blocks: Ghostfleet with statePruning=false vs goleveldb PruneBlocks(H);
//    - blocks + states: Ghostfleet vs goleveldb PruneBlocks(H) + PruneStates(base, H);
//    - space back: the same plus a full compaction (Ghostfleet --force-compact vs goleveldb CompactRange of both
//      stores): the time until the disk space is actually returned, and the bytes before/after.
//    Contenders alternate (goleveldb first in odd rounds); GF_BENCH_PRUNE_RUNS rounds (default 1), medians.
//    Time = wall clock of the whole process (start, open, prune, flush, close), both sides: what an operator
//    waits for. Also printed: the ratio of the in-process times (Ghostfleet's pruneHome from its call to its
//    return, goleveldb's from its first open to its last close), i.e. without Node's start and module loading,
//    which a Go binary does not have. After every pair, goleveldb's digest of both databases must be identical on both copies (the
//    result goleveldb sees is the same), or the benchmark fails.
// 3. Window (N ≥ GF_BENCH_PRUNE_WINDOW_MIN, default 1000000; keep the last GF_BENCH_PRUNE_WINDOW blocks, default
//    50000; 5000 of 100000 is the same ratio at a tenth of the size): Ghostfleet delete +
//    compaction of blockstore.db against rewriting the kept window into a fresh store with classic-level (scan of
//    the small prefixes + point reads of the kept parts, batched writes, flush, close), verified by goleveldb
//    (same digest as delete + compaction). Reported only (see the README for the decision).
// GF_BENCH_PRUNE_CASES (default "blocks,states,space,window") selects cases.
//
// Lines: `prune <N> blocks: ghostfleet <n> blocks/s, goleveldb PruneBlocks <m> blocks/s, ratio <r>x` and variants.
// Figures are ratios against the baseline of the same run; targets are printed, never asserted. Exits non-zero
// only when the benchmark itself breaks (including: the two sides leave different stores).
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  BLOCK_STORE_STATE_KEY,
  databaseBytes,
  decodeBlockMetaIds,
  encodeBlockStoreState,
  flushToTables,
  pruneHome,
} from '@ghostfleet/cometbft'
import { goleveldbTool } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'

const THIS_FILE = fileURLToPath(import.meta.url)
const execFileAsync = promisify(execFile)
const env = process.env
const PRUNE_FRACTION = 0.9

function intEnv(name, fallback) {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative integer`)
  return n
}

const specFor = (blocks) => ({
  chainId: 'gf-bench-prune',
  blocks,
  partsPerBlock: 2,
  partSize: 3000,
  validatorChangeEvery: 100_000,
  paramsChangeEvery: 250_000,
  seed: 1,
})

// ---------------------------------------------------------------------------------------------------------------
// Child process: one measured Ghostfleet run.

async function childMain(job) {
  const result = await pruneHome({
    home: job.home,
    untilHeight: job.until,
    statePruning: job.states,
    forceCompact: job.compact,
  })
  process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`)
}

let activeChild = null
const TIME = '/usr/bin/time'
const CPU_MARK = '@@CPU'

/**
 * Runs a command as a measured child: wall clock, and (with GNU time) the user+sys CPU seconds of the whole process
 * with all its threads — on 2 shared cores the wall clock swings with other work, CPU time much less.
 */
function measured(command, args) {
  const started = performance.now()
  const withTime = existsSync(TIME)
  return new Promise((resolve, reject) => {
    const child = withTime
      ? spawn(TIME, ['-f', `${CPU_MARK} %U %S`, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    activeChild = child
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (x) => {
      out += x
    })
    child.stderr.on('data', (x) => {
      err += x
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      activeChild = null
      const cpu = err.split('\n').find((l) => l.startsWith(CPU_MARK))
      const [, user, sys] = cpu?.split(' ') ?? []
      const cpuMs = cpu === undefined ? Number.NaN : (Number(user) + Number(sys)) * 1000
      if (code !== 0) reject(new Error(`${command} exited with ${code ?? signal}:\n${out}\n${err}`))
      else resolve({ wallMs: performance.now() - started, cpuMs, out })
    })
  })
}

async function runGhostfleet(job) {
  const r = await measured(process.execPath, [THIS_FILE, '--child', JSON.stringify(job)])
  const line = r.out.split('\n').find((l) => l.startsWith('@@RESULT '))
  if (line === undefined) throw new Error(`ghostfleet run printed no result:\n${r.out}`)
  return { ...JSON.parse(line.slice('@@RESULT '.length)), wallMs: r.wallMs, cpuMs: r.cpuMs }
}

/** CometBFT's PruneBlocks (+ PruneStates, + CompactRange) on goleveldb: the kit's `prune`, measured. */
async function runGoleveldb(tool, home, o) {
  const args = ['prune', '--home', home, '--until-height', String(o.untilHeight)]
  if (o.states) args.push('--states')
  if (o.compact) args.push('--compact')
  const r = await measured(tool.binary, args)
  const res = JSON.parse(r.out)
  if (res.journalErrors.length > 0)
    throw new Error(`goleveldb baseline logged journal errors: ${res.journalErrors[0]}`)
  // `wallMs` of the tool is its own clock from the first open to the last close.
  return { ...res, inProcessMs: res.wallMs, wallMs: r.wallMs, cpuMs: r.cpuMs }
}

// ---------------------------------------------------------------------------------------------------------------
// Homes.

async function copyHome(from, to) {
  await rm(to, { recursive: true, force: true })
  await execFileAsync('cp', ['--reflink=auto', '-r', from, to])
  await execFileAsync('sync', ['-f', to])
}

async function ensureHome(tool, homesDir, blocks, log) {
  const spec = specFor(blocks)
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12)
  const home = path.join(homesDir, `home-${blocks}-${key}`)
  if ((await stat(path.join(home, 'data')).catch(() => null)) !== null) {
    log(`  using the generated home ${home}`)
    return home
  }
  const building = `${home}.building`
  await rm(building, { recursive: true, force: true })
  log(`  generating ${blocks} blocks with goleveldb (not measured)…`)
  const r = await tool.generateHome({ ...spec, home: building })
  await rename(building, home)
  log(`  generated in ${(r.durationMs / 1000).toFixed(0)} s, ${mb(r.bytes)} MiB`)
  return home
}

async function dataBytes(home) {
  const d = path.join(home, 'data')
  return (
    (await databaseBytes(path.join(d, 'blockstore.db'))) + (await databaseBytes(path.join(d, 'state.db')))
  )
}

async function sameForGoleveldb(tool, homeA, homeB, what) {
  for (const db of ['blockstore.db', 'state.db']) {
    const a = await tool.digest(path.join(homeA, 'data', db))
    const b = await tool.digest(path.join(homeB, 'data', db))
    if (a.journalErrors.length > 0)
      throw new Error(`${what}: goleveldb journal errors in ${db}: ${a.journalErrors[0]}`)
    if (a.sha256 !== b.sha256 || a.keys !== b.keys) {
      throw new Error(
        `${what}: goleveldb sees different ${db}: ${a.keys} keys ${a.sha256} vs ${b.keys} keys ${b.sha256}`,
      )
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Window rewrite (evaluation only): the kept blocks copied into a fresh classic-level store.

async function rewriteWindow(sourceDb, targetDb, until) {
  const src = new ClassicLevel(sourceDb, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  const dst = new ClassicLevel(targetDb, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: true,
    errorIfExists: true,
    writeBufferSize: 256 << 20,
  })
  await src.open()
  await dst.open()
  const digits = /^[1-9][0-9]*$/
  try {
    let batch = dst.batch()
    let pending = 0
    const flush = async (force) => {
      if (pending === 0 || (!force && pending < 2000)) return
      await batch.write()
      batch = dst.batch()
      pending = 0
    }
    const parts = []
    const it = src.iterator()
    // Every key except the parts (read below by key) and the deleted heights' keys; `BH:` by its value.
    for (;;) {
      const page = await it.nextv(1000)
      if (page.length === 0) break
      for (const [k, v] of page) {
        const s = k.toString('latin1')
        if (s.startsWith('P:')) {
          // Skip the whole P: range at once.
          await it.seek(Buffer.from('P;'))
          break
        }
        const colon = s.indexOf(':')
        const prefix = colon < 0 ? s : s.slice(0, colon)
        const h =
          prefix === 'BH'
            ? Number(v.toString('latin1'))
            : digits.test(s.slice(colon + 1))
              ? Number(s.slice(colon + 1))
              : -1
        if (s === 'blockStore') continue
        if (prefix === 'H' && h >= until) {
          const { partsTotal } = decodeBlockMetaIds(v)
          for (let p = 0; p < partsTotal; p++) parts.push(`P:${h}:${p}`)
        }
        // Heights below `until` go exactly where the pruner deletes them: keys of heights that have a meta.
        if (h >= 1 && h < until && ['H', 'BH', 'C', 'SC', 'EC'].includes(prefix)) continue
        batch.put(k, v)
        pending++
        await flush(false)
      }
    }
    await it.close()
    const height = (await src.get(BLOCK_STORE_STATE_KEY)) ?? Buffer.alloc(0)
    batch.put(
      BLOCK_STORE_STATE_KEY,
      Buffer.from(encodeBlockStoreState({ base: until, height: decodeHeight(height) })),
    )
    pending++
    for (let i = 0; i < parts.length; i += 1000) {
      const keys = parts.slice(i, i + 1000).map((p) => Buffer.from(p, 'latin1'))
      const values = await src.getMany(keys)
      for (let j = 0; j < keys.length; j++) {
        if (values[j] !== undefined) {
          batch.put(keys[j], values[j])
          pending++
        }
      }
      await flush(false)
    }
    await flush(true)
    await flushToTables(dst, targetDb)
  } finally {
    await src.close()
    await dst.close()
  }
}

function decodeHeight(raw) {
  // BlockStoreState { base = 1; height = 2 }: the height varint after tag 0x10.
  let i = raw.indexOf(0x10, 1)
  let h = 0
  let shift = 0
  for (i++; i < raw.length; i++) {
    h += (raw[i] & 0x7f) * 2 ** shift
    if ((raw[i] & 0x80) === 0) break
    shift += 7
  }
  return h
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestration.

const rate = (blocks, ms) => Math.round(blocks / (ms / 1000))
const fmt = (n) => n.toLocaleString('en-US')
const mb = (b) => (b / 1048576).toFixed(0)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

async function main() {
  const quick = env.GF_BENCH_QUICK === '1'
  const sizes = (env.GF_BENCH_PRUNE_BLOCKS ?? (quick ? '20000,100000' : '100000,1000000'))
    .split(',')
    .map((s) => Number(s.trim().replaceAll('_', '')))
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1000))
    throw new Error('GF_BENCH_PRUNE_BLOCKS: sizes ≥ 1000')
  const rounds = Math.max(1, intEnv('GF_BENCH_PRUNE_RUNS', 1))
  const windowMin = intEnv('GF_BENCH_PRUNE_WINDOW_MIN', 1_000_000)
  const windowBlocks = intEnv('GF_BENCH_PRUNE_WINDOW', 50_000)
  const cases = new Set(
    (env.GF_BENCH_PRUNE_CASES ?? 'blocks,states,space,window').split(',').map((x) => x.trim()),
  )
  const tmpRoot = mkdtempSync(path.join(env.GF_BENCH_TMPDIR ?? os.tmpdir(), 'gf-bench-prune-'))
  const homesDir = env.GF_BENCH_PRUNE_HOMES ?? path.join(tmpRoot, 'homes')
  await mkdir(homesDir, { recursive: true })
  const cleanup = () => {
    activeChild?.kill('SIGKILL')
    rmSync(tmpRoot, { recursive: true, force: true })
  }
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ]) {
    process.once(sig, () => {
      cleanup()
      process.exit(code)
    })
  }
  const log = (s) => console.log(s)
  const tool = await goleveldbTool()
  // A store of N blocks is ~8 kB per block; the source and two copies must fit.
  const free = statfsSync(tmpRoot).bavail * statfsSync(tmpRoot).bsize
  const need = Math.max(...sizes) * 8300 * 3
  if (free < need)
    throw new Error(`${tmpRoot}: ${mb(free)} MiB free, the largest size needs about ${mb(need)} MiB`)
  log(
    `prune benchmark: sizes ${sizes.join(', ')} blocks (2 parts × 3000 B), prune to 0.9·N, ${rounds} round(s); ` +
      `node ${process.version}, ${os.cpus().length} CPUs, load ${load()}; temp ${tmpRoot}, homes ${homesDir}`,
  )
  const lines = []
  const perBlock = {}
  try {
    for (const size of sizes) {
      log(`\n[${size} blocks]`)
      const src = await ensureHome(tool, homesDir, size, log)
      const until = Math.round(size * PRUNE_FRACTION)
      const pruned = until - 1
      const gfHome = path.join(tmpRoot, 'gf')
      const goHome = path.join(tmpRoot, 'go')
      for (const c of [
        { key: 'blocks', name: 'blocks', states: false, compact: false },
        { key: 'states', name: 'blocks + states', states: true, compact: false },
        { key: 'space', name: 'blocks + states + compaction (disk space back)', states: true, compact: true },
      ].filter((x) => cases.has(x.key))) {
        const gf = []
        const go = []
        for (let r = 0; r < rounds; r++) {
          const bytesBefore = await dataBytes(src)
          const order = r % 2 === 0 ? ['go', 'gf'] : ['gf', 'go']
          for (const who of order) {
            // Each side's copy is written right before it runs: copies written earlier lose their pages from
            // the page cache first (two 1M-block copies are ~16 GB), and the side that then reads from disk
            // measured up to 3× slower in wall time at the same CPU time.
            await copyHome(src, who === 'go' ? goHome : gfHome)
            if (who === 'go') {
              const res = await runGoleveldb(tool, goHome, {
                untilHeight: until,
                states: c.states,
                compact: c.compact,
              })
              go.push({ ...res, bytesBefore, bytesAfter: await dataBytes(goHome) })
              log(
                `  ${c.name}, round ${r + 1}: goleveldb ${(res.wallMs / 1000).toFixed(2)} s (CPU ${(res.cpuMs / 1000).toFixed(2)} s; in-process ${((res.durationMs + (res.compactMs ?? 0)) / 1000).toFixed(2)} s), load ${load()}`,
              )
            } else {
              const res = await runGhostfleet({ home: gfHome, until, states: c.states, compact: c.compact })
              gf.push({ ...res, bytesAfterOnDisk: await dataBytes(gfHome) })
              log(
                `  ${c.name}, round ${r + 1}: ghostfleet ${(res.wallMs / 1000).toFixed(2)} s (CPU ${(res.cpuMs / 1000).toFixed(2)} s; in-process ${(res.durationMs / 1000).toFixed(2)} s), load ${load()}`,
              )
              if (res.blocksPruned !== pruned)
                throw new Error(`ghostfleet pruned ${res.blocksPruned}, expected ${pruned}`)
            }
          }
          await sameForGoleveldb(tool, gfHome, goHome, `${size} ${c.name}`)
        }
        const gfMs = median(gf.map((x) => x.wallMs))
        const goMs = median(go.map((x) => x.wallMs))
        const ratio = goMs / gfMs
        const gfCpu = median(gf.map((x) => x.cpuMs))
        const goCpu = median(go.map((x) => x.cpuMs))
        const gfIn = median(gf.map((x) => x.durationMs))
        const goIn = median(go.map((x) => x.inProcessMs))
        const cpuNote =
          `; by CPU time ${(goCpu / gfCpu).toFixed(2)}x (ghostfleet ${(gfCpu / 1000).toFixed(1)} s, goleveldb ${(goCpu / 1000).toFixed(1)} s)` +
          `; in-process ${(goIn / gfIn).toFixed(2)}x (ghostfleet ${(gfIn / 1000).toFixed(2)} s, goleveldb ${(goIn / 1000).toFixed(2)} s)`
        const goName = c.states ? 'goleveldb PruneBlocks + PruneStates' : 'goleveldb PruneBlocks'
        let line
        if (c.compact) {
          line =
            `prune ${size} blocks until the disk space is back: ghostfleet ${(gfMs / 1000).toFixed(1)} s ` +
            `(${mb(gf[0].bytesBefore)} → ${mb(gf[0].bytesAfter)} MiB), ${goName} + CompactRange ` +
            `${(goMs / 1000).toFixed(1)} s (${mb(go[0].bytesBefore)} → ${mb(go[0].bytesAfter)} MiB), ratio ${ratio.toFixed(2)}x${cpuNote}`
          if (gf[0].bytesAfter !== gf[0].bytesAfterOnDisk) {
            throw new Error(
              `ghostfleet reported ${gf[0].bytesAfter} bytes after, ${gf[0].bytesAfterOnDisk} on disk`,
            )
          }
        } else {
          line =
            `prune ${size} blocks${c.states ? ' + states' : ''}: ghostfleet ${fmt(rate(pruned, gfMs))} blocks/s, ` +
            `${goName} ${fmt(rate(pruned, goMs))} blocks/s, ratio ${ratio.toFixed(2)}x${cpuNote}`
          perBlock[`${c.name} ${size}`] = gfMs / pruned
        }
        lines.push(line)
        log(`  → ${line}`)
      }
      if (size >= windowMin && cases.has('window')) {
        // Keep the last `windowBlocks` blocks: delete + compaction of blockstore.db vs rewriting the window.
        const keepFrom = size - windowBlocks + 1
        await copyHome(src, gfHome)
        const del = await runGhostfleet({ home: gfHome, until: keepFrom, states: false, compact: true })
        const fresh = path.join(tmpRoot, 'window.db')
        await rm(fresh, { recursive: true, force: true })
        const w0 = performance.now()
        await rewriteWindow(path.join(src, 'data', 'blockstore.db'), fresh, keepFrom)
        const rewriteMs = performance.now() - w0
        const a = await tool.digest(path.join(gfHome, 'data', 'blockstore.db'))
        const b = await tool.digest(fresh)
        const same = a.sha256 === b.sha256
        const line =
          `prune ${size} blocks keeping ${windowBlocks}: ghostfleet delete + compaction ${(del.wallMs / 1000).toFixed(1)} s, ` +
          `rewrite of the window into a fresh store ${(rewriteMs / 1000).toFixed(1)} s ` +
          `(${same ? 'goleveldb sees the same store' : `DIFFERENT store: ${a.keys} vs ${b.keys} keys`}), ` +
          `ratio ${(del.wallMs / rewriteMs).toFixed(2)}x (blockstore.db only)`
        lines.push(line)
        log(`  → ${line}`)
        await rm(fresh, { recursive: true, force: true })
      }
      await rm(gfHome, { recursive: true, force: true })
      await rm(goHome, { recursive: true, force: true })
    }
    log('\nsummary (wall clock of the whole process on both sides; medians)')
    for (const l of lines) log(`  ${l}`)
    if (sizes.length >= 2) {
      const small = sizes[0]
      const large = sizes[sizes.length - 1]
      for (const name of ['blocks', 'blocks + states']) {
        const lin = perBlock[`${name} ${large}`] / perBlock[`${name} ${small}`]
        log(
          `  linearity (${name}): cost per block at ${large} ÷ at ${small} = ${lin.toFixed(2)} (target ≈ 1, flag > 1.3)`,
        )
      }
    }
    log(`  target: ghostfleet ≥ 2x goleveldb blocks/s; load average at end ${load()}`)
  } finally {
    cleanup()
  }
}

if (process.argv[2] === '--child') {
  await childMain(JSON.parse(process.argv[3]))
} else {
  await main()
}

// Offline pruner benchmark (`npm run bench -- prune`).
//
// Target (issue): pruning a generated 1,000,000-block store runs at ≥ 0.8× the blocks/s of a raw classic-level
// batch delete of the same keys, measured in the same run, and its cost is linear in blocks (100k vs 1M).
//
// Per size N (GF_BENCH_PRUNE_BLOCKS, default "100000,1000000"; GF_BENCH_QUICK=1 → "20000,100000"):
// 1. A synthetic chain of N blocks is generated ONCE (SyntheticChain in a worker thread, ChainStore.appendBlocks
//    here, as `simnode generate` does) into a temp home. Not measured.
// 2. The keys to delete are enumerated ONCE from that store, independently of the pruner: a full key scan of
//    blockstore.db (heights parsed from `H:`/`P:h:i`/`C:`/`SC:`/`EC:` names, `BH:` mapped to its height through its
//    value) and of state.db. The raw contender deletes exactly the pruner's write set, in the pruner's chunks of
//    1000 heights: per height `H:`, `BH:`, `C:`, `SC:`, `EC:`, every `P:h:i` present, and
//    `validatorsKey:`/`consensusParamsKey:`/`abciResponsesKey:` except the keep sets (`stateKeepSets`, the only
//    pruner function used on the raw side — keep sets are a handful of heights). Like the pruner, the raw side
//    also deletes the absent `EC:` keys (tombstones) and writes `blockStore` {base: chunk end} in each block batch,
//    so both leave byte-identical databases — checked after every run (digest of all remaining keys and values).
//    FAVOURS THE RAW SIDE: its key list is precomputed (no reads of `H:` metas, no key formatting, no keep-set
//    lookups), and it fsyncs only the last batch of each database; the pruner fsyncs every state batch by design.
// 3. Each measured run starts from a fresh `cp -r` of the generated home (then `sync`, so write-back of the copy
//    does not land in the measurement) and runs in a fresh child process (clean RSS, cold JIT as in real use).
//    Contenders alternate (raw, pruner, pruner, raw, …), GF_BENCH_PRUNE_RUNS rounds (default 2); medians are
//    reported. Wall time covers open → deletes → close for both (pruneHome also holds its flocks and stats the
//    databases: that is part of its real cost).
// 4. Reported per contender: wall time and blocks/s, CPU time (user+sys of every thread of the child, LevelDB's
//    background compaction included), peak RSS sampled every 20 ms (split into anonymous memory and file-backed
//    pages: classic-level mmaps table files for reads, so RSS grows with the store while anon memory does not),
//    bytes on disk before/after (no compaction forced, so tombstones still take space). On 2 shared cores wall
//    time swings by ±50 % with other work; CPU time far less: read the ratios on both.
//
// Other knobs: GF_BENCH_PRUNE_RUNS (rounds, default 2), GF_BENCH_PRUNE_TXS (txs per block, default 2), GF_BENCH_PRUNE_TX_SIZE (bytes, default 200),
// GF_BENCH_PRUNE_VERIFY=0 (skip the post-run digest), GF_BENCH_TMPDIR (where temp homes go, default os.tmpdir()),
// GF_BENCH_PRUNE_CHILD_ARGS (extra node flags for the measured child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"),
// GF_BENCH_PRUNE_KEEP_TMP=1 (leave the temp dir for inspection; default: removed, also on error and on SIGINT/SIGTERM).
//
// Figures are ratios against the raw baseline of the same run; targets are printed, never asserted. Exits non-zero
// only when the benchmark itself breaks (including: the pruner and the raw delete leave different databases).
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import {
  BLOCK_STORE_STATE_KEY,
  ChainStore,
  databaseBytes,
  encodeBlockStoreState,
  loadBlockStoreState,
  makeSyntheticValidatorSet,
  pruneHome,
  SyntheticChain,
  stateKeepSets,
} from '@ghostfleet/cometbft'
import { ClassicLevel } from 'classic-level'

const THIS_FILE = fileURLToPath(import.meta.url)
const CHUNK = 1000 // pruneHome's default batchSize (CometBFT's flush interval)
const PRUNE_FRACTION = 0.9 // H = base + 0.9·N
const GEN_BATCH = 2000
const execFileAsync = promisify(execFile)

const env = process.env
const chainOptions = () => ({
  chainId: 'bench-prune-1',
  genesisTime: new Date('2024-01-01T00:00:00Z'),
  validators: makeSyntheticValidatorSet({ count: 4, seed: 'bench-a' }),
  txCount: intEnv('GF_BENCH_PRUNE_TXS', 2),
  txSize: intEnv('GF_BENCH_PRUNE_TX_SIZE', 200),
})
// A validator set change every 100k heights (so state.db holds pointers, checkpoints and changes as a real node's).
const VALSET_EVERY = 100_000

function intEnv(name, fallback) {
  const v = env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v} is not a non-negative integer`)
  return n
}

// ---------------------------------------------------------------------------------------------------------------
// Worker thread: builds blocks (hashing, encoding) while the main thread writes the previous batch.

function workerMain() {
  const { blocks } = workerData
  const options = chainOptions()
  const sets = [options.validators, makeSyntheticValidatorSet({ count: 4, seed: 'bench-b' })]
  const chain = new SyntheticChain(options)
  let produced = 0
  let inFlight = 0
  const pump = () => {
    while (inFlight < 2 && produced < blocks) {
      const n = Math.min(GEN_BATCH, blocks - produced)
      const batch = []
      for (let i = 0; i < n; i++) {
        const h = chain.nextHeight
        batch.push(
          h % VALSET_EVERY === VALSET_EVERY / 2
            ? chain.next({ validatorSetUpdate: sets[(Math.floor(h / VALSET_EVERY) + 1) % 2] })
            : chain.next(),
        )
      }
      produced += n
      inFlight++
      parentPort.postMessage(batch)
    }
  }
  parentPort.on('message', () => {
    inFlight--
    pump()
  })
  pump()
}

async function generate(dataDir, blocks, log) {
  const store = await ChainStore.open(dataDir, { create: true })
  const worker = new Worker(THIS_FILE, { workerData: { blocks } })
  const started = performance.now()
  try {
    const queue = []
    let waiting = null
    let failure = null
    worker.on('message', (batch) => {
      if (waiting) {
        const w = waiting
        waiting = null
        w.resolve(batch)
      } else queue.push(batch)
    })
    const fail = (e) => {
      failure ??= e
      waiting?.reject(e)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`generator worker exited (code ${code})`)))
    const genesis = new SyntheticChain(chainOptions()).genesis
    let done = 0
    let lastLog = performance.now()
    while (done < blocks) {
      const batch = await new Promise((resolve, reject) => {
        if (queue.length > 0) resolve(queue.shift())
        else if (failure) reject(failure)
        else waiting = { resolve, reject }
      })
      worker.postMessage('ack')
      done += batch.length
      await store.appendBlocks(batch, { genesis, sync: done === blocks })
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now()
        log(`  generated ${done}/${blocks} (${rate(done, performance.now() - started)} blocks/s)`)
      }
    }
  } finally {
    worker.removeAllListeners('exit')
    await worker.terminate()
    await store.close()
  }
  return performance.now() - started
}

// ---------------------------------------------------------------------------------------------------------------
// Key enumeration (main process, before anything is measured).

function openDb(location) {
  return new ClassicLevel(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
}

async function scan(db, options, onEntry) {
  const it = db.iterator(options)
  try {
    for (;;) {
      const entries = await it.nextv(10_000)
      if (entries.length === 0) break
      for (const [k, v] of entries) onEntry(k, v)
    }
  } finally {
    await it.close()
  }
}

const DIGITS = /^[0-9]+$/
function heightField(s) {
  return DIGITS.test(s) ? Number(s) : -1
}

/**
 * Writes the raw contender's key list to `keysFile`: per chunk of CHUNK heights [u32 state keys][u32 block keys]
 * then the keys as [u8 length][bytes], state keys first. Returns counts for the report.
 */
async function enumerateKeys(dataDir, keysFile) {
  const blockDb = openDb(path.join(dataDir, 'blockstore.db'))
  const stateDb = openDb(path.join(dataDir, 'state.db'))
  await blockDb.open()
  await stateDb.open()
  try {
    const bs = await loadBlockStoreState(blockDb)
    const base = bs.base
    const until = base + Math.round((bs.height - base + 1) * PRUNE_FRACTION)
    const n = until - base
    const hasMeta = new Uint8Array(n)
    const hasC = new Uint8Array(n)
    const hasSC = new Uint8Array(n)
    const hasEC = new Uint8Array(n)
    const parts = new Uint32Array(n)
    const maxPart = new Int32Array(n).fill(-1)
    const bhHex = new Array(n).fill(null)
    const counts = { blockKeysTotal: 0, stateKeysTotal: 0, blockKeysPresent: 0, stateKeysPresent: 0 }
    const inRange = (h) => h >= base && h < until
    await scan(blockDb, { values: false }, (k) => {
      counts.blockKeysTotal++
      const s = k.toString('latin1')
      const colon = s.indexOf(':')
      if (colon < 0) return
      const prefix = s.slice(0, colon)
      const rest = s.slice(colon + 1)
      if (prefix === 'P') {
        const c2 = rest.indexOf(':')
        const h = heightField(rest.slice(0, c2))
        const i = heightField(rest.slice(c2 + 1))
        if (!inRange(h) || i < 0) return
        parts[h - base]++
        if (i > maxPart[h - base]) maxPart[h - base] = i
        return
      }
      if (prefix === 'BH') return // below, with values
      const h = heightField(rest)
      if (!inRange(h)) return
      if (prefix === 'H') hasMeta[h - base] = 1
      else if (prefix === 'C') hasC[h - base] = 1
      else if (prefix === 'SC') hasSC[h - base] = 1
      else if (prefix === 'EC') hasEC[h - base] = 1
    })
    await scan(blockDb, { gte: Buffer.from('BH:'), lt: Buffer.from('BH;') }, (k, v) => {
      const h = heightField(v.toString('latin1'))
      if (!inRange(h)) return
      if (bhHex[h - base] !== null) throw new Error(`two BH: keys for height ${h}`)
      bhHex[h - base] = k.toString('latin1').slice(3)
    })
    const stateNames = ['validatorsKey', 'consensusParamsKey', 'abciResponsesKey']
    const statePresent = stateNames.map(() => new Uint8Array(n))
    await scan(stateDb, { values: false }, (k) => {
      counts.stateKeysTotal++
      const s = k.toString('latin1')
      const colon = s.indexOf(':')
      if (colon < 0) return
      const which = stateNames.indexOf(s.slice(0, colon))
      const h = heightField(s.slice(colon + 1))
      if (which >= 0 && inRange(h)) statePresent[which][h - base] = 1
    })
    const keep = await stateKeepSets(stateDb, until)

    const out = await open(keysFile, 'w')
    const written = { blocks: 0, stateDels: 0, blockDels: 0, absentDels: 0, chunks: 0 }
    try {
      for (let from = base; from < until; from += CHUNK) {
        const to = Math.min(from + CHUNK, until)
        const stateKeys = []
        const blockKeys = []
        for (let h = from; h < to; h++) {
          const i = h - base
          const vk = !keep.validators.has(h)
          const pk = !keep.consensusParams.has(h)
          if (vk) stateKeys.push(`validatorsKey:${h}`)
          if (pk) stateKeys.push(`consensusParamsKey:${h}`)
          stateKeys.push(`abciResponsesKey:${h}`)
          written.absentDels +=
            (vk && !statePresent[0][i] ? 1 : 0) +
            (pk && !statePresent[1][i] ? 1 : 0) +
            (statePresent[2][i] ? 0 : 1)
          if (!hasMeta[i]) continue // the pruner skips heights without a meta entirely
          if (bhHex[i] === null) throw new Error(`no BH: key for height ${h}`)
          if (parts[i] !== maxPart[i] + 1) throw new Error(`height ${h}: parts are not 0..${parts[i] - 1}`)
          blockKeys.push(`H:${h}`, `BH:${bhHex[i]}`, `C:${h}`, `SC:${h}`, `EC:${h}`)
          for (let p = 0; p < parts[i]; p++) blockKeys.push(`P:${h}:${p}`)
          written.absentDels += (hasC[i] ? 0 : 1) + (hasSC[i] ? 0 : 1) + (hasEC[i] ? 0 : 1)
          written.blocks++
        }
        const all = [...stateKeys, ...blockKeys]
        const size = 8 + all.reduce((s, k) => s + 1 + k.length, 0)
        const buf = Buffer.allocUnsafe(size)
        buf.writeUInt32LE(stateKeys.length, 0)
        buf.writeUInt32LE(blockKeys.length, 4)
        let off = 8
        for (const k of all) {
          if (k.length > 255) throw new Error(`key too long: ${k}`)
          buf[off] = k.length
          off += 1 + buf.write(k, off + 1, 'latin1')
        }
        await out.write(buf)
        written.stateDels += stateKeys.length
        written.blockDels += blockKeys.length
        written.chunks++
      }
    } finally {
      await out.close()
    }
    return { base, until, height: bs.height, counts, written, keep }
  } finally {
    await blockDb.close()
    await stateDb.close()
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Child process: one measured run.

async function digestDatabases(dataDir) {
  const hash = createHash('sha256')
  let keys = 0
  for (const name of ['blockstore.db', 'state.db']) {
    const db = openDb(path.join(dataDir, name))
    await db.open()
    try {
      hash.update(`${name}\n`)
      await scan(db, {}, (k, v) => {
        keys++
        hash.update(k)
        hash.update('=')
        hash.update(v)
        hash.update('\n')
      })
    } finally {
      await db.close()
    }
  }
  return { digest: hash.digest('hex').slice(0, 16), keys }
}

async function rawPrune(dataDir, keys, until, height) {
  const blockDb = openDb(path.join(dataDir, 'blockstore.db'))
  const stateDb = openDb(path.join(dataDir, 'state.db'))
  await blockDb.open()
  await stateDb.open()
  let off = 0
  let from = (await loadBlockStoreState(blockDb)).base
  while (off < keys.length) {
    const to = Math.min(from + CHUNK, until)
    const last = to === until
    const nState = keys.readUInt32LE(off)
    const nBlock = keys.readUInt32LE(off + 4)
    off += 8
    const sb = stateDb.batch()
    for (let i = 0; i < nState; i++) {
      const len = keys[off]
      sb.del(keys.subarray(off + 1, off + 1 + len))
      off += 1 + len
    }
    await sb.write({ sync: last })
    const bb = blockDb.batch()
    for (let i = 0; i < nBlock; i++) {
      const len = keys[off]
      bb.del(keys.subarray(off + 1, off + 1 + len))
      off += 1 + len
    }
    bb.put(BLOCK_STORE_STATE_KEY, Buffer.from(encodeBlockStoreState({ base: to, height })))
    await bb.write({ sync: last })
    from = to
  }
  if (from !== until) throw new Error(`raw key list ends at ${from}, not ${until}`)
  await blockDb.close()
  await stateDb.close()
}

/**
 * Resident memory, split: `anon` (heap, native buffers: what the process really allocates) and `rss` (including
 * file-backed pages, i.e. the LevelDB table files classic-level mmaps for reading, which the kernel can drop).
 * Linux: /proc/self/statm; elsewhere rss only.
 */
const PAGE = 4096
function memory() {
  try {
    const [, resident, shared] = readFileSync('/proc/self/statm', 'latin1').split(' ').map(Number)
    return { rss: resident * PAGE, anon: (resident - shared) * PAGE }
  } catch {
    const rss = process.memoryUsage.rss()
    return { rss, anon: rss }
  }
}

async function childMain(job) {
  const dataDir = path.join(job.home, 'data')
  const dirBytes = async () =>
    (await databaseBytes(path.join(dataDir, 'blockstore.db'))) +
    (await databaseBytes(path.join(dataDir, 'state.db')))
  const keys = job.contender === 'raw' ? await readFile(job.keysFile) : null
  const bytesBefore = await dirBytes()
  globalThis.gc?.()
  const before = memory()
  const peak = { ...before }
  const sample = () => {
    const m = memory()
    if (m.rss > peak.rss) peak.rss = m.rss
    if (m.anon > peak.anon) peak.anon = m.anon
  }
  const sampler = setInterval(sample, 20)
  const cpuStart = process.cpuUsage()
  const started = performance.now()
  let result = null
  if (job.contender === 'raw') {
    await rawPrune(dataDir, keys, job.until, job.height)
  } else {
    result = await pruneHome({
      home: job.home,
      untilHeight: job.until,
      statePruning: true,
      forceCompact: false,
    })
  }
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpuStart)
  clearInterval(sampler)
  sample()
  const bytesAfter = await dirBytes()
  const verify = job.verify ? await digestDatabases(dataDir) : null
  const out = {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBefore: before.rss,
    rssPeak: peak.rss,
    anonBefore: before.anon,
    anonPeak: peak.anon,
    bytesBefore,
    bytesAfter,
    verify,
    pruner: result && {
      blocksPruned: result.blocksPruned,
      toBase: result.toBase,
      durationMs: result.durationMs,
      kept: result.kept,
    },
  }
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`)
}

// ---------------------------------------------------------------------------------------------------------------
// Orchestration.

function rate(blocks, ms) {
  return Math.round(blocks / (ms / 1000)).toLocaleString('en-US')
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const mb = (b) => (b / 1048576).toFixed(0)
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

let activeChild = null
function runChild(job) {
  return new Promise((resolve, reject) => {
    const extra = (env.GF_BENCH_PRUNE_CHILD_ARGS ?? '').split(/\s+/).filter(Boolean)
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...extra, THIS_FILE, '--child', JSON.stringify(job)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    activeChild = child
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (s) => {
      out += s
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      activeChild = null
      const line = out.split('\n').find((l) => l.startsWith('@@RESULT '))
      if (code !== 0 || line === undefined) {
        reject(new Error(`${job.contender} run exited with ${code ?? signal}:\n${out}`))
      } else resolve(JSON.parse(line.slice('@@RESULT '.length)))
    })
  })
}

async function main() {
  const quick = env.GF_BENCH_QUICK === '1'
  const sizes = (env.GF_BENCH_PRUNE_BLOCKS ?? (quick ? '20000,100000' : '100000,1000000'))
    .split(',')
    .map((s) => Number(s.trim().replaceAll('_', '')))
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2 * CHUNK)) {
    throw new Error(`GF_BENCH_PRUNE_BLOCKS: every size must be an integer ≥ ${2 * CHUNK}`)
  }
  const rounds = Math.max(1, intEnv('GF_BENCH_PRUNE_RUNS', 2))
  const verify = env.GF_BENCH_PRUNE_VERIFY !== '0'
  const tmpRoot = mkdtempSync(path.join(env.GF_BENCH_TMPDIR ?? os.tmpdir(), 'gf-bench-prune-'))
  const keepTmp = env.GF_BENCH_PRUNE_KEEP_TMP === '1'
  const cleanup = () => {
    activeChild?.kill('SIGKILL')
    if (keepTmp) console.log(`(temp dir kept: ${tmpRoot})`)
    else rmSync(tmpRoot, { recursive: true, force: true })
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
  const o = chainOptions()
  log(
    `prune benchmark: sizes ${sizes.join(', ')} blocks, ${rounds} run(s) per contender, chunk ${CHUNK} heights, ` +
      `prune to base + ${PRUNE_FRACTION}·N; blocks of ${o.txCount} tx × ${o.txSize} B, 4 validators; ` +
      `node ${process.version}, ${os.cpus().length} CPUs; load average ${load()}`,
  )
  log(`temp dir ${tmpRoot}`)
  const rows = []
  try {
    for (const size of sizes) {
      const srcHome = path.join(tmpRoot, `src-${size}`)
      const dataDir = path.join(srcHome, 'data')
      log(`\n[${size} blocks] generating (not measured)…`)
      const genMs = await generate(dataDir, size, log)
      log(`  generated in ${(genMs / 1000).toFixed(1)} s (${rate(size, genMs)} blocks/s), load ${load()}`)
      const keysFile = path.join(tmpRoot, `keys-${size}.bin`)
      const e0 = performance.now()
      const en = await enumerateKeys(dataDir, keysFile)
      const pruned = en.written.blocks
      log(
        `  enumerated in ${((performance.now() - e0) / 1000).toFixed(1)} s: prune [${en.base}, ${en.until}) = ` +
          `${pruned} blocks; deletes ${en.written.blockDels} block keys + ${en.written.stateDels} state keys ` +
          `(${en.written.absentDels} of them absent, e.g. EC:) in ${en.written.chunks} chunks; ` +
          `store has ${en.counts.blockKeysTotal} + ${en.counts.stateKeysTotal} keys; ` +
          `keep sets: validators [${[...en.keep.validators].join(',')}], params [${[...en.keep.consensusParams].join(',')}]`,
      )
      const runs = { raw: [], pruner: [] }
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ['raw', 'pruner'] : ['pruner', 'raw']
        for (const contender of order) {
          const home = path.join(tmpRoot, 'run')
          rmSync(home, { recursive: true, force: true })
          await execFileAsync('cp', ['-r', srcHome, home])
          await execFileAsync('sync', ['-f', home])
          const loadBefore = load()
          const res = await runChild({
            contender,
            home,
            keysFile,
            until: en.until,
            height: en.height,
            verify,
          })
          rmSync(home, { recursive: true, force: true })
          if (res.pruner !== null && (res.pruner.blocksPruned !== pruned || res.pruner.toBase !== en.until)) {
            throw new Error(
              `pruneHome pruned ${res.pruner.blocksPruned} to ${res.pruner.toBase}, expected ${pruned}`,
            )
          }
          runs[contender].push(res)
          log(
            `  ${contender.padEnd(6)} run ${r + 1}: ${(res.ms / 1000).toFixed(2)} s = ${rate(pruned, res.ms)} blocks/s` +
              ` (CPU ${(res.cpuMs / 1000).toFixed(2)} s)` +
              `, RSS ${mb(res.rssBefore)} → peak ${mb(res.rssPeak)} MiB (anon ${mb(res.anonBefore)} → ${mb(res.anonPeak)})` +
              `, bytes ${mb(res.bytesBefore)} → ${mb(res.bytesAfter)} MiB` +
              (res.verify ? `, result ${res.verify.digest} (${res.verify.keys} keys)` : '') +
              `, load ${loadBefore}`,
          )
        }
      }
      if (verify) {
        const digests = new Set([...runs.raw, ...runs.pruner].map((x) => x.verify.digest))
        if (digests.size !== 1) {
          throw new Error(`raw delete and pruneHome left different databases: ${[...digests].join(' ')}`)
        }
      }
      const row = { size, pruned }
      for (const c of ['raw', 'pruner']) {
        const ms = median(runs[c].map((x) => x.ms))
        row[c] = {
          ms,
          cpuMs: median(runs[c].map((x) => x.cpuMs)),
          perBlockUs: (ms * 1000) / pruned,
          rssPeakDelta: median(runs[c].map((x) => x.rssPeak - x.rssBefore)),
          rssPeak: median(runs[c].map((x) => x.rssPeak)),
          anonPeak: median(runs[c].map((x) => x.anonPeak)),
          bytesBefore: runs[c][0].bytesBefore,
          bytesAfter: median(runs[c].map((x) => x.bytesAfter)),
          all: runs[c].map((x) => (x.ms / 1000).toFixed(2)).join('/'),
        }
      }
      row.ratio = row.raw.ms / row.pruner.ms
      row.cpuRatio = row.raw.cpuMs / row.pruner.cpuMs
      rows.push(row)
      log(
        `  → pruner/raw rate ${row.ratio.toFixed(2)}× (target ≥ 0.8×); by CPU time ${row.cpuRatio.toFixed(2)}×; ` +
          `load ${load()}`,
      )
      if (!keepTmp) {
        rmSync(srcHome, { recursive: true, force: true })
        rmSync(keysFile, { force: true })
      }
    }

    log(
      '\nsummary (medians; wall = open → deletes → close; CPU = user+sys of all threads incl. LevelDB compaction; ' +
        'raw = precomputed keys, fsync on the last batch only)',
    )
    log(
      '  blocks     pruned   contender  runs wall (s)       median s   blocks/s  µs/block  CPU s   ' +
        'RSS peak (Δ) / anon MiB  bytes before→after MiB  pruner/raw (wall, CPU)',
    )
    for (const row of rows) {
      for (const c of ['raw', 'pruner']) {
        const x = row[c]
        log(
          `  ${String(row.size).padEnd(10)} ${String(row.pruned).padEnd(8)} ${c.padEnd(10)} ${x.all.padEnd(17)} ` +
            `${(x.ms / 1000).toFixed(2).padStart(8)}   ${rate(row.pruned, x.ms).padStart(8)}  ` +
            `${x.perBlockUs.toFixed(1).padStart(8)}  ${(x.cpuMs / 1000).toFixed(2).padStart(6)}  ` +
            `${`${mb(x.rssPeak)} (+${mb(x.rssPeakDelta)}) / ${mb(x.anonPeak)}`.padEnd(23)}  ` +
            `${`${mb(x.bytesBefore)} → ${mb(x.bytesAfter)}`.padEnd(22)}  ` +
            (c === 'pruner'
              ? `${row.ratio.toFixed(2)}× ${row.ratio >= 0.8 ? 'ok' : 'BELOW 0.8×'}, ${row.cpuRatio.toFixed(2)}×`
              : ''),
        )
      }
    }
    if (rows.length >= 2) {
      const small = rows[0]
      const large = rows[rows.length - 1]
      for (const c of ['pruner', 'raw']) {
        const lin = large[c].perBlockUs / small[c].perBlockUs
        const cpuLin = large[c].cpuMs / large.pruned / (small[c].cpuMs / small.pruned)
        log(
          `  linearity ${c.padEnd(6)}: cost/block at ${large.size} ÷ at ${small.size} = ${lin.toFixed(2)} wall, ` +
            `${cpuLin.toFixed(2)} CPU (target ≈ 1.0, flag > 1.3)${lin > 1.3 ? ' FLAG (wall)' : ''}` +
            `${cpuLin > 1.3 ? ' FLAG (CPU)' : ''}`,
        )
      }
    }
    const last = rows[rows.length - 1]
    log(
      `  target: pruner ≥ 0.8× raw at ${last.size} blocks → ${last.ratio.toFixed(2)}× ` +
        `${last.ratio >= 0.8 ? '(met)' : '(NOT met)'}; load average at end ${load()}`,
    )
  } finally {
    cleanup()
  }
}

if (!isMainThread) {
  workerMain()
} else if (process.argv[2] === '--child') {
  await childMain(JSON.parse(process.argv[3]))
} else {
  await main()
}

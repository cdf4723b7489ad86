// Sidecar benchmarks (issue 4), run by `npm run bench -- sidecar` after a build. Targets are printed, never
// asserted.
//   1. Mode-switch overhead: from the decision (the sidecar's "switching to … mode" log line) to the node
//      answering RPC again, minus the node's own stop + start time measured directly on the same home in the
//      same run. Target ≤ 1 s (supervysor slept ≥ 30 s around every switch).
//   2. Footprint of 60 s idle supervision (default 10 s interval, node in ghost mode, after a 15 s warm-up): the
//      sidecar's RSS and CPU, read from /proc. Targets: RSS ≤ 60 MB, CPU ≤ 0.2 % of a core.
import { spawn } from 'node:child_process'
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKyveSimulator } from '@ghostfleet/devnet'
import { freePort, runProcess } from '@ghostfleet/testkit'
import { stringify } from 'smol-toml'

const here = path.dirname(fileURLToPath(import.meta.url))
const SIMNODE = path.resolve(here, '../../devnet/dist/simnode-cli.js')
const SIDECAR = path.resolve(here, '../dist/cli.js')
const IDLE_SECONDS = Number(process.env.GF_BENCH_IDLE_SECONDS ?? 60)
const SWITCHES = Number(process.env.GF_BENCH_SWITCHES ?? 6)

const dir = await (await import('node:fs/promises')).mkdtemp(path.join(os.tmpdir(), 'gf-sidecar-bench-'))
const children = []
const sleepUntil = async (what, check, timeoutMs = 60_000, pollMs = 10) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false && value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}
const status = async (port) => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(1_000) })
    return (await r.json()).result.sync_info
  } catch {
    return null
  }
}
function start(args, options = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  child.stderr.on('data', (c) => (out += c))
  children.push(child)
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', r)) }
}
async function init(name) {
  const home = path.join(dir, name)
  const r = await runProcess(process.execPath, [SIMNODE, 'init', '--home', home, '--chain-id', 'bench-1'])
  if (r.code !== 0) throw new Error(r.stderr)
  return { home, id: JSON.parse(r.stdout).node_id }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

try {
  // A producer, and a follower whose address book names it.
  const producer = await init('producer')
  const pRpc = await freePort()
  const pP2p = await freePort()
  start([
    SIMNODE,
    'start',
    '--home',
    producer.home,
    '--producer',
    '--block-time',
    '100',
    '--rpc.laddr',
    `tcp://127.0.0.1:${pRpc}`,
    '--p2p.laddr',
    `tcp://127.0.0.1:${pP2p}`,
    '--log-level',
    'error',
  ])
  await sleepUntil('producer', () => status(pRpc))
  const follower = await init('follower')
  const fRpc = await freePort()
  const fP2p = await freePort()
  const cfgFile = path.join(follower.home, 'config', 'config.toml')
  await writeFile(
    cfgFile,
    (await readFile(cfgFile, 'utf8'))
      .replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${fRpc}"`)
      .replace(/^laddr = "tcp:\/\/0\.0\.0\.0:26656"$/m, `laddr = "tcp://127.0.0.1:${fP2p}"`),
  )
  const zero = '0001-01-01T00:00:00Z'
  const addr = { id: producer.id, ip: '127.0.0.1', port: pP2p }
  await writeFile(
    path.join(follower.home, 'config', 'addrbook.json'),
    JSON.stringify(
      {
        key: '0123456789abcdef01234567',
        addrs: [
          {
            addr,
            src: addr,
            buckets: [7],
            attempts: 0,
            bucket_type: 1,
            last_attempt: zero,
            last_success: zero,
            last_ban_time: zero,
          },
        ],
      },
      null,
      '\t',
    ),
  )

  // Baseline: the node's own stop + start on this home (SIGTERM → exit, spawn → RPC answers).
  const baseline = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    const node = start([SIMNODE, 'start', '--home', follower.home, '--log-level', 'error'])
    await sleepUntil('follower RPC', () => status(fRpc))
    const up = performance.now() - t0
    const t1 = performance.now()
    node.child.kill('SIGTERM')
    await node.exited
    baseline.push(up + (performance.now() - t1))
  }
  const baselineMs = median(baseline)

  // The sidecar, switching modes as the test moves the pool.
  const kyve = await startKyveSimulator({
    sourceChainId: 'bench-1',
    pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
  })
  const binary = path.join(dir, 'simnode')
  await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE}" "$@"\n`)
  await chmod(binary, 0o755)
  const httpPort = await freePort()
  const configDir = path.join(dir, 'sidecar')
  await mkdir(configDir, { recursive: true })
  const config = {
    node: {
      binary,
      home: follower.home,
      launcher: 'binary',
      flags: '--log-level error',
      rpcEndpoint: `http://127.0.0.1:${fRpc}`,
      stopGraceSeconds: 10,
    },
    pool: { chainId: 'kyve-1', poolId: 1, endpoints: [kyve.url], maxPoolAgeSeconds: 60 },
    thresholds: { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
    pruning: { enabled: false },
    supervision: { intervalSeconds: 0.2 },
    http: { listen: `127.0.0.1:${httpPort}` },
  }
  await writeFile(path.join(configDir, 'config.toml'), stringify(config))
  const sidecar = start([SIDECAR, 'start', '--config', configDir], {
    env: { ...process.env, GHOSTFLEET_LOG_LEVEL: 'info' },
  })
  const logs = () =>
    sidecar
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
  const overheads = []
  for (let i = 0; i < SWITCHES; i++) {
    const seen = logs().filter((l) => /^switching to/.test(l.msg)).length
    // Odd rounds: the pool catches up to 10 blocks below the node (→ normal). Even rounds: the pool stays put
    // while the node syncs 40 blocks ahead of it (→ ghost).
    if (i % 2 === 1) {
      const node = await sleepUntil('node', () => status(fRpc))
      await kyve.setPool(1, { currentKey: String(Number(node.latest_block_height) - 10) })
    }
    const decision = await sleepUntil(
      'a switch decision',
      () => logs().filter((l) => /^switching to/.test(l.msg))[seen],
      120_000,
    )
    await sleepUntil(
      'the restarted node',
      () => logs().find((l) => l.msg === 'node started' && l.time >= decision.time),
      30_000,
      2,
    )
    await sleepUntil('the node to answer', () => status(fRpc), 30_000, 2)
    overheads.push(Date.now() - decision.time - baselineMs)
  }

  // Idle footprint: ghost mode, default interval, pruning off.
  await kyve.setPool(1, { currentKey: '5' })
  await sleepUntil(
    'ghost mode',
    async () => {
      try {
        return (await (await fetch(`http://127.0.0.1:${httpPort}/status`)).json()).mode === 'ghost'
      } catch {
        return false
      }
    },
    120_000,
    100,
  )
  sidecar.child.kill('SIGTERM')
  await sidecar.exited
  await writeFile(
    path.join(configDir, 'config.toml'),
    stringify({ ...config, supervision: { intervalSeconds: 10 } }),
  )
  const idle = start([SIDECAR, 'start', '--config', configDir], {
    env: { ...process.env, GHOSTFLEET_LOG_LEVEL: 'warn' },
  })
  await sleepUntil('ghost node', () => status(fRpc), 60_000, 100)
  // Steady state: the first ticks compile the code paths (JIT), which is start-up cost, not supervision.
  await new Promise((r) => setTimeout(r, 15_000))
  // /proc counts CPU time in USER_HZ ticks, 100 per second on Linux.
  const ticks = 100
  const cpu = async () => {
    const f = (await readFile(`/proc/${idle.child.pid}/stat`, 'utf8')).split(') ')[1].split(' ')
    return (Number(f[11]) + Number(f[12])) / ticks
  }
  const rss = async () =>
    Number(/VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${idle.child.pid}/status`, 'utf8'))[1]) / 1024
  const cpu0 = await cpu()
  const t0 = performance.now()
  let maxRss = 0
  const end = Date.now() + IDLE_SECONDS * 1000
  while (Date.now() < end) {
    maxRss = Math.max(maxRss, await rss())
    await new Promise((r) => setTimeout(r, 1_000))
  }
  const cpuPercent = (((await cpu()) - cpu0) / ((performance.now() - t0) / 1000)) * 100
  idle.child.kill('SIGTERM')
  await idle.exited
  await kyve.stop()

  console.log(`node stop + start on its own (baseline, median of 5): ${baselineMs.toFixed(0)} ms`)
  console.log(
    `mode switch, decision → node answers, minus the baseline (${overheads.length} switches): median ${median(overheads).toFixed(0)} ms, max ${Math.max(...overheads).toFixed(0)} ms   [target ≤ 1000 ms; supervysor ≥ 30000 ms]`,
  )
  console.log(
    `idle supervision over ${IDLE_SECONDS} s at a 10 s interval: RSS max ${maxRss.toFixed(1)} MB [target ≤ 60 MB], CPU ${cpuPercent.toFixed(3)} % of a core [target ≤ 0.2 %]`,
  )
} finally {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await rm(dir, { recursive: true, force: true })
}

import { execFile } from 'node:child_process'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { eventually, freePort, requireRedisServer, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'
import { startKyveSimulator } from '../kyve-sim/index.js'
import { type DemoScenario, scenarioPhase } from './demo-scenario.js'
import { type FleetBinaries, resolveFleetBinaries } from './fleet-layout.js'
import { ManagedProcess } from './managed-process.js'

const run = promisify(execFile)

/** Options of `ghostfleet-devnet up`. */
export interface UpOptions {
  /** Sidecars, each supervising one follower node. @default 3 */
  sidecars: number
  /** Producer block time. @default 200 */
  blockTimeMs: number
  /** Stop by itself after this long (tests, CI); otherwise runs until Ctrl-C. */
  durationSeconds?: number
  /** Keep the work directory (homes, configs, logs) after stopping. */
  keep: boolean
  /** Work directory. @default a fresh directory under the OS temp dir */
  dir?: string
  scenario: DemoScenario
  /** Where the live table and progress go. */
  print: (text: string) => void
  /** Clear the screen before each table (a TTY). */
  redraw: boolean
}

const CHAIN_ID = 'osmosis-1'
const KYVE_CHAIN_ID = 'kyve-1'
const POOL_ID = 0
/*
 * Pool settings scaled so that the thresholds are small: round(1 / 2880 × 86400 × 2) = 60 blocks ahead → ghost,
 * 30 → normal, exactly as `ghostfleet-sidecar init` computes them from a real pool. One bundle of one block every
 * 50 ms lets the pool catch up at 20 blocks/s, faster than the 5 blocks/s the chain makes.
 */
const MAX_BUNDLE_SIZE = 1
const UPLOAD_INTERVAL = 2880
const BUNDLE_EVERY_MS = 50
/** A prune is due every 20 s of ghost mode (the fleet default is 24 h). */
const PRUNING_INTERVAL_HOURS = 20 / 3600

interface Running {
  redis?: TestRedis
  kyve?: Awaited<ReturnType<typeof startKyveSimulator>>
  processes: ManagedProcess[]
}

/**
 * Starts the whole local fleet — a private redis-server, a producer node, the simulated KYVE API, a tracker and
 * N sidecars each supervising a follower node — drives the pool through ghost/prune/normal cycles, prints the
 * fleet table, and stops everything cleanly on SIGINT/SIGTERM or after `durationSeconds`.
 */
export async function up(options: UpOptions): Promise<void> {
  requireRedisServer()
  const bins = resolveFleetBinaries()
  const dir = options.dir ?? path.join(os.tmpdir(), `ghostfleet-demo-${Date.now()}`)
  await mkdir(dir, { recursive: true })
  const logs = path.join(dir, 'logs')
  await mkdir(logs, { recursive: true })
  const running: Running = { processes: [] }
  const say = (line: string) => options.print(`${line}\n`)
  const stopSignal = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => resolve(signal)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    if (options.durationSeconds !== undefined) {
      setTimeout(() => resolve('duration elapsed'), options.durationSeconds * 1000).unref()
    }
  })

  try {
    say(`ghostfleet demo: work directory ${dir} (logs in ${logs})`)
    running.redis = await startRedis()
    say(`redis-server on ${running.redis.url}`)

    const producer = await startProducer(bins, dir, logs, options.blockTimeMs, running)
    say(`producer node ${producer.nodeId} on ${producer.rpc}`)

    running.kyve = await startKyveSimulator({
      chainId: KYVE_CHAIN_ID,
      chainRpc: producer.rpc,
      maxBundleSize: MAX_BUNDLE_SIZE,
      uploadInterval: UPLOAD_INTERVAL,
      bundleEveryMs: BUNDLE_EVERY_MS,
      pools: [{ id: POOL_ID, paused: true }],
      log: () => {},
    })
    say(`simulated KYVE API on ${running.kyve.url} (pool ${POOL_ID}, paused)`)

    const trackerUrl = await startTracker(bins, dir, logs, running.redis.url, running.kyve.url, running)
    say(`tracker on ${trackerUrl}`)

    for (let i = 1; i <= options.sidecars; i++) {
      const sidecar = await startSidecar(bins, dir, logs, i, {
        seeds: `${producer.nodeId}@${producer.p2pHostPort}`,
        kyveUrl: running.kyve.url,
        redisUrl: running.redis.url,
        running,
      })
      say(`sidecar ${sidecar.id} supervising a follower (RPC ${sidecar.rpc}, sidecar API ${sidecar.http})`)
    }

    const started = Date.now()
    let paused = true
    const tick = async () => {
      const phase = scenarioPhase(options.scenario, Date.now() - started)
      const wantPaused = phase === 'pool paused: nodes run ahead'
      if (wantPaused !== paused && running.kyve) {
        running.kyve.setPool(POOL_ID, { paused: wantPaused })
        paused = wantPaused
      }
      const pool = running.kyve?.pool(POOL_ID)
      const table = await fleetTable(bins, trackerUrl)
      const elapsed = Math.round((Date.now() - started) / 1000)
      const header =
        `ghostfleet demo — ${elapsed}s — ${phase} — pool height ${pool?.currentKey || '(none yet)'} ` +
        `— thresholds: ghost at +60, normal at +30 — Ctrl-C stops everything`
      options.print(`${options.redraw ? '\x1b[2J\x1b[H' : '\n'}${header}\n${table}`)
      const dead = running.processes.find((p) => p.hasExited())
      if (dead) throw new Error(`${dead.name} exited unexpectedly (${await dead.exit()}); see ${logs}`)
    }
    const reason = await Promise.race([
      stopSignal,
      (async () => {
        for (;;) {
          await tick()
          const next = new Promise((resolve) => setTimeout(resolve, 2000))
          if ((await Promise.race([next.then(() => 'tick'), stopSignal])) !== 'tick') return 'stop'
        }
      })(),
    ])
    say(`\nstopping (${reason})…`)
  } finally {
    await stopAll(running, say)
    if (!options.keep && options.dir === undefined) await rm(dir, { recursive: true, force: true })
    else say(`kept ${dir}`)
  }
}

async function simnodeInit(bins: FleetBinaries, home: string): Promise<string> {
  const { stdout } = await run(process.execPath, [
    bins.simnode,
    'init',
    '--home',
    home,
    '--chain-id',
    CHAIN_ID,
  ])
  const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { node_id?: string }
  if (!parsed.node_id) throw new Error(`simnode init printed no node id: ${stdout}`)
  return parsed.node_id
}

async function startProducer(
  bins: FleetBinaries,
  dir: string,
  logs: string,
  blockTimeMs: number,
  running: Running,
): Promise<{ nodeId: string; rpc: string; p2pHostPort: string }> {
  const home = path.join(dir, 'producer')
  const nodeId = await simnodeInit(bins, home)
  const rpcPort = await freePort()
  const p2pPort = await freePort()
  const rpc = `http://127.0.0.1:${rpcPort}`
  const proc = new ManagedProcess(
    'producer',
    process.execPath,
    [
      bins.simnode,
      'start',
      '--home',
      home,
      '--producer',
      '--block-time',
      String(blockTimeMs),
      '--rpc.laddr',
      `tcp://127.0.0.1:${rpcPort}`,
      '--p2p.laddr',
      `tcp://127.0.0.1:${p2pPort}`,
    ],
    path.join(logs, 'producer.log'),
  )
  running.processes.push(proc)
  await waitForHttp(`${rpc}/status`, proc, 'the producer node')
  return { nodeId, rpc, p2pHostPort: `127.0.0.1:${p2pPort}` }
}

async function startTracker(
  bins: FleetBinaries,
  dir: string,
  logs: string,
  redisUrl: string,
  kyveUrl: string,
  running: Running,
): Promise<string> {
  const port = await freePort()
  const configFile = path.join(dir, 'tracker.toml')
  await writeFile(
    configFile,
    stringifyToml({
      redisUrl,
      listen: `127.0.0.1:${port}`,
      pollIntervalSeconds: 1,
      leaseTtlMs: 3000,
      maxPoolAgeSeconds: 30,
      defaults: { maxUnavailable: 1, pruningIntervalHours: PRUNING_INTERVAL_HOURS, margin: 1 },
      chains: { [KYVE_CHAIN_ID]: [kyveUrl] },
    }),
  )
  const proc = new ManagedProcess(
    'tracker',
    process.execPath,
    [bins.tracker, 'start', '--config', configFile, '--id', 'demo-tracker'],
    path.join(logs, 'tracker.log'),
  )
  running.processes.push(proc)
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/livez`, proc, 'the tracker')
  return url
}

async function startSidecar(
  bins: FleetBinaries,
  dir: string,
  logs: string,
  index: number,
  ctx: { seeds: string; kyveUrl: string; redisUrl: string; running: Running },
): Promise<{ id: string; rpc: string; http: string }> {
  const id = `demo-sidecar-${index}`
  const home = path.join(dir, `node-${index}`)
  const configDir = path.join(dir, `sidecar-${index}`)
  await simnodeInit(bins, home)
  const rpcPort = await freePort()
  const p2pPort = await freePort()
  const httpPort = await freePort()
  const rpc = `http://127.0.0.1:${rpcPort}`
  const flags = `--rpc.laddr tcp://127.0.0.1:${rpcPort} --p2p.laddr tcp://127.0.0.1:${p2pPort} --addrbook-flush-ms 2000`
  await run(process.execPath, [
    bins.sidecar,
    'init',
    '--binary',
    bins.simnode,
    '--home',
    home,
    '--pool-id',
    String(POOL_ID),
    '--chain-id',
    KYVE_CHAIN_ID,
    '--fallback-endpoints',
    ctx.kyveUrl,
    '--seeds',
    ctx.seeds,
    '--pruning-interval',
    String(PRUNING_INTERVAL_HOURS),
    '--abci-endpoint',
    rpc,
    '--config',
    configDir,
    '--flags',
    flags,
  ])
  // The demo runs faster than a real fleet: tick every second, report every second, small grace and backoff.
  const configFile = path.join(configDir, 'config.toml')
  const config = parseToml(await readFile(configFile, 'utf8')) as Record<string, Record<string, unknown>>
  config.node = {
    ...config.node,
    stopGraceSeconds: 10,
    output: 'file',
    logFile: path.join(logs, `node-${index}.log`),
  }
  config.supervision = { ...config.supervision, intervalSeconds: 1, restartBackoffInitialSeconds: 1 }
  config.http = { ...config.http, enabled: true, listen: `127.0.0.1:${httpPort}` }
  config.fleet = {
    ...config.fleet,
    redisUrl: ctx.redisUrl,
    sidecarId: id,
    reportIntervalSeconds: 1,
    trackerTimeoutSeconds: 15,
  }
  await writeFile(configFile, stringifyToml(config))
  const proc = new ManagedProcess(
    id,
    process.execPath,
    [bins.sidecar, 'start', '--config', configDir],
    path.join(logs, `${id}.log`),
  )
  ctx.running.processes.push(proc)
  const http = `http://127.0.0.1:${httpPort}`
  await waitForHttp(`${http}/livez`, proc, id)
  return { id, rpc, http }
}

async function waitForHttp(url: string, proc: ManagedProcess, what: string): Promise<void> {
  await eventually(
    async () => {
      if (proc.hasExited()) throw new Error(`${what} exited (${await proc.exit()})`)
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (response.status >= 500) throw new Error(`${url} answered ${response.status}`)
    },
    { timeoutMs: 30_000, intervalMs: 100, description: `${what} to answer ${url}` },
  )
}

/** The tracker's own `status` command renders the table, so the demo shows exactly what an operator sees. */
async function fleetTable(bins: FleetBinaries, trackerUrl: string): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [bins.tracker, 'status', '--tracker', trackerUrl])
    return stdout
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    return failed.stdout || failed.stderr || failed.message
  }
}

/** Sidecars first (each stops its node cleanly), then the tracker and the producer, the KYVE API, Redis. */
async function stopAll(running: Running, say: (line: string) => void): Promise<void> {
  const sidecars = running.processes.filter((p) => p.name.startsWith('demo-sidecar-'))
  const others = running.processes.filter((p) => !p.name.startsWith('demo-sidecar-'))
  await Promise.all(sidecars.map(async (p) => say(`${p.name}: exit ${await p.stop(30_000)}`)))
  await Promise.all(others.map(async (p) => say(`${p.name}: exit ${await p.stop(15_000)}`)))
  await running.kyve?.stop()
  await running.redis?.stop()
  say('everything stopped')
}

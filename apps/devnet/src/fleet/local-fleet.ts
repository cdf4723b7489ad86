import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { eventually, freePort, type LocalRedis, startRedis } from '@ghostfleet/local-services'
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'
import { type KyveSimulator, startKyveSimulator } from '../kyve-sim/index.js'
import { type FleetBinaries, type FleetCommand, fleetCommand, localFleetBinaries } from './fleet-layout.js'
import { ManagedProcess } from './managed-process.js'

const run = promisify(execFile)

/*
 * The building blocks of a local fleet — a private redis-server, a producer node, the simulated KYVE API,
 * trackers and sidecars each supervising a follower node — shared by `ghostfleet devnet up` (the demo) and the
 * end-to-end tests (test/e2e), which start the same processes with their own timings. Every process's output goes
 * to `<dir>/logs/<name>.log`; `stop()` ends everything, sidecars first (each stops its node).
 *
 * Pool settings are scaled so the thresholds are small: with max_bundle_size 1 and upload_interval 2880,
 * `ghostfleet sidecar init` computes round(1 / 2880 × 86400 × 2) = 60 blocks ahead → ghost, 30 → normal,
 * exactly as it does for a real pool.
 */

export const FLEET_SOURCE_CHAIN_ID = 'osmosis-1'
export const FLEET_KYVE_CHAIN_ID = 'kyve-1'
export const FLEET_POOL_ID = 0
export const FLEET_MAX_BUNDLE_SIZE = 1
export const FLEET_UPLOAD_INTERVAL = 2880
/** The thresholds `init` computes from the two settings above. */
export const FLEET_THRESHOLDS = { heightDifferenceMax: 60, heightDifferenceMin: 30 } as const

export interface ProducerInfo {
  nodeId: string
  rpc: string
  p2pHostPort: string
  process: ManagedProcess
}

export interface TrackerSpec {
  id: string
  pruningIntervalHours: number
  pollIntervalSeconds?: number
  leaseTtlMs?: number
  maxPoolAgeSeconds?: number
  maxUnavailable?: number
  /** `--refresh-seconds` (the tracker's default 30 when absent). */
  refreshSeconds?: number
  /** Extra environment (e.g. `GHOSTFLEET_FLEET_KEY`). */
  env?: NodeJS.ProcessEnv
}

export interface TrackerInfo {
  id: string
  /** The program that started the tracker (this node, or the single executable's link). */
  command: string
  /** `command`'s arguments: the same command restarts it. */
  args: string[]
  url: string
  configFile: string
  logFile: string
  process: ManagedProcess
}

export interface SidecarSpec {
  id: string
  pruningIntervalHours: number
  /** The KYVE pool the sidecar follows (`init --pool-id`). @default FLEET_POOL_ID */
  poolId?: number
  /**
   * The follower's home. It may exist already (e.g. a mount point of its own) but must hold no node yet.
   * @default `<dir>/node-<id>`
   */
  home?: string
  /** `supervision.intervalSeconds`. @default 1 */
  intervalSeconds?: number
  /** `fleet.reportIntervalSeconds`. @default 1 */
  reportIntervalSeconds?: number
  /** `fleet.trackerTimeoutSeconds`. @default 15 */
  trackerTimeoutSeconds?: number
  /** `supervision.restartBackoffMaxSeconds`. @default the sidecar's own (`init`'s) */
  restartBackoffMaxSeconds?: number
  /** Extra environment (e.g. `GHOSTFLEET_FLEET_KEY`). */
  env?: NodeJS.ProcessEnv
  /**
   * Turn on the RPC gateway and the peer listener (which also needs `GHOSTFLEET_FLEET_KEY` in `env`).
   * @default the gateway as `init` writes it, no peer listener
   */
  gateway?: boolean
}

/** A sidecar initialised and configured by {@link LocalFleet.prepareSidecar}, not started. */
export interface PreparedSidecar {
  id: string
  poolId: number
  /** The follower node's RPC. */
  rpc: string
  /** The sidecar's HTTP API (/status, /metrics), once started. */
  http: string
  /**
   * Where the sidecar's RPC gateway listens (a port of its own, so sidecars on one host never clash), whether the
   * config turns it on or not.
   */
  gateway: string
  /** The peer listener's URL, when {@link SidecarSpec.gateway} turned it on. */
  peer: string | null
  home: string
  configDir: string
  /** The program that starts the sidecar (this node, or the single executable's link). */
  command: string
  /** `command`'s arguments: the same command restarts it. */
  args: string[]
}

export interface SidecarInfo extends PreparedSidecar {
  logFile: string
  process: ManagedProcess
}

export interface KyveSpec {
  /** Milliseconds between bundle rounds (one block per bundle). @default 50 */
  bundleEveryMs?: number
  /** Start with the pool paused. @default true */
  paused?: boolean
}

export class LocalFleet {
  readonly logs: string
  readonly processes: ManagedProcess[] = []
  readonly trackers: TrackerInfo[] = []
  readonly sidecars: SidecarInfo[] = []
  redis: LocalRedis | null = null
  kyve: KyveSimulator | null = null
  producer: ProducerInfo | null = null
  /** Set by {@link stop}: a start still under way then spawns nothing more. */
  private stopping = false

  private constructor(
    readonly dir: string,
    readonly bins: FleetBinaries,
  ) {
    this.logs = path.join(dir, 'logs')
  }

  /** `bins` defaults to the repository's scripts, or inside the single executable to links to it in `<dir>/bin`. */
  static async create(dir: string, bins?: FleetBinaries): Promise<LocalFleet> {
    const fleet = new LocalFleet(dir, bins ?? (await localFleetBinaries(path.join(dir, 'bin'))))
    await mkdir(fleet.logs, { recursive: true })
    return fleet
  }

  async startRedis(): Promise<LocalRedis> {
    this.redis = await startRedis()
    return this.redis
  }

  async startProducer(blockTimeMs: number): Promise<ProducerInfo> {
    const home = path.join(this.dir, 'producer')
    const nodeId = await this.simnodeInit(home)
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    const rpc = `http://127.0.0.1:${rpcPort}`
    const proc = this.spawn(
      'producer',
      this.command(this.bins.simnode, [
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
      ]),
    )
    await waitForHttp(`${rpc}/status`, proc, 'the producer node')
    this.producer = { nodeId, rpc, p2pHostPort: `127.0.0.1:${p2pPort}`, process: proc }
    return this.producer
  }

  /** The simulated KYVE API, one pool following the producer's height. */
  async startKyve(spec: KyveSpec = {}): Promise<KyveSimulator> {
    const producer = this.need(this.producer, 'startProducer')
    this.kyve = await startKyveSimulator({
      chainId: FLEET_KYVE_CHAIN_ID,
      sourceChainId: FLEET_SOURCE_CHAIN_ID,
      chainRpc: producer.rpc,
      maxBundleSize: FLEET_MAX_BUNDLE_SIZE,
      uploadInterval: FLEET_UPLOAD_INTERVAL,
      bundleEveryMs: spec.bundleEveryMs ?? 50,
      pools: [{ id: FLEET_POOL_ID, paused: spec.paused ?? true }],
      log: () => {},
    })
    return this.kyve
  }

  async startTracker(spec: TrackerSpec): Promise<TrackerInfo> {
    const redis = this.need(this.redis, 'startRedis')
    const kyve = this.need(this.kyve, 'startKyve')
    const port = await freePort()
    const configFile = path.join(this.dir, `${spec.id}.toml`)
    await writeFile(
      configFile,
      stringifyToml({
        redisUrl: redis.url,
        listen: `127.0.0.1:${port}`,
        pollIntervalSeconds: spec.pollIntervalSeconds ?? 1,
        leaseTtlMs: spec.leaseTtlMs ?? 3000,
        maxPoolAgeSeconds: spec.maxPoolAgeSeconds ?? 30,
        defaults: {
          maxUnavailable: spec.maxUnavailable ?? 1,
          pruningIntervalHours: spec.pruningIntervalHours,
          margin: 1,
        },
        chains: { [FLEET_KYVE_CHAIN_ID]: [kyve.url] },
      }),
    )
    const started = this.command(this.bins.tracker, [
      'start',
      '--config',
      configFile,
      '--id',
      spec.id,
      ...(spec.refreshSeconds === undefined ? [] : ['--refresh-seconds', String(spec.refreshSeconds)]),
    ])
    const proc = this.spawn(spec.id, started, spec.env)
    const url = `http://127.0.0.1:${port}`
    await waitForHttp(`${url}/livez`, proc, spec.id)
    const info = { id: spec.id, ...started, url, configFile, logFile: this.logFile(spec.id), process: proc }
    this.trackers.push(info)
    return info
  }

  /**
   * Initialises a follower home, runs `ghostfleet sidecar init` against the simulated pool, patches the config
   * for fast ticks and fleet mode, and starts the sidecar (which launches the follower).
   */
  async startSidecar(spec: SidecarSpec): Promise<SidecarInfo> {
    const prepared = await this.prepareSidecar(spec)
    const proc = this.spawn(spec.id, prepared, spec.env)
    await waitForHttp(`${prepared.http}/livez`, proc, spec.id)
    const info = { ...prepared, logFile: this.logFile(spec.id), process: proc }
    this.sidecars.push(info)
    return info
  }

  /**
   * {@link startSidecar} without the start: for a caller that supervises the sidecar itself (the soak restarts
   * the same command after killing it).
   */
  async prepareSidecar(spec: SidecarSpec): Promise<PreparedSidecar> {
    const redis = this.need(this.redis, 'startRedis')
    const kyve = this.need(this.kyve, 'startKyve')
    const producer = this.need(this.producer, 'startProducer')
    const poolId = spec.poolId ?? FLEET_POOL_ID
    const home = spec.home ?? path.join(this.dir, `node-${spec.id}`)
    const configDir = path.join(this.dir, `sidecar-${spec.id}`)
    await this.simnodeInit(home)
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    const httpPort = await freePort()
    const gatewayPort = await freePort()
    const peerPort = spec.gateway === true ? await freePort() : null
    const rpc = `http://127.0.0.1:${rpcPort}`
    const flags = `--rpc.laddr tcp://127.0.0.1:${rpcPort} --p2p.laddr tcp://127.0.0.1:${p2pPort} --addrbook-flush-ms 2000`
    const init = this.command(this.bins.sidecar, [
      'init',
      '--binary',
      this.bins.simnode,
      '--home',
      home,
      '--pool-id',
      String(poolId),
      '--chain-id',
      FLEET_KYVE_CHAIN_ID,
      '--fallback-endpoints',
      kyve.url,
      '--seeds',
      `${producer.nodeId}@${producer.p2pHostPort}`,
      '--pruning-interval',
      String(spec.pruningIntervalHours),
      '--abci-endpoint',
      rpc,
      '--config',
      configDir,
      '--flags',
      flags,
    ])
    await run(init.command, init.args)
    // Faster than a real fleet: short ticks and reports, small grace and backoff.
    const configFile = path.join(configDir, 'config.toml')
    const config = parseToml(await readFile(configFile, 'utf8')) as Record<string, Record<string, unknown>>
    config.node = {
      ...config.node,
      stopGraceSeconds: 10,
      output: 'file',
      logFile: path.join(this.logs, `node-${spec.id}.log`),
    }
    config.supervision = {
      ...config.supervision,
      intervalSeconds: spec.intervalSeconds ?? 1,
      restartBackoffInitialSeconds: 1,
      ...(spec.restartBackoffMaxSeconds === undefined
        ? {}
        : { restartBackoffMaxSeconds: spec.restartBackoffMaxSeconds }),
    }
    config.http = { ...config.http, enabled: true, listen: `127.0.0.1:${httpPort}` }
    config.gateway = {
      ...config.gateway,
      listen: `127.0.0.1:${gatewayPort}`,
      ...(spec.gateway === undefined ? {} : { enabled: spec.gateway }),
    }
    if (peerPort !== null) config.peer = { ...config.peer, listen: `127.0.0.1:${peerPort}` }
    config.fleet = {
      ...config.fleet,
      redisUrl: redis.url,
      sidecarId: spec.id,
      reportIntervalSeconds: spec.reportIntervalSeconds ?? 1,
      trackerTimeoutSeconds: spec.trackerTimeoutSeconds ?? 15,
    }
    await writeFile(configFile, stringifyToml(config))
    return {
      ...this.command(this.bins.sidecar, ['start', '--config', configDir]),
      id: spec.id,
      poolId,
      rpc,
      http: `http://127.0.0.1:${httpPort}`,
      gateway: `http://127.0.0.1:${gatewayPort}`,
      peer: peerPort === null ? null : `http://127.0.0.1:${peerPort}`,
      home,
      configDir,
    }
  }

  /**
   * SIGKILLs every process still running, synchronously (a parent's `exit` handler: it cannot wait for
   * {@link stop}). Redis and the KYVE API, which {@link stop} ends, are left to it.
   */
  killNow(): void {
    this.stopping = true
    for (const p of this.processes) p.killNow()
  }

  /** The command that runs `file`, one of {@link bins}, with `args` (from the repository or the single executable). */
  command(file: string, args: readonly string[]): FleetCommand {
    return fleetCommand(this.bins, file, args)
  }

  logFile(name: string): string {
    return path.join(this.logs, `${name}.log`)
  }

  /**
   * Sidecars first (each stops its node cleanly; a group that does not end in time is killed as a whole), then
   * trackers and the producer, the KYVE API, Redis. Idempotent.
   */
  async stop(say: (line: string) => void = () => {}): Promise<void> {
    this.stopping = true
    const sidecars = this.processes.filter((p) => this.sidecars.some((s) => s.process === p))
    const others = this.processes.filter((p) => !sidecars.includes(p))
    await Promise.all(sidecars.map(async (p) => say(`${p.name}: exit ${await p.stop(30_000)}`)))
    await Promise.all(others.map(async (p) => say(`${p.name}: exit ${await p.stop(15_000)}`)))
    await this.kyve?.stop()
    await this.redis?.stop()
  }

  /**
   * Every process leads its own process group: a terminal's Ctrl-C reaches only the parent (`up`), which stops the
   * fleet in order (sidecars first, so each stops its node) instead of every child racing to exit at once, and a
   * sidecar killed with SIGKILL cannot leave its node behind at {@link stop}.
   */
  private spawn(name: string, started: FleetCommand, env: NodeJS.ProcessEnv = {}): ManagedProcess {
    if (this.stopping) throw new Error(`LocalFleet: stopping, ${name} is not started`)
    const proc = new ManagedProcess(name, started.command, started.args, this.logFile(name), env, {
      group: true,
    })
    this.processes.push(proc)
    return proc
  }

  private async simnodeInit(home: string): Promise<string> {
    const init = this.command(this.bins.simnode, [
      'init',
      '--home',
      home,
      '--chain-id',
      FLEET_SOURCE_CHAIN_ID,
    ])
    const { stdout } = await run(init.command, init.args)
    const parsed = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { node_id?: string }
    if (!parsed.node_id) throw new Error(`simnode init printed no node id: ${stdout}`)
    return parsed.node_id
  }

  private need<T>(value: T | null, step: string): T {
    if (value === null) throw new Error(`LocalFleet: call ${step}() first`)
    return value
  }
}

export async function waitForHttp(url: string, proc: ManagedProcess, what: string): Promise<void> {
  await eventually(
    async () => {
      if (proc.hasExited()) throw new Error(`${what} exited (${await proc.exit()})`)
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (response.status >= 500) throw new Error(`${url} answered ${response.status}`)
    },
    { timeoutMs: 30_000, intervalMs: 100, description: `${what} to answer ${url}` },
  )
}

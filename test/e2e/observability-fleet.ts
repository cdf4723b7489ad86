/**
 * A small real fleet for observability.test.ts: a private redis-server, a producer simnode, a follower home
 * supervised by a real `ghostfleet-sidecar start`, the simulated KYVE API, and a real `ghostfleet-tracker start`
 * on the same Redis. Everything runs from the built CLIs (`npx turbo run build`); `stop()` ends every process it
 * started (the sidecar in its own process group, so its node goes with it).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type KyveSimulator, startKyveSimulator } from '@ghostfleet/devnet'
import { processesLaunchedBy } from '@ghostfleet/sidecar'
import {
  eventually,
  freePort,
  runProcess,
  startProcess,
  startRedis,
  type TempDir,
  type TestProcess,
  type TestRedis,
  tempDir,
} from '@ghostfleet/testkit'
import { repoPath } from './observability-kit.js'

export const SIMNODE_CLI = repoPath('apps', 'devnet', 'dist', 'simnode-cli.js')
export const SIDECAR_CLI = repoPath('apps', 'sidecar', 'dist', 'cli.js')
export const TRACKER_CLI = repoPath('apps', 'tracker', 'dist', 'cli.js')

export const CHAIN_ID = 'kyve-1'
export const POOL_ID = 1
export const SIDECAR_ID = 'obs-sidecar-1'
export const TRACKER_ID = 'obs-tracker-1'

/** GET JSON; `null` while the server does not answer. */
export async function getJson(
  url: string,
  timeoutMs = 3_000,
): Promise<{ status: number; body: unknown } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    try {
      return { status: response.status, body: JSON.parse(text) as unknown }
    } catch {
      return { status: response.status, body: text }
    }
  } catch {
    return null
  }
}

export async function getText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`)
  return await response.text()
}

/** The node's block-store height, or null while its RPC does not answer. */
export async function nodeHeight(rpcUrl: string): Promise<number | null> {
  const answer = await getJson(`${rpcUrl}/status`, 2_000)
  if (answer === null || answer.status !== 200) return null
  const body = answer.body as { result?: { sync_info?: { latest_block_height?: string } } }
  const height = Number(body.result?.sync_info?.latest_block_height)
  return Number.isFinite(height) ? height : null
}

const toml = (value: string) => JSON.stringify(value)

export class ObservabilityFleet {
  redis: TestRedis | undefined
  kyve: KyveSimulator | undefined
  producerRpc = ''
  followerRpc = ''
  sidecarUrl = ''
  trackerUrl = ''
  sidecarPort = 0
  trackerPort = 0
  private readonly procs: TestProcess[] = []
  private sidecar: ChildProcess | undefined
  private sidecarOutput = ''
  private tracker: TestProcess | undefined

  private constructor(readonly dir: TempDir) {}

  /** Picks the HTTP ports (so Prometheus can be pointed at them before anything runs); {@link boot} starts it. */
  static async create(): Promise<ObservabilityFleet> {
    const fleet = new ObservabilityFleet(await tempDir('gf-observability-'))
    fleet.trackerPort = await freePort()
    fleet.trackerUrl = `http://127.0.0.1:${fleet.trackerPort}`
    fleet.sidecarPort = await freePort()
    fleet.sidecarUrl = `http://127.0.0.1:${fleet.sidecarPort}`
    return fleet
  }

  path(...parts: string[]): string {
    return path.join(this.dir.path, ...parts)
  }

  sidecarLog(): string {
    return this.sidecarOutput
  }

  trackerLog(): string {
    return this.tracker?.output() ?? ''
  }

  private async initHome(name: string): Promise<{ home: string; id: string }> {
    const home = this.path(name)
    const result = await runProcess('node', [
      SIMNODE_CLI,
      'init',
      '--home',
      home,
      '--chain-id',
      'sim-1',
      '--moniker',
      name,
    ])
    if (result.code !== 0) throw new Error(`simnode init ${name}: ${result.stderr}`)
    return { home, id: (JSON.parse(result.stdout) as { node_id: string }).node_id }
  }

  /** Starts Redis, the chain, KYVE, the tracker and the sidecar, and waits until both serve HTTP. */
  async boot(): Promise<void> {
    const redis = await startRedis()
    this.redis = redis

    // The chain: a producer, 10 blocks a second.
    const producer = await this.initHome('producer')
    const producerRpcPort = await freePort()
    const producerP2pPort = await freePort()
    const producerProc = startProcess('node', [
      SIMNODE_CLI,
      'start',
      '--home',
      producer.home,
      '--producer',
      '--block-time',
      '100',
      '--rpc.laddr',
      `tcp://127.0.0.1:${producerRpcPort}`,
      '--p2p.laddr',
      `tcp://127.0.0.1:${producerP2pPort}`,
      '--log-level',
      'error',
    ])
    this.procs.push(producerProc)
    this.producerRpc = `http://127.0.0.1:${producerRpcPort}`
    await eventually(
      async () => {
        if (producerProc.hasExited()) throw new Error(`producer exited: ${producerProc.output()}`)
        if ((await nodeHeight(this.producerRpc)) === null) throw new Error('producer RPC not up')
      },
      { timeoutMs: 20_000, description: 'the producer RPC' },
    )

    // The follower the sidecar supervises: it finds the producer through its address book only.
    const follower = await this.initHome('follower')
    const followerRpcPort = await freePort()
    const followerP2pPort = await freePort()
    const configFile = path.join(follower.home, 'config', 'config.toml')
    const config = (await readFile(configFile, 'utf8'))
      .replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${followerRpcPort}"`)
      .replace(/^laddr = "tcp:\/\/0\.0\.0\.0:26656"$/m, `laddr = "tcp://127.0.0.1:${followerP2pPort}"`)
    await writeFile(configFile, config)
    const zero = '0001-01-01T00:00:00Z'
    const addr = { id: producer.id, ip: '127.0.0.1', port: producerP2pPort }
    const book = {
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
    }
    await writeFile(
      path.join(follower.home, 'config', 'addrbook.json'),
      `${JSON.stringify(book, null, '\t')}\n`,
    )
    this.followerRpc = `http://127.0.0.1:${followerRpcPort}`

    // KYVE: one pool, paused at 5. Its settings give the thresholds 40 / 20 / 60 (max_bundle_size 1 per
    // 4320 s: round(1 / 4320 × 86400 × 2) = 40), so the tracker computes what the sidecar config says.
    const kyve = await startKyveSimulator({
      chainId: CHAIN_ID,
      sourceChainId: 'sim-1',
      pools: [{ id: POOL_ID, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    this.kyve = kyve

    // The tracker, as a real process on the same Redis.
    const trackerConfig = this.path('tracker.toml')
    await writeFile(
      trackerConfig,
      [
        `redisUrl = ${toml(redis.url)}`,
        'pollIntervalSeconds = 0.5',
        'leaseTtlMs = 2000',
        'maxPoolAgeSeconds = 30',
        '',
        '[defaults]',
        'maxUnavailable = 1',
        'pruningIntervalHours = 0.0005',
        '',
        '[chains]',
        `${toml(CHAIN_ID)} = [${toml(kyve.url)}]`,
        '',
      ].join('\n'),
    )
    this.tracker = startProcess(
      'node',
      [
        TRACKER_CLI,
        'start',
        '--config',
        trackerConfig,
        '--listen',
        `127.0.0.1:${this.trackerPort}`,
        '--id',
        TRACKER_ID,
      ],
      { env: { GHOSTFLEET_LOG_LEVEL: 'info' } },
    )
    this.procs.push(this.tracker)

    // The sidecar: fast ticks, a tiny prune interval, reporting to the fleet's Redis.
    const binary = this.path('bin', 'simnode')
    await mkdir(path.dirname(binary), { recursive: true })
    await writeFile(binary, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE_CLI}" "$@"\n`)
    await chmod(binary, 0o755)
    const sidecarDir = this.path('sidecar')
    await mkdir(sidecarDir, { recursive: true })
    await writeFile(
      path.join(sidecarDir, 'config.toml'),
      [
        '[node]',
        `binary = ${toml(binary)}`,
        `home = ${toml(follower.home)}`,
        'launcher = "binary"',
        'flags = "--log-level error"',
        `rpcEndpoint = ${toml(this.followerRpc)}`,
        'stopGraceSeconds = 10',
        '',
        '[pool]',
        `chainId = ${toml(CHAIN_ID)}`,
        `poolId = ${POOL_ID}`,
        `endpoints = [${toml(kyve.url)}]`,
        'maxPoolAgeSeconds = 30',
        '',
        '[thresholds]',
        'heightDifferenceMax = 40',
        'heightDifferenceMin = 20',
        'keepRecent = 60',
        '',
        '[pruning]',
        'enabled = true',
        'intervalHours = 0.0005',
        'margin = 1',
        '',
        '[supervision]',
        'intervalSeconds = 0.5',
        'restartBackoffInitialSeconds = 0.2',
        'restartBackoffMaxSeconds = 1',
        '',
        '[http]',
        `listen = ${toml(`127.0.0.1:${this.sidecarPort}`)}`,
        '',
        '[fleet]',
        `redisUrl = ${toml(redis.url)}`,
        `sidecarId = ${toml(SIDECAR_ID)}`,
        'reportIntervalSeconds = 0.5',
        'trackerTimeoutSeconds = 10',
        '',
      ].join('\n'),
    )
    this.sidecar = spawn(process.execPath, [SIDECAR_CLI, 'start', '--config', sidecarDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, GHOSTFLEET_LOG_LEVEL: 'info' },
    })
    const collect = (chunk: Buffer) => {
      this.sidecarOutput += chunk.toString('utf8')
      if (this.sidecarOutput.length > 2_000_000) this.sidecarOutput = this.sidecarOutput.slice(-1_000_000)
    }
    this.sidecar.stdout?.on('data', collect)
    this.sidecar.stderr?.on('data', collect)

    await eventually(
      async () => {
        if (this.tracker?.hasExited()) throw new Error(`tracker exited: ${this.trackerLog()}`)
        const live = await getJson(`${this.trackerUrl}/livez`)
        if (live?.status !== 200) throw new Error(`tracker /livez: ${JSON.stringify(live)}`)
      },
      { timeoutMs: 20_000, description: 'the tracker HTTP server' },
    )
    await eventually(
      async () => {
        if (this.sidecar?.exitCode !== null) throw new Error(`sidecar exited: ${this.sidecarOutput}`)
        const live = await getJson(`${this.sidecarUrl}/livez`)
        if (live?.status !== 200) throw new Error(`sidecar /livez: ${JSON.stringify(live)}`)
      },
      { timeoutMs: 30_000, description: 'the sidecar HTTP server' },
    )
  }

  async sidecarStatus(): Promise<Record<string, unknown>> {
    const answer = await getJson(`${this.sidecarUrl}/status`)
    if (answer === null || answer.status !== 200)
      throw new Error(`sidecar /status: ${JSON.stringify(answer)}`)
    return answer.body as Record<string, unknown>
  }

  /**
   * Drives the fleet through what the dashboards and alerts watch: the follower syncs far ahead of the paused
   * pool and goes ghost (a mode switch), then the pool advances while staying more than heightDifferenceMin
   * behind, and the node is pruned (a prune with its blocks, duration and verification).
   */
  async runScenario(): Promise<void> {
    await eventually(
      async () => {
        const status = await this.sidecarStatus()
        if (status['mode'] !== 'ghost') throw new Error(`mode is ${String(status['mode'])}`)
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'the sidecar to enter ghost mode' },
    )
    const frozen = await eventually(
      async () => {
        const height = await nodeHeight(this.followerRpc)
        if (height === null) throw new Error('follower RPC not up')
        return height
      },
      { timeoutMs: 30_000, description: 'the ghost node RPC' },
    )
    const poolHeight = frozen - 25
    if (this.kyve === undefined) throw new Error('the fleet has not been booted')
    await this.kyve.setPool(POOL_ID, { currentKey: String(poolHeight) })
    await eventually(
      async () => {
        const status = await this.sidecarStatus()
        const pruning = status['pruning'] as { lastPrune?: { toHeight?: number } | null } | undefined
        const to = pruning?.lastPrune?.toHeight
        if (to === undefined || to < poolHeight - 1) throw new Error(`last prune: ${JSON.stringify(pruning)}`)
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'a prune below the new pool height' },
    )
  }

  async stop(): Promise<void> {
    if (this.sidecar?.pid !== undefined && this.sidecar.exitCode === null) {
      const exited = new Promise((resolve) => this.sidecar?.once('exit', resolve))
      try {
        process.kill(-this.sidecar.pid, 'SIGKILL')
      } catch {
        // already gone
      }
      await exited
    }
    // The node leads a process group of its own (so the sidecar can stop its whole tree): find it by the
    // environment marker the sidecar gave it.
    for (const pid of await processesLaunchedBy(this.path('sidecar'))) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL')
        } catch {
          // Already gone, or not a group leader.
        }
      }
    }
    await Promise.all(this.procs.splice(0).map((p) => p.stop('SIGTERM', 5_000)))
    await this.kyve?.stop().catch(() => undefined)
    await this.redis?.stop().catch(() => undefined)
    await this.dir.remove()
  }
}

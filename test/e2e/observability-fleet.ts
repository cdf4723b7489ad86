/**
 * A small real fleet for observability.test.ts: a private redis-server, a producer simnode, a follower home
 * supervised by a real `ghostfleet-sidecar start`, the simulated KYVE API, and a real `ghostfleet-tracker start`
 * on the same Redis, on the kit's {@link SimNet}. Everything runs from the built CLIs (`npx turbo run build`);
 * `stop()` ends every process it started (the sidecar in its own process group, so its node goes with it).
 */
import { writeFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import type { KyveSimulator } from '@ghostfleet/devnet'
import {
  answeredHeight,
  eventually,
  freePort,
  getJson,
  type SidecarProcess,
  startProcess,
  startRedis,
  TRACKER_CLI,
  testConfig,
} from '@ghostfleet/testkit'
import { stringify } from 'smol-toml'
import { SimNet } from './helpers/simnet.js'

export const CHAIN_ID = 'kyve-1'
export const POOL_ID = 1
export const SIDECAR_ID = 'obs-sidecar-1'
export const TRACKER_ID = 'obs-tracker-1'

export class ObservabilityFleet {
  kyve: KyveSimulator | undefined
  followerRpc = ''
  sidecarUrl = ''
  trackerUrl = ''
  sidecarPort = 0
  trackerPort = 0
  /** The sidecar's RPC gateway, where {@link runScenario} keeps a protocol node's trickle of calls going. */
  gatewayUrl = ''
  private sidecar: SidecarProcess | undefined
  private traffic: Promise<void> | undefined
  private stopping = false

  private constructor(readonly net: SimNet) {}

  /** Picks the HTTP ports (so Prometheus can be pointed at them before anything runs); {@link boot} starts it. */
  static async create(): Promise<ObservabilityFleet> {
    const fleet = new ObservabilityFleet(await SimNet.create('gf-observability-'))
    fleet.trackerPort = await freePort()
    fleet.trackerUrl = `http://127.0.0.1:${fleet.trackerPort}`
    fleet.sidecarPort = await freePort()
    fleet.sidecarUrl = `http://127.0.0.1:${fleet.sidecarPort}`
    fleet.gatewayUrl = `http://127.0.0.1:${await freePort()}`
    return fleet
  }

  /** Starts Redis, the chain, KYVE, the tracker and the sidecar, and waits until both serve HTTP. */
  async boot(): Promise<void> {
    const net = this.net
    const redis = net.stopAtCleanup(await startRedis())
    // The chain: a producer, 10 blocks a second, and the follower the sidecar supervises, which finds the
    // producer through its address book only.
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    this.followerRpc = follower.rpcUrl

    // KYVE: one pool, paused at 5. Its settings give the thresholds 40 / 20 / 60 (max_bundle_size 1 per
    // 4320 s: round(1 / 4320 × 86400 × 2) = 40), so the tracker computes what the sidecar config says.
    const kyve = await net.startKyve({
      chainId: CHAIN_ID,
      pools: [{ id: POOL_ID, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    this.kyve = kyve

    // The tracker, as a real process on the same Redis.
    const trackerConfig = net.path('tracker.toml')
    await writeFile(
      trackerConfig,
      stringify({
        redisUrl: redis.url,
        pollIntervalSeconds: 0.5,
        leaseTtlMs: 2000,
        maxPoolAgeSeconds: 30,
        defaults: { maxUnavailable: 1, pruningIntervalHours: 0.0005 },
        chains: { [CHAIN_ID]: [kyve.url] },
      }),
    )
    const tracker = net.track(
      startProcess(
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
      ),
    )

    // The sidecar: fast ticks, a tiny prune interval, reporting to the fleet's Redis.
    const sidecarDir = net.path('sidecar')
    await net.writeConfig(sidecarDir, {
      ...testConfig({
        binary: await net.nodeBinary(),
        follower,
        kyveUrl: kyve.url,
        httpPort: this.sidecarPort,
      }),
      gateway: { enabled: true, listen: new URL(this.gatewayUrl).host },
      fleet: {
        redisUrl: redis.url,
        sidecarId: SIDECAR_ID,
        reportIntervalSeconds: 0.5,
        trackerTimeoutSeconds: 10,
      },
    })
    const sidecar = net.startSidecar(sidecarDir, this.sidecarPort, [], { GHOSTFLEET_LOG_LEVEL: 'info' })
    this.sidecar = sidecar

    await eventually(
      async () => {
        if (tracker.hasExited()) throw new Error(`tracker exited: ${tracker.output()}`)
        const live = await getJson(`${this.trackerUrl}/livez`)
        if (live?.status !== 200) throw new Error(`tracker /livez: ${JSON.stringify(live)}`)
      },
      { timeoutMs: 20_000, description: 'the tracker HTTP server' },
    )
    await eventually(
      async () => {
        if (sidecar.hasExited()) throw new Error(`sidecar exited: ${sidecar.output()}`)
        const live = await getJson(`${this.sidecarUrl}/livez`)
        if (live?.status !== 200) throw new Error(`sidecar /livez: ${JSON.stringify(live)}`)
      },
      { timeoutMs: 30_000, description: 'the sidecar HTTP server' },
    )
  }

  /**
   * Drives the fleet through what the dashboards and alerts watch: the follower syncs far ahead of the paused
   * pool and goes ghost (a mode switch), then the pool advances while staying more than heightDifferenceMin
   * behind, and the node is pruned (a prune with its blocks, duration and verification).
   */
  async runScenario(): Promise<void> {
    const sidecar = this.sidecar
    const kyve = this.kyve
    if (sidecar === undefined || kyve === undefined) throw new Error('the fleet has not been booted')
    // A protocol node's calls through the gateway for the whole run: the gateway's rates and latency quantiles
    // need observations in more than one scrape (a histogram series starts at its first observation).
    this.traffic = this.gatewayTraffic()
    await eventually(
      async () => {
        const status = await sidecar.status()
        if (status['mode'] !== 'ghost') throw new Error(`mode is ${String(status['mode'])}`)
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'the sidecar to enter ghost mode' },
    )
    const frozen = await answeredHeight(this.followerRpc, 30_000)
    const poolHeight = frozen - 25
    await kyve.setPool(POOL_ID, { currentKey: String(poolHeight) })
    await eventually(
      async () => {
        const status = await sidecar.status()
        const pruning = status['pruning'] as { lastPrune?: { toHeight?: number } | null } | undefined
        const to = pruning?.lastPrune?.toHeight
        if (to === undefined || to < poolHeight - 1) throw new Error(`last prune: ${JSON.stringify(pruning)}`)
      },
      { timeoutMs: 90_000, intervalMs: 250, description: 'a prune below the new pool height' },
    )
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.traffic
    await this.net.cleanup()
  }

  /** `/status` through the gateway every 250 ms (a pace, not a wait) until {@link stop}. */
  private async gatewayTraffic(): Promise<void> {
    while (!this.stopping) {
      await fetch(`${this.gatewayUrl}/status`, { signal: AbortSignal.timeout(2000) }).catch(() => {})
      await delay(250)
    }
  }
}

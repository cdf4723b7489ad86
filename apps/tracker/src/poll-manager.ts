/**
 * The pollers of the leader: one per pool that at least one sidecar serves, however many serve it. Pools come
 * and go with their sidecars; a standby polls nothing.
 */
import { ClientClosedError, type PoolProgress } from '@ghostfleet/kyve'
import type { Logger } from '@ghostfleet/telemetry'
import type { ResolvedTrackerConfig } from './config.js'
import type { KyveClients } from './kyve-clients.js'
import type { TrackerMetrics } from './metrics.js'
import { PoolPoller } from './pool-poller.js'
import { type PoolRef, poolKey } from './pool-ref.js'
import { resolvePoolSettings } from './pool-settings.js'

export interface PollManagerOptions {
  config: ResolvedTrackerConfig
  clients: KyveClients
  metrics: TrackerMetrics
  logger: Logger
  onProgress: (pool: PoolRef, progress: PoolProgress) => void
  onError: (pool: PoolRef, message: string) => void
}

interface Polled {
  poller: PoolPoller | null
  /** The last error message, so a failing pool is logged once per distinct error, not once per interval. */
  lastError: string | null
}

export class PollManager {
  private readonly options: PollManagerOptions
  private readonly polled = new Map<string, Polled>()

  constructor(options: PollManagerOptions) {
    this.options = options
  }

  /** Starts polling `pool` unless it is polled already; the first poll is due at `firstPollAt` (epoch ms). */
  ensure(pool: PoolRef, firstPollAt?: number): void {
    const key = poolKey(pool)
    if (this.polled.has(key)) return
    const { config, clients, metrics, logger } = this.options
    const state: Polled = { poller: null, lastError: null }
    this.polled.set(key, state)
    const fail = (message: string) => {
      metrics.poll(pool.chainId, pool.poolId, 'error')
      if (message !== state.lastError) logger.warn({ pool: key, err: message }, 'pool poll failed')
      state.lastError = message
      this.options.onError(pool, message)
    }
    let client: ReturnType<KyveClients['get']>
    try {
      client = clients.get(pool.chainId, resolvePoolSettings(config, pool).endpoints)
    } catch (error) {
      // An unknown chain without configured endpoints: nothing to poll, the pool stays unknown (modes held).
      fail(error instanceof Error ? error.message : String(error))
      return
    }
    const poller = new PoolPoller({
      pool,
      client,
      intervalMs: config.pollIntervalMs,
      ...(firstPollAt === undefined ? {} : { firstPollAt }),
      onProgress: (progress) => {
        metrics.poll(pool.chainId, pool.poolId, 'ok')
        if (state.lastError !== null) logger.info({ pool: key }, 'pool poll recovered')
        state.lastError = null
        this.options.onProgress(pool, progress)
      },
      onError: (error) => {
        if (error instanceof ClientClosedError) return
        fail(error instanceof Error ? error.message : String(error))
      },
    })
    state.poller = poller
    poller.start()
    logger.info({ pool: key }, 'polling pool')
  }

  remove(pool: PoolRef): void {
    const key = poolKey(pool)
    const state = this.polled.get(key)
    if (state === undefined) return
    state.poller?.stop()
    this.polled.delete(key)
    this.options.logger.info({ pool: key }, 'stopped polling pool (no sidecar serves it)')
  }

  stopAll(): void {
    for (const state of this.polled.values()) state.poller?.stop()
    this.polled.clear()
  }

  /** Keys of the pools being polled. */
  pools(): string[] {
    return [...this.polled.keys()]
  }
}

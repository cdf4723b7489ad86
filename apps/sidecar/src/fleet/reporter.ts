import { publishReport, type RedisClient, waitForReady } from '@ghostfleet/coordination'
import type { SidecarReport } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import type { FleetMetrics } from './fleet-metrics.js'

export interface ReporterOptions {
  redis: RedisClient
  intervalMs: number
  /** The report to publish now (called once per interval). */
  build: () => SidecarReport
  metrics: FleetMetrics
  log: Logger
  now?: () => number
}

export interface ReporterStatus {
  published: number
  failed: number
  lastPublishedAt: number | null
  lastFailureAt: number | null
  lastError: string | null
}

/**
 * Publishes the sidecar's report every interval (`publishReport`: report hash with expiry, index, stream), on a
 * timer of its own, so reports keep flowing while the control loop is busy (a long prune reports `pruning`).
 *
 * Redis down: the sidecar's connection fails fast, so a publish costs nothing while it is unreachable; the
 * failure is counted, logged once per outage (and once when reports get through again), and the next interval
 * tries again. Publishing never waits for Redis and never touches the control loop. Intervals are measured from
 * the start of the previous publish, and publishes never overlap.
 */
export class Reporter {
  private timer: NodeJS.Timeout | null = null
  private inFlight: Promise<void> | null = null
  private stopped = false
  private failingSince: number | null = null
  private readonly current: ReporterStatus = {
    published: 0,
    failed: 0,
    lastPublishedAt: null,
    lastFailureAt: null,
    lastError: null,
  }
  private readonly now: () => number

  constructor(private readonly options: ReporterOptions) {
    this.now = options.now ?? Date.now
  }

  start(): void {
    this.schedule(0)
  }

  /** Publishes now, unless a publish is in flight (then waits for it). */
  publishNow(): Promise<void> {
    this.inFlight ??= this.publishOnce().finally(() => {
      this.inFlight = null
    })
    return this.inFlight
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.inFlight
  }

  status(): ReporterStatus {
    return { ...this.current }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      const started = this.now()
      void this.publishNow().finally(() => {
        this.schedule(Math.max(0, this.options.intervalMs - (this.now() - started)))
      })
    }, delayMs)
  }

  private async publishOnce(): Promise<void> {
    const { redis, metrics, log } = this.options
    if (this.current.published === 0 && this.current.failed === 0 && redis.status !== 'ready') {
      // The connection is made in the background at start; the first report should not fail just for that.
      await waitForReady(redis, Math.min(2_000, this.options.intervalMs))
    }
    const at = this.now()
    try {
      await publishReport(redis, this.options.build(), { intervalMs: this.options.intervalMs })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      metrics.reports.inc({ outcome: 'failed' })
      this.current.failed++
      this.current.lastFailureAt = at
      this.current.lastError = message
      if (this.failingSince === null) {
        this.failingSince = at
        log.warn(
          { err: error },
          `cannot publish reports to Redis (${message}); the node keeps running, retrying every ` +
            `${this.options.intervalMs / 1000} s`,
        )
      }
      return
    }
    metrics.reports.inc({ outcome: 'published' })
    this.current.published++
    this.current.lastPublishedAt = at
    if (this.failingSince !== null) {
      log.info(
        { failedForMs: at - this.failingSince },
        `reports reach Redis again (after ${Math.round((at - this.failingSince) / 1000)} s)`,
      )
      this.failingSince = null
    }
  }
}

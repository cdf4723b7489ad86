import { backoffDelay } from '@ghostfleet/kyve'

/**
 * Keeps the last good answer about the KYVE pool, fetched in the background.
 *
 * supervysor asked the API inside its control loop and retried up to 16 times with 2^i s sleeps (~18 h), making
 * no decision meanwhile, then exited. Here:
 * - at most one request is in flight, ever (a slow API never piles up calls);
 * - every call is bounded by the client's deadline, shorter than a few supervision intervals;
 * - after consecutive failures the next call waits a capped, full-jitter backoff (but never less than one
 *   interval, and never more than half the staleness limit, so a recovered API is noticed well before the
 *   last good answer would expire anyway);
 * - the last good answer is kept with its `fetchedAt`; whoever uses it judges its age (`safePruneHeight`
 *   refuses a stale one), so an outage degrades decisions instead of stopping them.
 */

/** The part of `@ghostfleet/kyve`'s `PoolProgress` the sidecar uses. */
export interface PoolAnswer {
  poolId: number
  /** The validated key (`current_key`, or `start_key` before the first bundle). */
  poolHeightKey: string
  /** The key as a height, or null when it is not a canonical integer. */
  poolHeight: number | null
  maxBundleSize: number
  uploadInterval: number
  status: string
  endpoint: string
  fetchedAt: number
}

/** What the poller needs from a KYVE client. */
export interface PoolSource {
  getPool(poolId: number): Promise<PoolAnswer>
}

export interface PoolPollerOptions {
  source: PoolSource
  poolId: number
  /** The supervision interval: the shortest gap between two calls after a failure. */
  minRetryMs: number
  /** Upper bound of the wait after consecutive failures. */
  maxRetryMs: number
  now?: () => number
  random?: () => number
  /** Called after every call, for logs and metrics. */
  onResult?: (result: PollResult) => void
}

export type PollResult = { ok: true; answer: PoolAnswer } | { ok: false; error: Error }

/** How the KYVE side looks right now, for /status, /readyz and metrics. */
export interface PoolPollerStatus {
  latest: PoolAnswer | null
  lastSuccessAt: number | null
  lastFailureAt: number | null
  lastError: string | null
  consecutiveFailures: number
  inFlight: boolean
  /** Earliest time the next call may start (after failures). */
  nextAttemptAt: number
}

export class PoolPoller {
  private latestAnswer: PoolAnswer | null = null
  private inFlight: Promise<void> | null = null
  private lastSuccessAt: number | null = null
  private lastFailureAt: number | null = null
  private lastError: string | null = null
  private failures = 0
  private nextAttemptAt = 0
  private readonly now: () => number
  private readonly random: () => number

  constructor(private readonly options: PoolPollerOptions) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
  }

  /** The last good answer, however old (check `fetchedAt`). */
  latest(): PoolAnswer | null {
    return this.latestAnswer
  }

  status(): PoolPollerStatus {
    return {
      latest: this.latestAnswer,
      lastSuccessAt: this.lastSuccessAt,
      lastFailureAt: this.lastFailureAt,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      inFlight: this.inFlight !== null,
      nextAttemptAt: this.nextAttemptAt,
    }
  }

  /**
   * Starts a call unless one is in flight or the backoff says wait; returns a promise of the call in flight
   * (or an already resolved one). Never rejects: failures are recorded and reported through `onResult`.
   */
  refresh(): Promise<void> {
    if (this.inFlight !== null) return this.inFlight
    if (this.now() < this.nextAttemptAt) return Promise.resolve()
    const call = this.fetchOnce().finally(() => {
      this.inFlight = null
    })
    this.inFlight = call
    return call
  }

  private async fetchOnce(): Promise<void> {
    let result: PollResult
    try {
      const answer = await this.options.source.getPool(this.options.poolId)
      result = { ok: true, answer }
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error : new Error(String(error)) }
    }
    const at = this.now()
    if (result.ok) {
      this.latestAnswer = result.answer
      this.lastSuccessAt = at
      this.failures = 0
      this.nextAttemptAt = 0
    } else {
      this.lastFailureAt = at
      this.lastError = result.error.message
      const wait = backoffDelay(
        Math.min(this.failures, 30),
        {
          initialMs: Math.max(1, this.options.minRetryMs),
          maxMs: Math.max(this.options.minRetryMs, this.options.maxRetryMs),
        },
        this.random,
      )
      this.failures++
      this.nextAttemptAt = at + Math.max(this.options.minRetryMs, wait)
    }
    try {
      this.options.onResult?.(result)
    } catch {
      // Reporting must not change what the poller does.
    }
  }
}

import { backoffDelay, type PoolFacts } from '@ghostfleet/kyve'
import { withinMs } from '../wait-for.js'
import type { PoolSnapshot } from './pool-snapshot.js'

/**
 * Keeps the last good answer about the KYVE pool, fetched when the control loop asks (`refresh`, `take`).
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

/** What the refresher needs from a KYVE client. */
export interface PoolSource {
  getPool(poolId: number): Promise<PoolFacts>
  /**
   * Which of its answers came from this sidecar's own KYVE client and which from a tracker's record (a source
   * that mixes them, fleet mode); without it every answer is the sidecar's own.
   */
  snapshot?(): PoolSnapshot
}

export interface PoolRefresherOptions {
  source: PoolSource
  poolId: number
  /**
   * The wait after consecutive failures: at least `minMs` (the supervision interval), at most `maxMs`.
   */
  retry: { minMs: number; maxMs: number }
  now?: () => number
  random?: () => number
  /** Called after every call, for logs and metrics. */
  onResult?: (result: PollResult) => void
}

export type PollResult = { ok: true; answer: PoolFacts } | { ok: false; error: Error }

/** How the KYVE side looks right now, for /status, /readyz and metrics. */
export interface PoolRefresherStatus {
  latest: PoolFacts | null
  lastSuccessAt: number | null
  lastFailureAt: number | null
  lastError: string | null
  consecutiveFailures: number
  inFlight: boolean
  /** Earliest time the next call may start (after failures). */
  nextAttemptAt: number
}

export class PoolRefresher {
  private latestAnswer: PoolFacts | null = null
  private inFlight: Promise<void> | null = null
  private lastSuccessAt: number | null = null
  private lastFailureAt: number | null = null
  private lastError: string | null = null
  private failures = 0
  private nextAttemptAt = 0
  private readonly now: () => number
  private readonly random: () => number

  constructor(private readonly options: PoolRefresherOptions) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? Math.random
  }

  /** The last good answer, however old (check `fetchedAt`). */
  latest(): PoolFacts | null {
    return this.latestAnswer
  }

  /** The answers as they stand, the sidecar's own apart from a tracker's. */
  snapshot(): PoolSnapshot {
    return this.options.source.snapshot?.() ?? { own: this.latestAnswer, published: null }
  }

  /**
   * Refreshes (see {@link refresh}) and returns the snapshot once the call settled, or null when it did not
   * within `waitMs` (it goes on in the background).
   */
  async take(waitMs: number, source?: PoolSource): Promise<PoolSnapshot | null> {
    const settled = await withinMs(
      this.refresh(source).then(() => true),
      waitMs,
    )
    return settled === undefined ? null : this.snapshot()
  }

  status(): PoolRefresherStatus {
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
   * `source` overrides the configured one for this call (fleet mode asks its own KYVE client on demand).
   */
  refresh(source: PoolSource = this.options.source): Promise<void> {
    if (this.inFlight !== null) return this.inFlight
    if (this.now() < this.nextAttemptAt) return Promise.resolve()
    const call = this.fetchOnce(source).finally(() => {
      this.inFlight = null
    })
    this.inFlight = call
    return call
  }

  private async fetchOnce(source: PoolSource): Promise<void> {
    let result: PollResult
    try {
      const answer = await source.getPool(this.options.poolId)
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
      const { retry } = this.options
      const wait = backoffDelay(
        Math.min(this.failures, 30),
        {
          initialMs: Math.max(1, retry.minMs),
          maxMs: Math.max(retry.minMs, retry.maxMs),
        },
        this.random,
      )
      this.failures++
      this.nextAttemptAt = at + Math.max(retry.minMs, wait)
    }
    try {
      this.options.onResult?.(result)
    } catch {
      // Reporting must not change what the refresher does.
    }
  }
}

import { backoffDelay } from '@ghostfleet/core'

/** Crash-restart backoff, the kubelet curve: initial delay doubling to a cap, reset after a long enough run. */
export interface RestartBackoffOptions {
  /** First delay after a crash. @default 10000 */
  initialMs: number
  /** Upper bound of the delay. @default 300000 */
  maxMs: number
  /** A run at least this long counts as healthy: the next crash starts from `initialMs` again. @default 600000 */
  resetAfterMs: number
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoffOptions = {
  initialMs: 10_000,
  maxMs: 300_000,
  resetAfterMs: 600_000,
}

/**
 * Tracks consecutive crashes and answers how long to wait before the next restart.
 * Pure state, no timers: the supervisor owns the clock.
 */
export class RestartBackoff {
  private crashes = 0

  constructor(private readonly options: RestartBackoffOptions = DEFAULT_RESTART_BACKOFF) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs) || !(options.resetAfterMs > 0)) {
      throw new Error(
        `invalid restart backoff: need 0 < initial (${options.initialMs}) <= max (${options.maxMs}) and reset > 0 (${options.resetAfterMs})`,
      )
    }
  }

  /** Records a crash after a run of `uptimeMs` and returns the delay before the restart. */
  onCrash(uptimeMs: number): number {
    if (uptimeMs >= this.options.resetAfterMs) this.reset()
    return backoffDelay(this.crashes++, this.options)
  }

  /** Consecutive crashes since the last reset. */
  consecutiveCrashes(): number {
    return this.crashes
  }

  reset(): void {
    this.crashes = 0
  }
}

import { backoffDelay as curveDelay } from '@ghostfleet/core'
import { InvalidOptionsError } from './errors.js'

/** Capped exponential backoff between rounds over the endpoints. */
export interface BackoffOptions {
  /** Upper bound of the first wait, in ms. @default 500 */
  initialMs: number
  /** No wait is ever longer than this, in ms. @default 30000 */
  maxMs: number
}

/** Defaults for {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initialMs: 500, maxMs: 30_000 })

/** The longest wait between rounds a client may be configured with. */
const MAX_BACKOFF_MS = 3_600_000

/**
 * The wait before retry round `attempt + 1` ("full jitter"): uniform in [0, min(maxMs, initialMs · 2^attempt)).
 * Full jitter spreads the retries of many clients hitting the same endpoint after an outage; the cap keeps a long
 * outage from growing the wait without bound (supervysor's 2^i s reached 9 h per wait).
 *
 * @param attempt 0 for the wait after the first failed round.
 * @param random a source of uniform numbers in [0, 1), `Math.random` in production.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new InvalidOptionsError(`backoff attempt must be a non-negative integer, got ${attempt}`)
  }
  checkBackoffOptions(options)
  const r = random()
  if (!(r >= 0 && r < 1)) throw new InvalidOptionsError(`random() must return a number in [0, 1), got ${r}`)
  return curveDelay(attempt, { ...options, jitter: 'full' }, () => r)
}

/** Throws {@link InvalidOptionsError} unless 1 <= initialMs <= maxMs <= 1 h. */
export function checkBackoffOptions(options: BackoffOptions): void {
  const { initialMs, maxMs } = options
  if (!(Number.isFinite(initialMs) && initialMs >= 1)) {
    throw new InvalidOptionsError(`backoff.initialMs must be a finite number >= 1, got ${initialMs}`)
  }
  if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) {
    throw new InvalidOptionsError(
      `backoff.maxMs must be finite and >= backoff.initialMs (${initialMs}), got ${maxMs}`,
    )
  }
  // A wait above Node's 32-bit timer range would fire after 1 ms: a hot loop over failing endpoints.
  if (maxMs > MAX_BACKOFF_MS) {
    throw new InvalidOptionsError(`backoff.maxMs must be at most ${MAX_BACKOFF_MS} (1 h), got ${maxMs}`)
  }
}

/**
 * One backoff curve for every retry in Ghostfleet: `initialMs · factor^attempt`, clamped to [minMs, maxMs], then
 * optionally jittered. The callers differ only in their parameters and in how they count attempts.
 */
export interface BackoffCurve {
  /** The delay of attempt 0, before clamping, in ms. */
  initialMs: number
  /** No delay is longer than this, in ms. */
  maxMs: number
  /** No delay is shorter than this (before jitter), in ms. @default 0 */
  minMs?: number
  /** Growth per attempt. @default 2 */
  factor?: number
  /**
   * How the delay `d` is spread, so that many clients failing together do not retry together.
   * `none`: exactly `d`; `full`: uniform in [0, d); `equal`: uniform in [d/2, d]. @default 'none'
   */
  jitter?: 'none' | 'full' | 'equal'
}

/**
 * The delay before retry `attempt` (0 for the first) in whole ms when jittered. Inputs are trusted: callers
 * validate their own options (a non-negative `attempt`, `random()` in [0, 1), 0 <= initialMs, minMs <= maxMs).
 *
 * @param random uniform numbers in [0, 1), `Math.random` in production; unused without jitter.
 */
export function backoffDelay(
  attempt: number,
  curve: BackoffCurve,
  random: () => number = Math.random,
): number {
  // factor^attempt overflows to Infinity for large attempts; Math.min keeps the cap exact then, and the
  // initialMs check avoids 0 · Infinity.
  const grown = curve.initialMs > 0 ? curve.initialMs * (curve.factor ?? 2) ** attempt : 0
  const delay = Math.max(curve.minMs ?? 0, Math.min(curve.maxMs, grown))
  switch (curve.jitter ?? 'none') {
    case 'none':
      return delay
    case 'full':
      return Math.floor(random() * delay)
    case 'equal':
      return Math.floor(delay / 2 + (random() * delay) / 2)
  }
}

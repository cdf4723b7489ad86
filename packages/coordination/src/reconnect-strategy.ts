import { backoffDelay } from '@ghostfleet/core'

/** Bounds of the reconnect delay. */
export interface ReconnectOptions {
  /** The shortest delay before a reconnect attempt, in ms. @default 1000 */
  minDelayMs: number
  /** The longest delay, in ms. @default 20000 */
  maxDelayMs: number
}

/** BullMQ's bounds: at least 1 s between attempts, never more than 20 s. */
export const DEFAULT_RECONNECT: Readonly<ReconnectOptions> = Object.freeze({
  minDelayMs: 1000,
  maxDelayMs: 20_000,
})

/**
 * The delay before reconnect attempt `attempt` (1 for the first): BullMQ's `max(min(e^attempt, max), min)` ms,
 * then "equal jitter": uniform in [delay/2, delay]. Without the jitter every sidecar of the fleet would reconnect
 * in the same millisecond after a Redis restart; the floor of delay/2 keeps a reconnect storm from hammering a
 * Redis that is still loading.
 *
 * @param random uniform numbers in [0, 1), `Math.random` in production.
 */
export function reconnectDelay(
  attempt: number,
  options: ReconnectOptions = DEFAULT_RECONNECT,
  random: () => number = Math.random,
): number {
  const { minDelayMs: minMs, maxDelayMs: maxMs } = options
  return backoffDelay(
    Math.max(attempt, 1),
    { initialMs: 1, factor: Math.E, minMs, maxMs, jitter: 'equal' },
    random,
  )
}

/**
 * Duration fields with bounds. Every duration an operator can set ends up in a Node timer (`setTimeout`,
 * `setInterval`) or a Redis expiry, and Node's timers hold a signed 32-bit number of milliseconds: a delay
 * above 2^31 − 1 ms (24.8 days) is silently replaced by 1 ms, so `stopGraceSeconds = 3000000` turned every stop
 * into an immediate SIGKILL, and a tiny interval (`intervalSeconds = 0.001`) spins a loop. So each field has a
 * minimum and a maximum chosen for what it means, far inside Node's range, and a message that names them:
 * `node.stopGraceSeconds: must be between 1 and 3600 seconds, got 3000000`.
 *
 * The bounds live in {@link DURATION_BOUNDS}, one entry per config key, so the schemas, the documentation
 * and the property test (no accepted config yields a timer outside 1 ms … 2^31 − 1 ms) read the same numbers.
 */
import { z } from 'zod'

/** The largest delay Node's timers honour (ms); anything above fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** The smallest delay Node's timers honour (ms); 0 and below become 1 ms. */
export const MIN_TIMER_MS = 1

/** A duration field's unit and bounds (inclusive), in that unit. */
export interface DurationBound {
  unit: 'seconds' | 'hours' | 'milliseconds'
  min: number
  max: number
  /** Whole numbers only (it becomes a Redis expiry, which takes integer milliseconds). */
  integer?: boolean
}

const HOUR = 1 / 3600

/**
 * The bounds of every duration key of the sidecar and tracker configs and of the tracker's `--refresh-seconds`.
 * The small minima (100 ms ticks, a one-second pruning interval) exist for tests and the local demo, which run
 * the real processes much faster than a fleet; they are still far from a spinning loop.
 */
export const DURATION_BOUNDS = {
  sidecar: {
    'node.stopGraceSeconds': { unit: 'seconds', min: 1, max: 3600 },
    'pool.maxPoolAgeSeconds': { unit: 'seconds', min: 1, max: 604_800, integer: true },
    'pruning.intervalHours': { unit: 'hours', min: HOUR, max: 336 },
    'supervision.intervalSeconds': { unit: 'seconds', min: 0.1, max: 3600 },
    'supervision.restartBackoffInitialSeconds': { unit: 'seconds', min: 0.1, max: 3600 },
    'supervision.restartBackoffMaxSeconds': { unit: 'seconds', min: 0.1, max: 86_400 },
    'supervision.restartBackoffResetSeconds': { unit: 'seconds', min: 1, max: 86_400 },
    'fleet.trackerTimeoutSeconds': { unit: 'seconds', min: 1, max: 3600 },
    'fleet.reportIntervalSeconds': { unit: 'seconds', min: 0.1, max: 300 },
    'gateway.upstreamTimeoutSeconds': { unit: 'seconds', min: 0.1, max: 120 },
    'checkpoints.ttlSeconds': { unit: 'seconds', min: 1, max: 604_800 },
  },
  tracker: {
    pollIntervalSeconds: { unit: 'seconds', min: 0.1, max: 3600 },
    leaseTtlMs: { unit: 'milliseconds', min: 100, max: 300_000, integer: true },
    maxPoolAgeSeconds: { unit: 'seconds', min: 1, max: 604_800, integer: true },
    'defaults.pruningIntervalHours': { unit: 'hours', min: HOUR, max: 336 },
    'pools[].pruningIntervalHours': { unit: 'hours', min: HOUR, max: 336 },
    'bootstrap.requestTtlSeconds': { unit: 'seconds', min: 1, max: 86_400 },
    /** `ghostfleet-tracker start --refresh-seconds`; 0 turns the re-issue off. */
    '--refresh-seconds': { unit: 'seconds', min: 1, max: 3600 },
  },
} as const satisfies Record<string, Record<string, DurationBound>>

function shown(value: number): string {
  // 1/3600 hours reads better as "0.000278" than as 0.0002777777777777778.
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)))
}

/** The message every bound violation gets: `must be between 1 and 3600 seconds` (+ `, got …` by parseWith). */
export function durationExpectation(bound: DurationBound): string {
  const whole = bound.integer === true ? 'a whole number ' : ''
  const range = `must be ${whole}between ${shown(bound.min)} and ${shown(bound.max)} ${bound.unit}`
  // A fraction of an hour is hard to read: say it in seconds and days too.
  return bound.unit === 'hours'
    ? `${range} (${shown(bound.min * 3600)} s to ${shown(bound.max / 24)} days)`
    : range
}

/** A number field within `bound`; every way it can fail gets the same message naming the range. */
export function duration(bound: DurationBound) {
  const expectation = durationExpectation(bound)
  const base = bound.integer === true ? z.int({ error: expectation }) : z.number({ error: expectation })
  return base.min(bound.min, { error: expectation }).max(bound.max, { error: expectation })
}

/**
 * `ghostfleet-tracker start --refresh-seconds <n>` as typed: `0` turns the re-issue of unchanged desired states
 * off, anything else is a duration within {@link DURATION_BOUNDS}. Parses to seconds.
 */
export function refreshSecondsSchema() {
  const bound = DURATION_BOUNDS.tracker['--refresh-seconds']
  const expectation = `must be 0 (off) or between ${bound.min} and ${bound.max} seconds`
  return z
    .string({ error: expectation })
    .trim()
    .regex(/^\d+(?:\.\d+)?$/, { error: expectation })
    .transform(Number)
    .refine((seconds) => seconds === 0 || (seconds >= bound.min && seconds <= bound.max), {
      error: expectation,
    })
}

import { describe, expect, it } from 'vitest'
import { nextPruneDueAt, retryAfterFailureMs } from '../src/control/prune-schedule.js'

const HOUR = 3_600_000

describe('nextPruneDueAt', () => {
  const base = { intervalMs: 24 * HOUR, clockStartedAt: 1_000_000, retryAfterFailureMs: 10 * 60_000 }

  it('schedules the first prune one interval after the sidecar first ran, not at once', () => {
    expect(nextPruneDueAt({ ...base, lastPruneAt: null, lastAttemptAt: null })).toBe(1_000_000 + 24 * HOUR)
  })

  it('counts the interval from the last successful prune', () => {
    const lastPruneAt = 1_000_000 + 30 * HOUR
    expect(nextPruneDueAt({ ...base, lastPruneAt, lastAttemptAt: lastPruneAt - 5_000 })).toBe(
      lastPruneAt + 24 * HOUR,
    )
  })

  it('retries a failed or interrupted attempt after the retry delay, not every tick and not a whole interval later', () => {
    const lastPruneAt = 1_000_000 + 30 * HOUR
    const failedAttempt = lastPruneAt + 25 * HOUR
    expect(nextPruneDueAt({ ...base, lastPruneAt, lastAttemptAt: failedAttempt })).toBe(
      failedAttempt + 10 * 60_000,
    )
    // A first attempt that failed (no success yet) is retried the same way.
    expect(nextPruneDueAt({ ...base, lastPruneAt: null, lastAttemptAt: 5_000_000 })).toBe(
      5_000_000 + 10 * 60_000,
    )
  })

  it('caps the retry delay at ten minutes and never exceeds the interval', () => {
    expect(retryAfterFailureMs(24 * HOUR)).toBe(10 * 60_000)
    expect(retryAfterFailureMs(1_800)).toBe(1_800)
  })
})

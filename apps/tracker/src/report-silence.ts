/**
 * When a sidecar counts as silent: after 3 of its report intervals without a report, the moment its report hash
 * expires in Redis (`REPORT_TTL_INTERVALS`). The tracker does not know each sidecar's configured interval, so it
 * measures it from the sidecar's own `reportedAt` stamps (one clock, so skew does not matter).
 */
import { REPORT_TTL_INTERVALS } from '@ghostfleet/coordination'

const MIN_INTERVAL_MS = 200
const MAX_INTERVAL_MS = 600_000
/** Allowance for delivery through the stream and timer lateness on top of the intervals. */
const GRACE_MS = 1_000

/**
 * The interval after a new report. One missed report (a Redis blip) at most doubles the estimate, so silence is
 * not detected much later than it should be; a sidecar that really reports less often is followed within a few
 * reports.
 */
export function nextIntervalEstimate(
  previousMs: number,
  previousReportedAt: number,
  reportedAt: number,
): number {
  const gap = reportedAt - previousReportedAt
  if (!(gap > 0)) return previousMs
  const bounded = Math.min(Math.max(gap, MIN_INTERVAL_MS), MAX_INTERVAL_MS)
  return Math.min(bounded, previousMs * 2)
}

/** The tracker-clock time after which a sidecar that last reported at `receivedAt` is silent. */
export function silentAfter(receivedAt: number, intervalMs: number): number {
  return receivedAt + REPORT_TTL_INTERVALS * intervalMs + GRACE_MS
}

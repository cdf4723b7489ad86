import { backoffDelay } from '@ghostfleet/core'

/**
 * The tracker's timing knobs that are not in the config file (`trackerConfigSchema` is owned by
 * `@ghostfleet/core` and strict). The defaults are chosen for real fleets; tests shorten them.
 */

export interface TrackerTiming {
  /**
   * A command (mode switch or prune) that the sidecar has not picked up this long after it was written is
   * withdrawn: the sidecar is not listening (standalone mode, an old release) and must not hold a budget slot.
   * Picked up = it reported the command's token as applied, or it stopped serving. @default 60000
   */
  commandAckTimeoutMs: number
  /**
   * A command the sidecar picked up but that shows no effect while the sidecar keeps reporting "serving" for this
   * long counts as refused (its own safety check said no) and is withdrawn. While the sidecar reports
   * "restarting" or "pruning" it is working, and nothing times out: a prune of a large store takes hours.
   * @default 120000
   */
  commandSettleTimeoutMs: number
  /** After a withdrawn command, the same kind of command waits this long for the sidecar, doubling up to the max. @default 60000 */
  commandRetryInitialMs: number
  /** @default 1800000 (30 min) */
  commandRetryMaxMs: number
  /**
   * Desired states are re-issued (same content, new generation and `issuedAt`) when the last write is older than
   * this, so a sidecar can tell a live tracker with nothing new to say from a dead one. 0 turns it off.
   * @default 30000 (half of the sidecar's default 60 s tracker timeout)
   */
  refreshIntervalMs: number
  /**
   * A sidecar silent this long is forgotten: removed from the fleet and from the `gf:sidecars` index, so a
   * decommissioned host does not hold its pool's availability budget forever. Until then a silent sidecar
   * counts as unavailable. @default 600000 (10 min)
   */
  forgetSilentAfterMs: number
  /**
   * The report interval assumed for a sidecar until two of its reports show the real one. A sidecar is silent
   * after 3 intervals without a report, as its report hash expires. @default 5000 (the sidecar's default)
   */
  defaultReportIntervalMs: number
  /** How often deadlines (silence, command timeouts, refresh, prune due) are checked. @default 1000 */
  sweepIntervalMs: number
  /** Most desired-state writes in flight at once (the rest queue, newest content per sidecar). @default 512 */
  maxWritesInFlight: number
}

export const DEFAULT_TIMING: Readonly<TrackerTiming> = Object.freeze({
  commandAckTimeoutMs: 60_000,
  commandSettleTimeoutMs: 120_000,
  commandRetryInitialMs: 60_000,
  commandRetryMaxMs: 1_800_000,
  refreshIntervalMs: 30_000,
  forgetSilentAfterMs: 600_000,
  defaultReportIntervalMs: 5_000,
  sweepIntervalMs: 1_000,
  maxWritesInFlight: 512,
})

/** Capped doubling: the wait before the `failures`-th retry (1-based). */
export function retryDelay(timing: TrackerTiming, failures: number): number {
  const curve = { initialMs: timing.commandRetryInitialMs, maxMs: timing.commandRetryMaxMs }
  return backoffDelay(Math.max(0, Math.min(failures - 1, 30)), curve)
}

/**
 * How long a desired hash lives without a write or a keep-alive: twice `forgetSilentAfterMs`. The leader extends
 * it on a sidecar's reports at most once per quarter of it, so the hash of a sidecar that stopped reporting lives
 * at least 1.5 × `forgetSilentAfterMs` after its last report: it cannot expire before the tracker forgets the
 * sidecar (which stops every write for it), and it disappears at most 2 × `forgetSilentAfterMs` after that.
 */
export function desiredStateExpiryMs(timing: TrackerTiming): number {
  return Math.max(1_000, 2 * timing.forgetSilentAfterMs)
}

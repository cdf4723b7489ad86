/**
 * Whether a report received for a sidecar is newer than the one the tracker holds (reports arrive at least once
 * and out of order: a stream entry claimed after a failover, a report hash loaded at election after the stream
 * delivered a later one).
 *
 * - Same boot (`bootId`): newer iff its `seq` is higher. The sidecar numbers its reports itself, so its wall
 *   clock plays no part: a clock stepped back does not make its reports look old.
 * - Another boot: the sidecar restarted, and the new boot's reports are the current ones. Boots are not ordered
 *   by anything a sidecar can count on across a restart, so a report of an earlier boot that is delivered late
 *   (after a failover) is taken once and replaced by the current boot's next report, one interval later; it is
 *   a snapshot of a true state, which a report was always allowed to be (delivery is at least once).
 * - Either report without `bootId`/`seq` (a sidecar of an older release, wire version 1 without them): by
 *   `reportedAt`, as that release expects.
 */
import type { SidecarReport } from '@ghostfleet/core'

export type ReportOrder = 'newer' | 'stale'

export function orderReport(
  held: Pick<SidecarReport, 'bootId' | 'seq' | 'reportedAt'>,
  received: Pick<SidecarReport, 'bootId' | 'seq' | 'reportedAt'>,
): ReportOrder {
  if (
    held.bootId !== undefined &&
    held.seq !== undefined &&
    received.bootId !== undefined &&
    received.seq !== undefined
  ) {
    if (received.bootId !== held.bootId) return 'newer'
    return received.seq > held.seq ? 'newer' : 'stale'
  }
  return received.reportedAt > held.reportedAt ? 'newer' : 'stale'
}

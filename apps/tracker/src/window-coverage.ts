/**
 * Holder coverage of a pool's cache window, from the tracker's picture of the pool: what the budget checks
 * before a disruption (`planBudget`) and what the metrics show (`ghostfleet_tracker_pool_window_min_holders`).
 *
 * A member holds the heights [base, height] its last report gives while it is available: reporting, serving, its
 * node reachable, and holding no command (the budget's "serving"). Whether it serves siblings through the
 * gateway (`peerUrl` in its report) does not matter here: a holder also feeds its own protocol node, which
 * uploads and votes for the pool, so the pool's last copy of a height is protected either way.
 */
import {
  type CoverageInput,
  cacheWindow,
  type HeightRange,
  type Holding,
  type MemberActivity,
  minHolders,
  type SidecarReport,
} from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'

export interface CoverageMember {
  report: SidecarReport
  silent: boolean
}

/** The pool's cache window and its available holders, or null while the pool height is not a known integer. */
export function poolCoverage(
  progress: PoolFacts | null,
  members: readonly CoverageMember[],
  unavailable: ReadonlyMap<string, MemberActivity>,
): CoverageInput | null {
  if (progress === null || progress.poolHeight === null) return null
  let tip = 0
  const holdings: Holding[] = []
  for (const { report, silent } of members) {
    tip = Math.max(tip, report.nodeHeight)
    const available =
      !silent && report.activity === 'serving' && report.nodeReachable && !unavailable.has(report.sidecarId)
    // A node at height 0 has no block yet; CometBFT reads a base of 0 with blocks as base 1 (store.go).
    // A base above the height is a view the node contradicts itself in: it counts as holding nothing.
    if (!available || report.nodeHeight === 0 || report.nodeBase > report.nodeHeight) continue
    holdings.push({ id: report.sidecarId, base: Math.max(1, report.nodeBase), height: report.nodeHeight })
  }
  const window: HeightRange = cacheWindow({
    poolHeight: progress.poolHeight,
    maxBundleSize: progress.maxBundleSize,
    tip,
  })
  return { window, holdings }
}

/** The fewest available members holding any one height of the pool's cache window; null when unknown. */
export function windowMinHolders(
  progress: PoolFacts | null,
  members: readonly CoverageMember[],
  unavailable: ReadonlyMap<string, MemberActivity>,
): number | null {
  const coverage = poolCoverage(progress, members, unavailable)
  return coverage === null ? null : minHolders(coverage.window, coverage.holdings)
}

/** Per-pool figures shared by the fleet API and the metrics, computed from the same inputs for both. */
import type { MemberActivity, SidecarReport } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { PoolView } from './fleet-view.js'
import type { PoolMetricsSnapshot } from './metrics.js'
import type { PoolRef } from './pool-ref.js'
import type { PoolSettings } from './pool-settings.js'
import type { PoolThresholds } from './pool-thresholds.js'
import { windowMinHolders } from './window-coverage.js'

export interface PoolSummaryInput {
  ref: PoolRef
  settings: PoolSettings
  progress: PoolFacts | null
  thresholds: PoolThresholds
  members: ReadonlyArray<{ report: SidecarReport; silent: boolean }>
  unavailable: ReadonlyMap<string, MemberActivity>
  waiting: number
  commandsInFlight: number
  lastPollError: string | null
}

interface Aggregates {
  byMode: { normal: number; ghost: number }
  silent: number
  minNodeHeight: number | null
  maxNodeHeight: number | null
  minLag: number | null
  maxLag: number | null
}

function aggregate(input: PoolSummaryInput): Aggregates {
  const result: Aggregates = {
    byMode: { normal: 0, ghost: 0 },
    silent: 0,
    minNodeHeight: null,
    maxNodeHeight: null,
    minLag: null,
    maxLag: null,
  }
  const poolHeight = input.progress?.poolHeight ?? null
  for (const { report, silent } of input.members) {
    if (silent) {
      result.silent += 1
      continue
    }
    result.byMode[report.mode] += 1
    const h = report.nodeHeight
    result.minNodeHeight = result.minNodeHeight === null ? h : Math.min(result.minNodeHeight, h)
    result.maxNodeHeight = result.maxNodeHeight === null ? h : Math.max(result.maxNodeHeight, h)
    if (poolHeight !== null) {
      const lag = h - poolHeight
      result.minLag = result.minLag === null ? lag : Math.min(result.minLag, lag)
      result.maxLag = result.maxLag === null ? lag : Math.max(result.maxLag, lag)
    }
  }
  return result
}

export function poolView(input: PoolSummaryInput, now: number, maxPoolAgeMs: number): PoolView {
  const { ref, settings, progress, thresholds } = input
  const aggregates = aggregate(input)
  const age = progress === null ? null : now - progress.fetchedAt
  return {
    chainId: ref.chainId,
    poolId: ref.poolId,
    poolHeight: progress?.poolHeight ?? null,
    poolHeightKey: progress?.poolHeightKey ?? null,
    fetchedAt: progress?.fetchedAt ?? null,
    ageSeconds: age === null ? null : Math.max(0, age) / 1000,
    stale: age === null || age > maxPoolAgeMs,
    endpoint: progress?.endpoint ?? null,
    status: progress?.status ?? null,
    thresholds: thresholds.ok ? thresholds.thresholds : null,
    thresholdsProblem: thresholds.ok ? null : thresholds.problem,
    maxUnavailable: settings.maxUnavailable,
    pruningIntervalHours: settings.pruningIntervalMs / 3_600_000,
    margin: settings.margin,
    sidecars: input.members.length,
    ...aggregates,
    unavailable: [...input.unavailable].map(([sidecarId, activity]) => ({ sidecarId, activity })),
    waiting: input.waiting,
    lastPollError: input.lastPollError,
  }
}

export function poolMetrics(input: PoolSummaryInput, now: number): PoolMetricsSnapshot {
  const aggregates = aggregate(input)
  return {
    chainId: input.ref.chainId,
    poolId: input.ref.poolId,
    poolHeight: input.progress?.poolHeight ?? null,
    poolHeightAgeSeconds: input.progress === null ? null : Math.max(0, now - input.progress.fetchedAt) / 1000,
    sidecarsByMode: aggregates.byMode,
    silent: aggregates.silent,
    minNodeHeight: aggregates.minNodeHeight,
    maxNodeHeight: aggregates.maxNodeHeight,
    minLag: aggregates.minLag,
    maxLag: aggregates.maxLag,
    unavailable: input.unavailable.size,
    maxUnavailable: input.settings.maxUnavailable,
    commandsInFlight: input.commandsInFlight,
    windowMinHolders: windowMinHolders(input.progress, input.members, input.unavailable),
  }
}

/**
 * The fleet as a standby sees it: read from Redis on request (reports, stored desired states, the pool progress
 * the leader shared), so `status` works against any tracker. Commands in progress and waiting reasons live only
 * in the leader's memory and are left out.
 */

import {
  loadAllReports,
  type RedisClient,
  readDesiredState,
  readPoolProgress,
} from '@ghostfleet/coordination'
import type { DesiredState, MemberActivity, SidecarReport } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { ResolvedTrackerConfig } from './config.js'
import { type PoolView, reportedSidecarView, type SidecarView } from './fleet-view.js'
import { poolKey } from './pool-ref.js'
import { resolvePoolSettings } from './pool-settings.js'
import { poolView } from './pool-summary.js'
import { poolThresholds } from './pool-thresholds.js'

export interface StandbyFleet {
  pools: PoolView[]
  sidecars: SidecarView[]
  /** Sidecars in the index whose report expired (their pool is not known here). */
  silent: string[]
}

const BATCH = 200

async function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < items.length; i += BATCH)
    results.push(...(await Promise.all(items.slice(i, i + BATCH).map(fn))))
  return results
}

export async function standbyFleet(
  redis: RedisClient,
  config: ResolvedTrackerConfig,
  now: number,
): Promise<StandbyFleet> {
  const fleet = await loadAllReports(redis)
  const reports = [...fleet.reports.values()]
  const desired = await inBatches(reports, async (report): Promise<DesiredState | null> => {
    try {
      return await readDesiredState(redis, report.sidecarId, { fenceByLeaderEpoch: false })
    } catch {
      return null
    }
  })
  const byPool = new Map<string, SidecarReport[]>()
  for (const report of reports) {
    const key = poolKey(report)
    byPool.set(key, [...(byPool.get(key) ?? []), report])
  }
  const progress = new Map<string, PoolFacts | null>()
  await inBatches([...byPool.values()], async (members) => {
    const first = members[0]!
    let record: PoolFacts | null = null
    try {
      record = await readPoolProgress(redis, first.chainId, first.poolId)
    } catch {
      record = null
    }
    progress.set(poolKey(first), record)
  })
  const { maxPoolAgeMs } = config
  const pools: PoolView[] = [...byPool.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, members]) => {
      const first = members[0]!
      const ref = { chainId: first.chainId, poolId: first.poolId }
      const settings = resolvePoolSettings(config, ref)
      const unavailable = new Map<string, MemberActivity>()
      for (const report of members)
        if (report.activity !== 'serving') unavailable.set(report.sidecarId, report.activity)
      const poolProgress = progress.get(key) ?? null
      return poolView(
        {
          ref,
          settings,
          progress: poolProgress,
          thresholds: poolThresholds(poolProgress, settings.thresholdOverrides),
          members: members.map((report) => ({ report, silent: false })),
          unavailable,
          waiting: 0,
          commandsInFlight: 0,
          lastPollError: null,
        },
        now,
        maxPoolAgeMs,
      )
    })
  const sidecars: SidecarView[] = reports.map((report, index) => {
    const state = desired[index] ?? null
    const poolHeight = progress.get(poolKey(report))?.poolHeight ?? null
    return reportedSidecarView(report, state, poolHeight, report.reportedAt, now)
  })
  sidecars.sort((a, b) => {
    const ka = `${a.chainId}/${a.poolId}`
    const kb = `${b.chainId}/${b.poolId}`
    return ka === kb ? (a.sidecarId < b.sidecarId ? -1 : 1) : ka < kb ? -1 : 1
  })
  return { pools, sidecars, silent: fleet.silent.map((s) => s.sidecarId) }
}

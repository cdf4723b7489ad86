/** The fleet as the leader sees it: from its own state, with the commands in progress and why sidecars wait. */
import type { DesiredState } from '@ghostfleet/core'
import { describeCommand } from './commands.js'
import type { PoolEntry, SidecarEntry } from './fleet-state.js'
import { type PoolView, reportedSidecarView, type SidecarView } from './fleet-view.js'
import type { PoolMetricsSnapshot } from './metrics.js'
import { type PoolSummaryInput, poolMetrics, poolView } from './pool-summary.js'
import type { Reconciler } from './reconciler.js'

export interface LeaderViewSource {
  reconciler: Reconciler
  written: (sidecarId: string) => DesiredState | null
  now: number
  maxPoolAgeMs: number
}

function summaryInput(source: LeaderViewSource, pool: PoolEntry): PoolSummaryInput {
  const members: SidecarEntry[] = []
  let commands = 0
  for (const id of pool.members) {
    const entry = source.reconciler.sidecars.get(id)
    if (entry === undefined) continue
    members.push(entry)
    if (entry.command !== null) commands += 1
  }
  return {
    ref: pool.ref,
    settings: pool.settings,
    progress: pool.progress,
    thresholds: pool.thresholds,
    members,
    unavailable: pool.unavailable,
    waiting: pool.wanting.size,
    commandsInFlight: commands,
    lastPollError: pool.lastPollError,
  }
}

export function leaderPools(source: LeaderViewSource): PoolView[] {
  return [...source.reconciler.pools.values()]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((pool) => poolView(summaryInput(source, pool), source.now, source.maxPoolAgeMs))
}

export function leaderPoolMetrics(source: LeaderViewSource): PoolMetricsSnapshot[] {
  return [...source.reconciler.pools.values()].map((pool) =>
    poolMetrics(summaryInput(source, pool), source.now),
  )
}

export function leaderSidecar(source: LeaderViewSource, entry: SidecarEntry): SidecarView {
  const { report, command } = entry
  const pool = source.reconciler.pools.get(entry.poolKey)
  const poolHeight = pool?.progress?.poolHeight ?? null
  const desired = source.written(entry.id)
  let note = entry.assessment?.note ?? null
  const hold = source.reconciler.globalHold(source.now)
  if (entry.assessment?.want != null && hold !== null) {
    note = `${note}; waiting: ${hold}`
  } else if (entry.assessment?.want != null && pool !== undefined) {
    const holders = [...pool.unavailable].map(([id, activity]) => `${id} ${activity}`).slice(0, 5)
    note = `${note}; waiting for the availability budget (${pool.unavailable.size} of ${pool.settings.maxUnavailable} in use${holders.length > 0 ? `: ${holders.join(', ')}` : ''})`
  }
  return {
    ...reportedSidecarView(report, desired, poolHeight, entry.receivedAt, source.now),
    sidecarId: entry.id,
    chainId: entry.pool.chainId,
    poolId: entry.pool.poolId,
    activity: entry.silent ? 'unknown' : report.activity,
    silent: entry.silent,
    command:
      command === null
        ? null
        : {
            kind: command.kind,
            description: describeCommand(command),
            issuedAt: command.issuedAt,
            pickedUp: command.pickedUpAt !== null,
          },
    note,
    lastOutcome: entry.lastOutcome,
  }
}

export function leaderSidecars(source: LeaderViewSource): SidecarView[] {
  return [...source.reconciler.sidecars.values()]
    .sort((a, b) => (a.poolKey === b.poolKey ? (a.id < b.id ? -1 : 1) : a.poolKey < b.poolKey ? -1 : 1))
    .map((entry) => leaderSidecar(source, entry))
}

/**
 * How a sidecar counts against its pool's availability budget (at most `maxUnavailable` sidecars of a pool
 * restarting or pruning at once), and the planning call.
 *
 * With the height-aware gateway, a protocol node whose own node is down reads the heights it needs from a
 * sibling, so the budget also checks holder coverage (`window-coverage.ts`): a disruption waits while its
 * member is the only available holder of some height of [pool height, pool height + cache window]. The rule
 * for the count: `maxUnavailable` stays the operator's hard cap, gateway or not. Coverage guarantees one holder
 * per height, not capacity: each member down moves its protocol node's reads onto siblings whose peer path is
 * rate-limited, so how many may be down at once remains the operator's call. What the gateway changes is what
 * raising `maxUnavailable` costs: with gateways on every member, coverage keeps the pool's data readable
 * whatever the cap, where before each member down was a protocol node without data.
 *
 * A pool of one sidecar has no sibling to cover for it: coverage is not checked there, or its node could never
 * switch or prune (a ghost node that cannot return to normal stops serving the pool altogether).
 *
 * A sidecar is unavailable when it is silent (unknown: it may be mid-restart, or gone), when it says it is not
 * serving, when its node is unreachable, or while it holds a command the tracker gave it (a switch or a prune
 * that its reports do not show finished yet). Only serving sidecars are ever sent down.
 */
import {
  type CoverageInput,
  type DisruptionCandidate,
  type MemberActivity,
  type PoolMember,
  planDisruptions,
  type SidecarReport,
} from '@ghostfleet/core'
import type { Command } from './commands.js'

export function budgetActivity(
  report: SidecarReport | null,
  silent: boolean,
  command: Command | null,
): MemberActivity {
  if (silent || report === null) return 'unknown'
  if (report.activity !== 'serving') return report.activity
  if (!report.nodeReachable) return 'unknown'
  if (command !== null) return command.kind === 'prune' ? 'pruning' : 'restarting'
  return 'serving'
}

export interface BudgetPlan {
  allowed: string[]
  deferred: Map<string, string>
}

/**
 * Which of `candidates` (all serving, best first, each with what it wants) may start now; returns to normal go
 * first whatever their place. Only the unavailable members matter to the budget, so the caller passes those plus
 * the candidates instead of the whole pool: the answer is the same and the cost does not grow with the number
 * of healthy sidecars. `coverage` (from `poolCoverage`) lists the available holders, which is every serving
 * member; pass null when the pool height is unknown or the pool has a single member (see the file comment).
 */
export function planBudget(
  unavailable: ReadonlyMap<string, MemberActivity>,
  candidates: ReadonlyArray<string | DisruptionCandidate>,
  maxUnavailable: number,
  coverage: CoverageInput | null = null,
): BudgetPlan {
  const members: PoolMember[] = []
  const seen = new Set<string>(unavailable.keys())
  for (const [id, activity] of unavailable) members.push({ id, activity })
  for (const candidate of candidates) {
    const id = typeof candidate === 'string' ? candidate : candidate.id
    if (seen.has(id)) continue
    seen.add(id)
    members.push({ id, activity: 'serving' })
  }
  const plan = planDisruptions({
    members,
    candidates,
    maxUnavailable,
    ...(coverage === null ? {} : { coverage }),
  })
  return { allowed: plan.allowed, deferred: new Map(plan.deferred.map((d) => [d.id, d.reason])) }
}

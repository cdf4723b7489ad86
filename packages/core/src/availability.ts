/**
 * The availability budget (safety invariant 3): at most `maxUnavailable` members of one pool may be down for a
 * restart or a prune at the same moment, so the pool always has data sources to read from. supervysor lets
 * every replica of a pool prune at once; this is what stops that.
 */
import { describeValue } from './describe-value.js'

export const MEMBER_ACTIVITIES = ['serving', 'restarting', 'pruning', 'unknown'] as const
export type MemberActivity = (typeof MEMBER_ACTIVITIES)[number]

export interface PoolMember {
  id: string
  activity: MemberActivity
}

/**
 * What a candidate wants to start. `return-to-normal` is urgent: a ghost node does not sync, and the pool is
 * catching up with it (or may have, when its height is stale); every other restart or prune can wait.
 */
export const DISRUPTION_KINDS = ['return-to-normal', 'switch-to-ghost', 'prune'] as const
export type DisruptionKind = (typeof DISRUPTION_KINDS)[number]

/** A candidate with what it wants; a plain id is a candidate whose kind the caller does not say (not urgent). */
export interface DisruptionCandidate {
  id: string
  kind: DisruptionKind
}

export interface DisruptionRequest {
  /** Every sidecar serving the pool, as last reported. */
  members: readonly PoolMember[]
  /**
   * Members that want to start a restart or a prune, highest priority first. Returns to normal are taken first
   * whatever their place (in the caller's order among themselves); the rest keep the caller's order.
   */
  candidates: ReadonlyArray<string | DisruptionCandidate>
  /** How many members may be unavailable at once; an integer ≥ 1. */
  maxUnavailable: number
}

export interface DisruptionPlan {
  /** Candidates that may go ahead now, in priority order. */
  allowed: string[]
  /** Candidates that must wait, each with the reason. */
  deferred: Array<{ id: string; reason: string }>
}

/** {@link planDisruptions} was called with values no caller should pass. */
export class AvailabilityBudgetError extends Error {
  override readonly name = 'AvailabilityBudgetError'
}

/**
 * Whether a member counts against the budget. `unknown` (the sidecar stopped reporting) counts as down: a
 * silent sidecar may be mid-restart or mid-prune, or its host may be gone, and we cannot know it is serving.
 * Counting it as up could let a second member go down while the pool in fact has none left.
 */
function isUnavailable(activity: MemberActivity): boolean {
  return activity !== 'serving'
}

/**
 * Pick which candidates may start a restart or prune now. Every distinct candidate ends up in exactly one of
 * `allowed` or `deferred`; repeats of a candidate are ignored. Returns to normal go before every other candidate
 * (see {@link DISRUPTION_KINDS}): a free slot never goes to a prune while a ghost node waits to sync again.
 *
 * A candidate that is already restarting or pruning is allowed without taking a second slot: it already holds
 * one, and letting it finish does not make more members unavailable. A candidate whose state is unknown, or
 * that is not a member at all, is deferred: nothing should be started on a sidecar we cannot see.
 *
 * Invariant: the members unavailable after the plan (already unavailable ∪ allowed) never number more than
 * `maxUnavailable`, unless more than that were already unavailable, in which case nothing new is allowed.
 *
 * @example
 * planDisruptions({ members: [{ id: 'a', activity: 'serving' }, { id: 'b', activity: 'serving' }],
 *   candidates: ['a', 'b'], maxUnavailable: 1 })
 * // → { allowed: ['a'], deferred: [{ id: 'b', reason: 'availability budget in use: 1 of 1 (a starting)' }] }
 */
export function planDisruptions(request: DisruptionRequest): DisruptionPlan {
  const { members, candidates, maxUnavailable } = request
  if (typeof maxUnavailable !== 'number' || !Number.isSafeInteger(maxUnavailable) || maxUnavailable < 1) {
    throw new AvailabilityBudgetError(
      `maxUnavailable must be an integer ≥ 1, got ${describeValue(maxUnavailable)}`,
    )
  }
  const activityOf = new Map<string, MemberActivity>()
  for (const member of members) {
    if (!MEMBER_ACTIVITIES.includes(member.activity)) {
      throw new AvailabilityBudgetError(
        `member ${describeValue(member.id)} has activity ${describeValue(member.activity)}, ` +
          `expected one of ${MEMBER_ACTIVITIES.join(', ')}`,
      )
    }
    if (activityOf.has(member.id)) {
      throw new AvailabilityBudgetError(`member ${describeValue(member.id)} is listed twice`)
    }
    activityOf.set(member.id, member.activity)
  }

  // Who holds a slot, and why, in the order we will name them in deferral reasons.
  const holders = new Map<string, string>()
  for (const [id, activity] of activityOf) {
    if (isUnavailable(activity)) holders.set(id, activity)
  }

  const allowed: string[] = []
  const deferred: Array<{ id: string; reason: string }> = []
  const seen = new Set<string>()
  for (const id of inPriorityOrder(candidates)) {
    if (seen.has(id)) continue
    seen.add(id)
    const activity = activityOf.get(id)
    if (activity === undefined) {
      deferred.push({ id, reason: 'not a known member of this pool' })
    } else if (activity === 'unknown') {
      deferred.push({ id, reason: 'its state is unknown (no recent report)' })
    } else if (activity === 'restarting' || activity === 'pruning') {
      allowed.push(id)
    } else if (holders.size < maxUnavailable) {
      holders.set(id, 'starting')
      allowed.push(id)
    } else {
      const named = [...holders].slice(0, 5).map(([holder, why]) => `${holder} ${why}`)
      const who =
        holders.size > named.length
          ? `${named.join(', ')}, +${holders.size - named.length} more`
          : named.join(', ')
      deferred.push({
        id,
        reason: `availability budget in use: ${holders.size} of ${maxUnavailable} (${who})`,
      })
    }
  }
  return { allowed, deferred }
}

/** Candidate ids, returns to normal first, each group in the caller's order. */
function inPriorityOrder(candidates: ReadonlyArray<string | DisruptionCandidate>): string[] {
  const urgent: string[] = []
  const rest: string[] = []
  for (const candidate of candidates) {
    if (typeof candidate === 'string') {
      rest.push(candidate)
      continue
    }
    if (!DISRUPTION_KINDS.includes(candidate.kind)) {
      throw new AvailabilityBudgetError(
        `candidate ${describeValue(candidate.id)} has kind ${describeValue(candidate.kind)}, ` +
          `expected one of ${DISRUPTION_KINDS.join(', ')}`,
      )
    }
    ;(candidate.kind === 'return-to-normal' ? urgent : rest).push(candidate.id)
  }
  return [...urgent, ...rest]
}

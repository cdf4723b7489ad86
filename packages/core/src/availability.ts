/**
 * The availability budget (safety invariant 3): at most `maxUnavailable` members of one pool may be down for a
 * restart or a prune at the same moment, so the pool always has data sources to read from. supervysor lets
 * every replica of a pool prune at once; this is what stops that.
 *
 * Holder coverage (with the height-aware gateway): when the caller passes the pool's cache window and what each
 * available member holds, a disruption must also leave every height of the window that is held now held by at
 * least one available member. A protocol node whose own node is down reads through its gateway from a sibling
 * that holds the height; coverage guarantees there is one. `maxUnavailable` stays a hard cap on top: the gateway
 * lets a node's last local copy go down, never the pool's last copy, and never more nodes than the operator
 * allows (each down member moves its protocol node's reads onto rate-limited siblings).
 */
import { describeValue } from './describe-value.js'
import {
  describeRanges,
  type HeightRange,
  type Holding,
  minHolders,
  soleHeldRanges,
} from './holder-coverage.js'

export const MEMBER_ACTIVITIES = ['serving', 'restarting', 'pruning', 'unknown'] as const
export type MemberActivity = (typeof MEMBER_ACTIVITIES)[number]

export interface PoolMember {
  id: string
  activity: MemberActivity
}

/**
 * What a candidate wants to start. `return-to-normal` is urgent: a ghost node does not sync, and the pool is
 * catching up with it (or may have, when its height is stale); every other restart or prune can wait.
 * `checkpoint`: a donor stops its node to link its data into a checkpoint for a bootstrapping host, then starts
 * it again; its node is down like for a restart, so it takes a slot and obeys holder coverage like one (a donor
 * whose prune is due takes the checkpoint in the prune's stop instead: the caller passes that as a `prune`).
 */
export const DISRUPTION_KINDS = ['return-to-normal', 'switch-to-ghost', 'prune', 'checkpoint'] as const
export type DisruptionKind = (typeof DISRUPTION_KINDS)[number]

/** A candidate with what it wants; a plain id is a candidate whose kind the caller does not say (not urgent). */
export interface DisruptionCandidate {
  id: string
  kind: DisruptionKind
  /**
   * For a prune: the height it prunes to (keeps it, deletes below). After the prune the member holds
   * [pruneTo, height]; a prune into the cache window is refused when coverage is checked.
   */
  pruneTo?: number
}

/** The pool's cache window and what its available members hold (see {@link planDisruptions}). */
export interface CoverageInput {
  /** The heights the pool's protocol nodes may ask for next (`cacheWindow`). */
  window: HeightRange
  /**
   * What every member serving now holds, by id; members not listed hold nothing available (down, silent,
   * commanded). Members passed in `members` as not serving must not be listed.
   */
  holdings: readonly Holding[]
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
  /** When given, a candidate must also keep every held height of the cache window held (see the file comment). */
  coverage?: CoverageInput
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
 * With `coverage`: a serving candidate also waits while it is the only available holder of some height of the
 * window (another member must hold it first), and a prune to a height above the window's start waits for good
 * reason (it would delete what the pool needs). Invariant: every height of the window held by an available
 * member before the plan is held by one that the plan leaves available.
 *
 * @example
 * planDisruptions({ members: [{ id: 'a', activity: 'serving' }, { id: 'b', activity: 'serving' }],
 *   candidates: ['a', 'b'], maxUnavailable: 1 })
 * // → { allowed: ['a'], deferred: [{ id: 'b', reason: 'availability budget in use: 1 of 1 (a starting)' }] }
 */
export function planDisruptions(request: DisruptionRequest): DisruptionPlan {
  const { members, candidates, maxUnavailable, coverage } = request
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

  const available = coverage === undefined ? null : availableHoldings(coverage, activityOf)

  // Who holds a slot, and why, in the order we will name them in deferral reasons.
  const holders = new Map<string, string>()
  for (const [id, activity] of activityOf) {
    if (isUnavailable(activity)) holders.set(id, activity)
  }

  const allowed: string[] = []
  const deferred: Array<{ id: string; reason: string }> = []
  const seen = new Set<string>()
  for (const { id, pruneTo } of inPriorityOrder(candidates)) {
    if (seen.has(id)) continue
    seen.add(id)
    const activity = activityOf.get(id)
    const uncovered =
      available === null || coverage === undefined || activity !== 'serving'
        ? null
        : coverageProblem(coverage.window, available, id, pruneTo)
    if (activity === undefined) {
      deferred.push({ id, reason: 'not a known member of this pool' })
    } else if (activity === 'unknown') {
      deferred.push({ id, reason: 'its state is unknown (no recent report)' })
    } else if (activity === 'restarting' || activity === 'pruning') {
      allowed.push(id)
    } else if (holders.size < maxUnavailable && uncovered !== null) {
      deferred.push({ id, reason: uncovered })
    } else if (holders.size < maxUnavailable) {
      holders.set(id, 'starting')
      if (available !== null) available.delete(id)
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

/** The holdings of members available now, by id, checked against the members' activities. */
function availableHoldings(
  coverage: CoverageInput,
  activityOf: ReadonlyMap<string, MemberActivity>,
): Map<string, Holding> {
  const result = new Map<string, Holding>()
  for (const holding of coverage.holdings) {
    if (result.has(holding.id)) {
      throw new AvailabilityBudgetError(`coverage lists member ${describeValue(holding.id)} twice`)
    }
    const activity = activityOf.get(holding.id)
    if (activity !== undefined && activity !== 'serving') {
      throw new AvailabilityBudgetError(
        `coverage lists member ${describeValue(holding.id)} as holding heights, but it is ${activity}`,
      )
    }
    result.set(holding.id, holding)
  }
  // Validates the window and every holding once, up front (throws HolderCoverageError).
  minHolders(coverage.window, coverage.holdings)
  return result
}

/** Why `id` going down now would hurt the cache window, or null when it would not. */
function coverageProblem(
  window: HeightRange,
  available: ReadonlyMap<string, Holding>,
  id: string,
  pruneTo: number | undefined,
): string | null {
  if (pruneTo !== undefined && pruneTo > window.from) {
    return `its prune to ${pruneTo} would delete heights ${window.from}–${pruneTo - 1} of the cache window`
  }
  const sole = soleHeldRanges(window, [...available.values()], id)
  if (sole.length === 0) return null
  return (
    `it is the only available holder of heights ${describeRanges(sole)} of the cache window ` +
    `${window.from}–${window.to}`
  )
}

/** Candidates, returns to normal first, each group in the caller's order. */
function inPriorityOrder(
  candidates: ReadonlyArray<string | DisruptionCandidate>,
): Array<{ id: string; pruneTo: number | undefined }> {
  const urgent: Array<{ id: string; pruneTo: number | undefined }> = []
  const rest: Array<{ id: string; pruneTo: number | undefined }> = []
  for (const candidate of candidates) {
    if (typeof candidate === 'string') {
      rest.push({ id: candidate, pruneTo: undefined })
      continue
    }
    if (!DISRUPTION_KINDS.includes(candidate.kind)) {
      throw new AvailabilityBudgetError(
        `candidate ${describeValue(candidate.id)} has kind ${describeValue(candidate.kind)}, ` +
          `expected one of ${DISRUPTION_KINDS.join(', ')}`,
      )
    }
    const pruneTo = candidate.pruneTo
    if (
      pruneTo !== undefined &&
      (!Number.isSafeInteger(pruneTo) || pruneTo < 1 || candidate.kind !== 'prune')
    ) {
      throw new AvailabilityBudgetError(
        `candidate ${describeValue(candidate.id)} has pruneTo ${describeValue(pruneTo)}: ` +
          'expected an integer ≥ 1, on a prune only',
      )
    }
    ;(candidate.kind === 'return-to-normal' ? urgent : rest).push({ id: candidate.id, pruneTo })
  }
  return [...urgent, ...rest]
}

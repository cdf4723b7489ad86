/**
 * What one sidecar should do next, from its latest report and its pool's progress. Pure: the reconciler feeds
 * it the state and the clock, and decides with the availability budget which wants may go ahead.
 *
 * Modes follow supervysor's hysteresis (`decideMode`) with the sidecar's own thresholds when it reports them
 * (the ones it uses when it decides alone, so tracker and fallback agree), else the pool's. Prunes happen only in
 * ghost mode, once per pruning interval, to `safePruneHeight` of the sidecar's reported heights.
 *
 * A stale pool height (older than `maxPoolAgeMs`) decides nothing, with the exception a sidecar deciding alone
 * makes too (`projectStalePool`): a ghost node the pool could have caught up with, advancing at its fastest
 * since it was last seen, is sent back to normal. A ghost node does not sync, so holding it on a stale height
 * could let the pool stall on it; a return to normal only costs disk space.
 */
import {
  type DisruptionKind,
  decideMode,
  type NodeMode,
  projectStalePool,
  type SidecarReport,
  safePruneHeight,
  type Thresholds,
} from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { Command } from './commands.js'
import type { PoolSettings } from './pool-settings.js'
import type { PoolThresholds } from './pool-thresholds.js'

export type Want =
  | {
      kind: 'switch'
      mode: NodeMode
      reason: string
      /** Blocks beyond the threshold that was crossed; larger goes first. */
      urgency: number
    }
  | {
      kind: 'prune'
      height: number
      blocks: number
      basedOnPoolHeight: number
      poolFetchedAt: number
      reason: string
      /** When the sidecar last pruned (epoch ms), or null: the longest-unpruned goes first. */
      lastPruneAt: number | null
    }

export interface SidecarAssessment {
  /** A disruptive change this sidecar should make, subject to the budget; null when none. */
  want: Want | null
  /** Why it wants it, or why it holds. */
  note: string
  /** node − pool, when both are known. */
  lag: number | null
  thresholds: Thresholds | null
}

export interface AssessInput {
  report: SidecarReport
  command: Command | null
  progress: PoolFacts | null
  poolThresholds: PoolThresholds
  settings: PoolSettings
  now: number
  maxPoolAgeMs: number
  /** No new switch before this time (epoch ms) after a withdrawn one. */
  switchRetryAt: number
  /** No new prune before this time. */
  pruneRetryAt: number
  /** When the tracker saw this sidecar finish its last prune (tracker clock), if it did. */
  pruneDoneAt: number | null
}

function holdNote(input: AssessInput): string | null {
  const { report, progress, now, maxPoolAgeMs } = input
  if (progress === null) return 'pool height not known yet: holding the current mode'
  if (progress.poolHeight === null) {
    return `pool key ${JSON.stringify(progress.poolHeightKey)} is not a height: holding the current mode`
  }
  const age = now - progress.fetchedAt
  if (age > maxPoolAgeMs) return staleNote(age)
  if (report.activity !== 'serving') return `sidecar is ${report.activity}: waiting`
  if (!report.nodeReachable) return 'node is unreachable: waiting'
  return null
}

function staleNote(ageMs: number): string {
  return `pool height is ${Math.round(ageMs / 1000)} s old: holding the current mode`
}

/**
 * On a stale integer pool height: the return to normal of a serving ghost node the pool could have caught up
 * with, or null (then `holdNote` holds).
 */
function staleReturn(
  input: AssessInput,
  thresholds: Thresholds | null,
  lag: number | null,
): SidecarAssessment | null {
  const { report, progress, now } = input
  if (progress === null || progress.poolHeight === null || thresholds === null) return null
  const age = now - progress.fetchedAt
  if (age <= input.maxPoolAgeMs || report.mode !== 'ghost') return null
  if (report.activity !== 'serving' || !report.nodeReachable) return null
  const verdict = projectStalePool({
    mode: report.mode,
    nodeHeight: report.nodeHeight,
    poolHeight: progress.poolHeight,
    poolAgeMs: age,
    maxBundleSize: progress.maxBundleSize,
    uploadInterval: progress.uploadInterval,
    heightDifferenceMin: thresholds.heightDifferenceMin,
  })
  if (!verdict.returnToNormal) {
    return { want: null, note: `${staleNote(age)}; ${verdict.reason}`, lag, thresholds }
  }
  if (now < input.switchRetryAt) {
    return { want: null, note: `${verdict.reason}; retrying after a withdrawn switch`, lag, thresholds }
  }
  return {
    want: {
      kind: 'switch',
      mode: 'normal',
      reason: verdict.reason,
      urgency: thresholds.heightDifferenceMin - verdict.projectedDiff,
    },
    note: verdict.reason,
    lag,
    thresholds,
  }
}

/**
 * Whether a return to normal may replace `command`: a prune the sidecar is not running (not picked up yet, or
 * picked up and refused) while it serves on a reachable node. A ghost node does not sync, so a prune it refuses
 * must not hold it in ghost while the pool catches up; a prune it reports running is left to finish.
 */
export function supersedableByReturn(command: Command, report: SidecarReport): boolean {
  return command.kind === 'prune' && report.activity === 'serving' && report.nodeReachable
}

export function assessSidecar(input: AssessInput): SidecarAssessment {
  const { command } = input
  if (command === null) return assessFree(input)
  const inProgress = (assessment: { lag: number | null; thresholds: Thresholds | null }) => ({
    want: null,
    note: `in progress: ${command.reason}`,
    lag: assessment.lag,
    thresholds: assessment.thresholds,
  })
  if (!supersedableByReturn(command, input.report)) return inProgress(lagAndThresholds(input))
  const free = assessFree({ ...input, command: null })
  const want = free.want
  if (want?.kind === 'switch' && want.mode === 'normal') {
    return { ...free, note: `${free.note}; supersedes the pending ${command.reason}` }
  }
  return inProgress(free)
}

function lagAndThresholds(input: AssessInput): { lag: number | null; thresholds: Thresholds | null } {
  const { report, progress } = input
  const thresholds = report.thresholds ?? (input.poolThresholds.ok ? input.poolThresholds.thresholds : null)
  const lag = progress?.poolHeight != null ? report.nodeHeight - progress.poolHeight : null
  return { lag, thresholds }
}

/** The assessment of a sidecar with no command. */
function assessFree(input: AssessInput): SidecarAssessment {
  const { report, progress, now } = input
  const { lag, thresholds } = lagAndThresholds(input)
  const staleAssessment = staleReturn(input, thresholds, lag)
  if (staleAssessment !== null) return staleAssessment
  const held = holdNote(input)
  if (held !== null) return { want: null, note: held, lag, thresholds }
  if (thresholds === null) {
    const problem = input.poolThresholds.ok ? 'no thresholds' : input.poolThresholds.problem
    return { want: null, note: `${problem}: holding the current mode`, lag, thresholds }
  }
  // holdNote guarantees a fresh integer pool height here.
  const pool = progress as PoolFacts & { poolHeight: number }
  const decision = decideMode({
    nodeHeight: report.nodeHeight,
    poolHeight: pool.poolHeight,
    currentMode: report.mode,
    thresholds,
  })
  if (decision.mode !== report.mode) {
    if (now < input.switchRetryAt) {
      return { want: null, note: `${decision.reason}; retrying after a withdrawn switch`, lag, thresholds }
    }
    const urgency =
      decision.mode === 'normal'
        ? thresholds.heightDifferenceMin - decision.diff
        : decision.diff - thresholds.heightDifferenceMax
    return {
      want: { kind: 'switch', mode: decision.mode, reason: decision.reason, urgency },
      note: decision.reason,
      lag,
      thresholds,
    }
  }
  if (report.mode !== 'ghost') return { want: null, note: decision.reason, lag, thresholds }

  const reportedPruneAt = report.lastPrune?.at ?? null
  const lastPruneAt =
    reportedPruneAt === null && input.pruneDoneAt === null
      ? null
      : Math.max(reportedPruneAt ?? 0, input.pruneDoneAt ?? 0)
  if (lastPruneAt !== null && now - lastPruneAt < input.settings.pruningIntervalMs) {
    return { want: null, note: `${decision.reason}; next prune not due yet`, lag, thresholds }
  }
  if (now < input.pruneRetryAt) {
    return { want: null, note: `${decision.reason}; retrying after a withdrawn prune`, lag, thresholds }
  }
  const prune = safePruneHeight({
    pool: { height: pool.poolHeightKey, fetchedAt: pool.fetchedAt },
    now,
    maxPoolAgeMs: input.maxPoolAgeMs,
    nodeHeight: report.nodeHeight,
    nodeBase: report.nodeBase,
    margin: input.settings.margin,
  })
  if (!prune.prune)
    return { want: null, note: `${decision.reason}; no prune: ${prune.detail}`, lag, thresholds }
  const reason = `prune to ${prune.height} (${prune.blocks} blocks; pool ${pool.poolHeight}, node ${report.nodeHeight}, base ${report.nodeBase})`
  return {
    want: {
      kind: 'prune',
      height: prune.height,
      blocks: prune.blocks,
      basedOnPoolHeight: pool.poolHeight,
      poolFetchedAt: pool.fetchedAt,
      reason,
      lastPruneAt,
    },
    note: reason,
    lag,
    thresholds,
  }
}

/** The budget's name for what a want starts (returns to normal are urgent, see `planDisruptions`). */
export function disruptionKind(want: Want): DisruptionKind {
  if (want.kind === 'prune') return 'prune'
  return want.mode === 'normal' ? 'return-to-normal' : 'switch-to-ghost'
}

/**
 * Order of candidates for the budget: returns to normal first (the pool is catching up with a node that stopped
 * syncing, which soon cannot serve what the pool asks next), then switches to ghost, then prunes (longest
 * unpruned first, then most blocks); the sidecar id breaks ties so the order is stable.
 */
export function compareWants(a: { id: string; want: Want }, b: { id: string; want: Want }): number {
  const rank = (want: Want) => (want.kind === 'switch' ? (want.mode === 'normal' ? 0 : 1) : 2)
  const byRank = rank(a.want) - rank(b.want)
  if (byRank !== 0) return byRank
  if (a.want.kind === 'switch' && b.want.kind === 'switch') {
    if (a.want.urgency !== b.want.urgency) return b.want.urgency - a.want.urgency
  } else if (a.want.kind === 'prune' && b.want.kind === 'prune') {
    const aAt = a.want.lastPruneAt ?? Number.NEGATIVE_INFINITY
    const bAt = b.want.lastPruneAt ?? Number.NEGATIVE_INFINITY
    if (aAt !== bAt) return aAt < bAt ? -1 : 1
    if (a.want.blocks !== b.want.blocks) return b.want.blocks - a.want.blocks
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

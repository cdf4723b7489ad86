import { compareFencingTokens, type FencingToken } from '@ghostfleet/coordination'
import type { DesiredState, NodeMode } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { DecidedBy } from '../control/decision-source.js'
import type { NodeObservation } from '../control/node-observer.js'
import { guardPruneHeight } from '../control/prune-guard.js'
import type { PruneRefusalReason } from '../prune-refusal.js'
import type { DesiredRefusalReason } from './fleet-metrics.js'

/*
 * What fleet mode makes of a desired state, without any I/O: `TrackerDecisionSource` reads Redis, asks KYVE,
 * persists tokens and logs, and these functions say what to do with what it read.
 */

export const tokenOf = (t: FencingToken): string => `${t.epoch}/${t.generation}`

/** A desired state older than the token this sidecar applied last is refused: why, or null when it is not. */
export function olderThanApplied(
  ds: FencingToken,
  applied: FencingToken,
): { reason: 'stale-epoch' | 'stale-generation'; detail: string } | null {
  if (compareFencingTokens(ds, applied) >= 0) return null
  return {
    reason: ds.epoch < applied.epoch ? 'stale-epoch' : 'stale-generation',
    detail:
      `desired state ${tokenOf(ds)} is older than the state this sidecar applied ` +
      `(${tokenOf(applied)}): a rolled-back Redis or a replay`,
  }
}

export interface AuthorityInput {
  now: number
  /** When a desired state last showed a live tracker, or null if none ever did. */
  lastContactAt: number | null
  startedAt: number
  /** Who decided in the previous tick. */
  current: DecidedBy
  trackerTimeoutMs: number
}

/**
 * Who decides this tick: the tracker while it was in contact within the timeout; `waiting` (hold the mode)
 * during the grace after start, before any contact; `local` otherwise.
 */
export function judgeAuthority(input: AuthorityInput): 'tracker' | 'waiting' | 'local' {
  const { now, lastContactAt, trackerTimeoutMs } = input
  if (lastContactAt !== null && now - lastContactAt <= trackerTimeoutMs) return 'tracker'
  const waitingSinceStart = lastContactAt === null && input.current === 'tracker'
  return waitingSinceStart && now - input.startedAt <= trackerTimeoutMs ? 'waiting' : 'local'
}

export interface JudgeInput {
  /** An acceptable desired state (not older than `applied`) of a live tracker. */
  ds: DesiredState
  /** The token this sidecar applied last (persisted). */
  applied: FencingToken
  /** The mode the node runs in. */
  mode: NodeMode
  node: NodeObservation
  now: number
  pruning: { enabled: boolean; margin: number }
  maxPoolAgeMs: number
  /** This sidecar's own KYVE answer; leave it out until the verdict asks for it (only a prune height does). */
  ownPool?: PoolFacts | null
}

export type DesiredVerdict =
  /** Nothing is recorded; the mode is held. `duplicate`: the token was applied already. */
  | { kind: 'hold'; reason: string; duplicate: boolean }
  /**
   * Record the token as applied (`action` for /status), then decide `mode` and `pruneToHeight`; if it cannot be
   * recorded, hold with `unrecorded`.
   */
  | {
      kind: 'apply'
      mode: NodeMode
      pruneToHeight: number | null
      reason: string
      action: string
      unrecorded: string
    }
  /** The prune height must be checked against this sidecar's own KYVE answer: judge again with `ownPool`. */
  | { kind: 'needs-own-pool' }
  /**
   * Record the token (it was processed: the tracker sees no effect and withdraws it), refuse it, and hold the
   * mode; `pruneRefusal` is set when the refusal came from the prune guard.
   */
  | { kind: 'refuse'; reason: DesiredRefusalReason; detail: string; pruneRefusal: PruneRefusalReason | null }

/** What to do with a desired state of a live tracker. */
export function judgeDesiredState(input: JudgeInput): DesiredVerdict {
  const { ds, mode, node } = input
  const label = `tracker ${tokenOf(ds)}`
  const unrecorded = `${label} could not be recorded in state.json; holding ${mode} mode`
  const apply = (next: NodeMode, pruneToHeight: number | null, reason: string, action: string) =>
    ({ kind: 'apply', mode: next, pruneToHeight, reason, action, unrecorded }) as const
  if (compareFencingTokens(ds, input.applied) === 0) {
    return { kind: 'hold', reason: `${label} already applied (${ds.reason}); ${mode} mode`, duplicate: true }
  }
  if (ds.mode !== mode) return apply(ds.mode, null, `${label}: ${ds.reason}`, `switch to ${ds.mode}`)
  const height = ds.pruneToHeight
  if (height === null || mode !== 'ghost')
    return apply(ds.mode, null, `${label}: ${ds.reason}`, `hold ${ds.mode}`)
  if (!node.reachable) {
    // Not applied: the base is unknown. Decided again next tick (the tracker withdraws it if this lasts).
    return {
      kind: 'hold',
      reason: `${label} asks to prune to ${height}, but the node does not answer; waiting`,
      duplicate: false,
    }
  }
  if (height <= node.base) {
    return apply(
      'ghost',
      null,
      `${label}: prune to ${height} is done (base ${node.base})`,
      `prune to ${height}: already at base ${node.base}`,
    )
  }
  if (!input.pruning.enabled) {
    return {
      kind: 'refuse',
      reason: 'pruning-disabled',
      detail: `${label} asks to prune to ${height}, but pruning is disabled in this sidecar's config`,
      pruneRefusal: null,
    }
  }
  if (input.ownPool === undefined) return { kind: 'needs-own-pool' }
  const own = input.ownPool
  const verdict = guardPruneHeight({
    requested: height,
    pool: own,
    node,
    now: input.now,
    maxPoolAgeMs: input.maxPoolAgeMs,
    margin: input.pruning.margin,
  })
  if (verdict.allowed) {
    return {
      ...apply(
        'ghost',
        height,
        `${label}: ${ds.reason}; checked against this sidecar's own KYVE answer (pool ${own?.poolHeightKey})`,
        `prune to ${height}`,
      ),
      unrecorded: `${label} could not be recorded in state.json; not pruning`,
    }
  }
  // `nothing-to-prune` from the guard means its own safe height is at or below the base, while the requested
  // height is above it: the request is above what this sidecar knows is validated.
  const reason = verdict.reason === 'nothing-to-prune' ? 'above-own-safe-height' : verdict.reason
  const detail =
    reason === verdict.reason
      ? `${label}: ${verdict.detail}`
      : `${label}: requested prune height ${height} is above this sidecar's own safe height (${verdict.detail})`
  return { kind: 'refuse', reason, detail, pruneRefusal: reason }
}

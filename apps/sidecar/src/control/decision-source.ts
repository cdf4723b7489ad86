import type { NodeMode, PruneRefusal } from '@ghostfleet/core'
import type { NodeObservation } from './node-observer.js'

/**
 * Where the controller's decisions come from, one per tick. Standalone, a {@link LocalDecisionSource} decides
 * from the sidecar's own KYVE polling and the core rules. In fleet mode (issue 5) a tracker-driven source will
 * implement the same interface — applying the tracker's desired state, falling back to the local source when
 * the tracker is silent — without the controller changing. Whatever the source, the controller re-checks a
 * prune height against its own view (`prune-guard.ts`) before touching the disk.
 */
export interface DecisionSource {
  /** `local` or `tracker`, for logs, /status and reports. */
  readonly name: DecidedBy
  decide(input: DecisionInput): Promise<Decision>
  close?(): Promise<void> | void
}

export type DecidedBy = 'local' | 'tracker'

export interface DecisionInput {
  now: number
  /** The persisted mode the node runs in (or is being brought into). */
  mode: NodeMode
  node: NodeObservation
  /** Whether the local prune schedule says a prune is due (a tracker source schedules prunes itself). */
  pruneDue: boolean
}

export interface Decision {
  mode: NodeMode
  /** Prune to this height (keep it, delete below), or null. Ignored unless the node stays in ghost mode. */
  pruneToHeight: number | null
  /** One line with the numbers behind the decision, for the log. */
  reason: string
  decidedBy: DecidedBy
  /** node height − pool height when both were known, else null. */
  diff: number | null
  /** A prune was due but is not safe now: why (logged, counted, shown; retried next tick). */
  pruneRefusal: { reason: PruneRefusalReason; detail: string } | null
}

/** Core's refusals plus the one only a remote decision can earn. */
export type PruneRefusalReason = PruneRefusal | 'above-own-safe-height'

/** Every refusal reason, for metric label pre-registration (bounded cardinality). */
export const PRUNE_REFUSAL_REASONS: readonly PruneRefusalReason[] = [
  'pool-height-unknown',
  'pool-height-stale',
  'pool-key-not-integer',
  'node-behind-pool',
  'nothing-to-prune',
  'invalid-input',
  'above-own-safe-height',
]

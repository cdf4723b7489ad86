import type { DonationRequest, NodeMode } from '@ghostfleet/core'
import type { PruneRefusalReason } from '../prune-refusal.js'
import type { NodeObservation } from './node-observer.js'
import type { PoolSnapshot } from './pool-snapshot.js'

/**
 * Where the controller's decisions come from, one per tick. Standalone, a {@link LocalDecisionSource} decides
 * from the sidecar's own KYVE polling and the core rules. In fleet mode the tracker-driven source implements the
 * same interface — applying the tracker's desired state, falling back to the local source when the tracker is
 * silent. Whatever the source, the controller re-checks a prune height against the decision's own pool answer
 * (`prune-guard.ts`) before touching the disk.
 */
export interface DecisionSource {
  /** `local` or `tracker`, for logs, /status and reports. */
  readonly name: DecidedBy
  decide(input: DecisionInput): Promise<Decision>
}

export type DecidedBy = 'local' | 'tracker'

export interface DecisionInput {
  now: number
  /** The persisted mode the node runs in (or is being brought into). */
  mode: NodeMode
  node: NodeObservation
  /** The pool as this tick's refresh left it. */
  pool: PoolSnapshot
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
  /**
   * The pool the decision rests on: the tick's snapshot, or a newer one when the source had to ask this sidecar's
   * own KYVE client (a tracker's prune height is checked against it). The controller's guard uses its `own`.
   */
  pool: PoolSnapshot
  /** A prune was due but is not safe now: why (logged, counted, shown; retried next tick). */
  pruneRefusal: { reason: PruneRefusalReason; detail: string } | null
  /** A checkpoint the tracker asks this sidecar to donate to a bootstrapping host (fleet mode only). */
  donate?: DonationRequest | null
}

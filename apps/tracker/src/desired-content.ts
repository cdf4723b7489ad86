/**
 * The part of a desired state the tracker decides; the writer adds the wire version, the epoch, the generation,
 * the issue time and the signature.
 */
import type { DesiredState, NodeMode } from '@ghostfleet/core'

export interface DesiredContent {
  mode: NodeMode
  pruneToHeight: number | null
  /** The pool height the decision was based on (for a prune: the one its height was computed from); 0 unknown. */
  basedOnPoolHeight: number
  /** When that pool height was fetched (epoch ms); 0 unknown. */
  poolFetchedAt: number
  reason: string
}

/**
 * Two contents that tell the sidecar to do the same thing. Only this decides whether a new state is written: a
 * reason or a pool height that changed on its own is not worth waking a sidecar for.
 */
export function sameCommand(
  a: Pick<DesiredContent, 'mode' | 'pruneToHeight'>,
  b: Pick<DesiredContent, 'mode' | 'pruneToHeight'>,
): boolean {
  return a.mode === b.mode && a.pruneToHeight === b.pruneToHeight
}

/** The decided part of a desired state that was written. */
export function contentOf(state: DesiredState): DesiredContent {
  return {
    mode: state.mode,
    pruneToHeight: state.pruneToHeight,
    basedOnPoolHeight: state.basedOnPoolHeight,
    poolFetchedAt: state.poolFetchedAt,
    reason: state.reason,
  }
}

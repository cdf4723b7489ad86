/**
 * The part of a desired state the tracker decides; the writer adds the wire version, the epoch, the generation,
 * the issue time and the signature.
 */
import type { DesiredState, DonationRequest, NodeMode } from '@ghostfleet/core'

export interface DesiredContent {
  mode: NodeMode
  pruneToHeight: number | null
  /** The pool height the decision was based on (for a prune: the one its height was computed from); 0 unknown. */
  basedOnPoolHeight: number
  /** When that pool height was fetched (epoch ms); 0 unknown. */
  poolFetchedAt: number
  reason: string
  /**
   * A checkpoint for a bootstrapping host, while its request is not final; left out otherwise (absent means
   * none, and a sidecar of an older release verifies a state without the field exactly as before).
   */
  donate?: DonationRequest
}

/**
 * Two contents that tell the sidecar to do the same thing. Only this decides whether a new state is written: a
 * reason or a pool height that changed on its own is not worth waking a sidecar for.
 */
export function sameCommand(a: CommandFields, b: CommandFields): boolean {
  return (
    a.mode === b.mode &&
    a.pruneToHeight === b.pruneToHeight &&
    a.donate?.bootstrapId === b.donate?.bootstrapId &&
    a.donate?.expiresAt === b.donate?.expiresAt
  )
}

/** What {@link sameCommand} compares; a stored state may carry `donate: null` (none). */
interface CommandFields {
  mode: NodeMode
  pruneToHeight: number | null
  donate?: DonationRequest | null | undefined
}

/** The decided part of a desired state that was written. */
export function contentOf(state: DesiredState): DesiredContent {
  return {
    mode: state.mode,
    pruneToHeight: state.pruneToHeight,
    basedOnPoolHeight: state.basedOnPoolHeight,
    poolFetchedAt: state.poolFetchedAt,
    reason: state.reason,
    ...(state.donate == null ? {} : { donate: { ...state.donate } }),
  }
}

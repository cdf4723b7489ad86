import { CoordinationError } from './coordination-error.js'

/** Why a stored desired state was refused. Every code means the same thing to a sidecar: do not apply it. */
export type DesiredStateRejectCode =
  /** Not decodable (a field is not JSON) or fails the wire schema. */
  | 'malformed'
  /** Addressed to another sidecar than the key it was stored under. */
  | 'wrong-sidecar'
  /** A fleet key is configured and the state carries no signature. */
  | 'unsigned'
  /** A fleet key is configured and the signature does not match. */
  | 'bad-signature'
  /** Issued under a leader epoch older than the current one (a deposed tracker wrote it). */
  | 'stale-epoch'
  /** Issued under a leader epoch above the epoch counter: no election handed it out (written straight into Redis). */
  | 'unelected-epoch'

/**
 * A desired state read from Redis that must not be applied: the sidecar keeps its current mode and reports the
 * reason. `code` says why in a machine-readable way, the message in words.
 */
export class InvalidDesiredStateError extends CoordinationError {
  override readonly name: string = 'InvalidDesiredStateError'

  constructor(
    readonly sidecarId: string,
    readonly code: DesiredStateRejectCode,
    readonly reason: string,
  ) {
    super(`desired state for sidecar ${sidecarId} rejected (${code}): ${reason}`)
  }
}

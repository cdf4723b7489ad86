import { InvalidDesiredStateError } from './invalid-desired-state-error.js'

/**
 * A fleet key is configured and the desired state is unsigned or its HMAC does not match: it was not written
 * by a tracker holding the fleet key (forged, corrupted, or a tracker configured without the key).
 */
export class DesiredStateSignatureError extends InvalidDesiredStateError {
  override readonly name: string = 'DesiredStateSignatureError'

  constructor(sidecarId: string, code: 'unsigned' | 'bad-signature') {
    super(
      sidecarId,
      code,
      code === 'unsigned'
        ? 'a fleet key is configured but the state carries no signature'
        : 'the HMAC-SHA256 signature does not match the fleet key',
    )
  }
}

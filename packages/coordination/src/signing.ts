import { createHmac, timingSafeEqual } from 'node:crypto'
import { canonicalDesiredStatePayload, type DesiredState } from '@ghostfleet/core'
import { DesiredStateSignatureError } from './errors/desired-state-signature-error.js'
import { type FleetKey, fleetKeyBytes } from './fleet-key.js'

function mac(ds: DesiredState, key: FleetKey): Buffer {
  return createHmac('sha256', fleetKeyBytes(key)).update(canonicalDesiredStatePayload(ds), 'utf8').digest()
}

/**
 * The state with `signature` set to HMAC-SHA256(fleet key, `canonicalDesiredStatePayload(ds)`) in hex. The
 * payload covers every field but the signature, including the sidecar id, epoch and generation, so a signed
 * state can neither be altered nor replayed to another sidecar or under another epoch.
 */
export function signDesiredState(ds: DesiredState, key: FleetKey): DesiredState {
  return { ...ds, signature: mac(ds, key).toString('hex') }
}

/**
 * Checks the signature of a state against the fleet key (constant-time comparison) and returns the state.
 * @throws DesiredStateSignatureError `unsigned` when there is no signature, `bad-signature` when it does not match.
 */
export function verifyDesiredState(ds: DesiredState, key: FleetKey): DesiredState {
  if (ds.signature === undefined || ds.signature === '')
    throw new DesiredStateSignatureError(ds.sidecarId, 'unsigned')
  const expected = mac(ds, key)
  const given = Buffer.from(ds.signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new DesiredStateSignatureError(ds.sidecarId, 'bad-signature')
  }
  return ds
}

import { timingSafeEqual } from 'node:crypto'
import { type FleetKey, fleetKeyHmac } from '@ghostfleet/coordination'
import {
  canonicalRequest,
  canonicalResponse,
  type RequestSigningFields,
  type ResponseSigningFields,
  SIGNATURE_PATTERN,
} from './wire.js'

/** Hex HMAC-SHA256 under the fleet key of the canonical request. */
export function signRequest(key: FleetKey, fields: RequestSigningFields): string {
  return fleetKeyHmac(key, canonicalRequest(fields)).toString('hex')
}

/** Hex HMAC-SHA256 under the fleet key of the canonical response. */
export function signResponse(key: FleetKey, fields: ResponseSigningFields): string {
  return fleetKeyHmac(key, canonicalResponse(fields)).toString('hex')
}

/** Whether `signature` (hex) is the request's HMAC; constant time in the signature's content. */
export function requestSignatureMatches(
  key: FleetKey,
  fields: RequestSigningFields,
  signature: string,
): boolean {
  return matches(fleetKeyHmac(key, canonicalRequest(fields)), signature)
}

/** Whether `signature` (hex) is the response's HMAC; constant time in the signature's content. */
export function responseSignatureMatches(
  key: FleetKey,
  fields: ResponseSigningFields,
  signature: string,
): boolean {
  return matches(fleetKeyHmac(key, canonicalResponse(fields)), signature)
}

function matches(expected: Buffer, signature: string): boolean {
  if (!SIGNATURE_PATTERN.test(signature)) return false
  const given = Buffer.from(signature, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

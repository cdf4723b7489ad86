import type { IncomingHttpHeaders } from 'node:http'
import type { FleetKey } from '@ghostfleet/coordination'
import { SIDECAR_ID_PATTERN } from '@ghostfleet/core'
import { requestSignatureMatches } from './signing.js'
import {
  NONCE_HEADER,
  NONCE_PATTERN,
  SENDER_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_PATTERN,
  sha256Hex,
  TIMESTAMP_HEADER,
  TIMESTAMP_PATTERN,
} from './wire.js'

/** The authentication headers of a request, checked for shape only. */
export interface AuthHeaders {
  sender: string
  timestampMs: number
  nonce: string
  signature: string
}

/** The headers, or which one is missing or malformed (named, never echoed). */
export type AuthHeadersResult = { ok: true; auth: AuthHeaders } | { ok: false; problem: string }

const FIELDS = [
  [SENDER_HEADER, SIDECAR_ID_PATTERN, 'a sidecar id'],
  [TIMESTAMP_HEADER, TIMESTAMP_PATTERN, 'unix milliseconds'],
  [NONCE_HEADER, NONCE_PATTERN, '32 lower-case hex characters'],
  [SIGNATURE_HEADER, SIGNATURE_PATTERN, '64 lower-case hex characters'],
] as const

/** Reads the four authentication headers. A header sent twice is malformed: which copy was signed is unclear. */
export function readAuthHeaders(headers: IncomingHttpHeaders): AuthHeadersResult {
  const values: string[] = []
  for (const [name, pattern, shape] of FIELDS) {
    const value = headers[name]
    if (value === undefined) return { ok: false, problem: `header ${name} is missing` }
    if (typeof value !== 'string' || !pattern.test(value)) {
      return { ok: false, problem: `header ${name} must be ${shape}` }
    }
    values.push(value)
  }
  const [sender = '', timestamp = '', nonce = '', signature = ''] = values
  return { ok: true, auth: { sender, timestampMs: Number(timestamp), nonce, signature } }
}

/** Whether the signature covers this method, target, body, range and the auth headers under `key`. */
export function requestIsSigned(
  key: FleetKey,
  auth: AuthHeaders,
  method: string,
  target: string,
  body: Buffer,
  range: string | undefined,
): boolean {
  return requestSignatureMatches(
    key,
    {
      method,
      target,
      bodySha256: sha256Hex(body),
      timestampMs: auth.timestampMs,
      nonce: auth.nonce,
      sender: auth.sender,
      range: range ?? '',
    },
    auth.signature,
  )
}

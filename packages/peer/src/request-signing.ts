import { randomBytes } from 'node:crypto'
import type { FleetKey } from '@ghostfleet/coordination'
import { signRequest } from './signing.js'
import { NONCE_HEADER, SENDER_HEADER, SIGNATURE_HEADER, sha256Hex, TIMESTAMP_HEADER } from './wire.js'

/** What {@link signPeerRequest} signs. */
export interface SignPeerRequestInput {
  key: FleetKey
  /** This sidecar's id. */
  sender: string
  method: string
  /** Path and query exactly as they will be sent on the request line. */
  target: string
  body?: Uint8Array | string
  /** The `Range` header that will be sent, if any. */
  range?: string
  /** @default Date.now() */
  timestampMs?: number
  /** @default 16 random bytes in hex */
  nonce?: string
}

/** The four authentication headers and the nonce (to check the response against). */
export interface SignedRequestHeaders {
  headers: Record<string, string>
  nonce: string
}

/**
 * The authentication headers of one request. {@link createPeerClient} uses it; it is exported for callers that
 * send with their own HTTP client (and for tests that need an old timestamp or a reused nonce).
 */
export function signPeerRequest(input: SignPeerRequestInput): SignedRequestHeaders {
  const timestampMs = input.timestampMs ?? Date.now()
  const nonce = input.nonce ?? randomBytes(16).toString('hex')
  const signature = signRequest(input.key, {
    method: input.method,
    target: input.target,
    bodySha256: sha256Hex(input.body ?? ''),
    timestampMs,
    nonce,
    sender: input.sender,
    range: input.range ?? '',
  })
  return {
    nonce,
    headers: {
      [SENDER_HEADER]: input.sender,
      [TIMESTAMP_HEADER]: String(timestampMs),
      [NONCE_HEADER]: nonce,
      [SIGNATURE_HEADER]: signature,
    },
  }
}

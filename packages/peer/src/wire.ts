/**
 * The v1 wire format of the peer link: header names and the exact strings that are signed. Both sides build the
 * canonical strings here, so a change to one side is a change to both. The labels on the first line keep a signed
 * request from ever verifying as a response (or as a desired state, which is signed JSON) and the other way round.
 */
import { createHash } from 'node:crypto'

/** Sidecar id of the caller. */
export const SENDER_HEADER = 'x-ghostfleet-sender'
/** Unix time in milliseconds when the caller signed the request. */
export const TIMESTAMP_HEADER = 'x-ghostfleet-timestamp'
/** 16 random bytes as 32 lower-case hex characters; never accepted twice within the validity window. */
export const NONCE_HEADER = 'x-ghostfleet-nonce'
/** HMAC-SHA256 under the fleet key of the canonical request or response, 64 lower-case hex characters. */
export const SIGNATURE_HEADER = 'x-ghostfleet-signature'
/** The chain id the answering sidecar serves. */
export const CHAIN_ID_HEADER = 'x-ghostfleet-chain-id'
/** Sidecar id of the answering sidecar. */
export const RESPONDER_HEADER = 'x-ghostfleet-responder'
/** sha256 of the response body in hex, or {@link UNSIGNED_PAYLOAD} when the body is streamed. */
export const CONTENT_SHA256_HEADER = 'x-ghostfleet-content-sha256'
/** Set on answers the peer layer produced itself (a refusal), with the error code; absent on the handler's. */
export const ERROR_HEADER = 'x-ghostfleet-error'

/**
 * The body hash of a streamed response: the head is signed, the bytes are not (they are checked against a
 * signed manifest instead, so a multi-gigabyte file need not be hashed before its first byte is sent).
 */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD'

export const REQUEST_LABEL = 'ghostfleet-peer-request-v1'
export const RESPONSE_LABEL = 'ghostfleet-peer-response-v1'

export const NONCE_PATTERN = /^[0-9a-f]{32}$/
export const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/
export const TIMESTAMP_PATTERN = /^[1-9][0-9]{0,15}$/

/** What a request signature covers. */
export interface RequestSigningFields {
  method: string
  /** Path and query exactly as on the request line. */
  target: string
  /** Lower-case hex sha256 of the body bytes. */
  bodySha256: string
  timestampMs: number
  nonce: string
  sender: string
  /** The `Range` header, or '' when there is none. */
  range: string
}

/** What a response signature covers. */
export interface ResponseSigningFields {
  /** The nonce of the request this answers: binds the answer to one request, so it cannot be replayed to another. */
  nonce: string
  status: number
  chainId: string
  responder: string
  contentType: string
  contentRange: string
  contentLength: string
  /** Hex sha256 of the body or {@link UNSIGNED_PAYLOAD}. */
  contentSha256: string
}

/** The canonical request: the label and the fields, one per line, no trailing newline. */
export function canonicalRequest(fields: RequestSigningFields): string {
  return [
    REQUEST_LABEL,
    fields.method.toUpperCase(),
    fields.target,
    fields.bodySha256,
    String(fields.timestampMs),
    fields.nonce,
    fields.sender,
    fields.range,
  ].join('\n')
}

/** The canonical response: the label and the fields, one per line, no trailing newline. */
export function canonicalResponse(fields: ResponseSigningFields): string {
  return [
    RESPONSE_LABEL,
    fields.nonce,
    String(fields.status),
    fields.chainId,
    fields.responder,
    fields.contentType,
    fields.contentRange,
    fields.contentLength,
    fields.contentSha256,
  ].join('\n')
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

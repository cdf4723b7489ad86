import type { IncomingHttpHeaders } from 'node:http'
import type { FleetKey } from '@ghostfleet/coordination'
import { PEER_ERROR_CODES, type PeerErrorCode, PeerRejectedError } from './errors/peer-rejected-error.js'
import { PeerResponseError } from './errors/peer-response-error.js'
import { responseSignatureMatches } from './signing.js'
import {
  CHAIN_ID_HEADER,
  CONTENT_SHA256_HEADER,
  ERROR_HEADER,
  RESPONDER_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_PATTERN,
} from './wire.js'

/** A response head whose signature checked out. */
export interface VerifiedHead {
  chainId: string
  responder: string
  /** Hex sha256 the body must have, or UNSIGNED-PAYLOAD. */
  contentSha256: string
  /** Set when the peer layer itself refused (signed refusals: rate limit, handler timeout, handler failure). */
  errorCode: string | undefined
}

const SHA256_OR_UNSIGNED = /^(?:[0-9a-f]{64}|UNSIGNED-PAYLOAD)$/

/** Whether the head carries no signature but says the peer layer refused (a refusal before authentication). */
export function isUnsignedRefusal(headers: IncomingHttpHeaders): boolean {
  return headers[SIGNATURE_HEADER] === undefined && typeof headers[ERROR_HEADER] === 'string'
}

/**
 * Checks the signature of a response head against the request's nonce and the expected chain.
 * @throws PeerResponseError `unsigned`, `malformed`, `bad-signature` or `chain-mismatch`.
 */
export function verifyHead(
  key: FleetKey,
  url: string,
  nonce: string,
  status: number,
  headers: IncomingHttpHeaders,
  expectChainId: string | undefined,
): VerifiedHead {
  const signature = headers[SIGNATURE_HEADER]
  if (signature === undefined) {
    throw new PeerResponseError(
      url,
      'unsigned',
      `status ${status} without ${SIGNATURE_HEADER}: not a Ghostfleet peer listener?`,
    )
  }
  const chainId = headers[CHAIN_ID_HEADER]
  const responder = headers[RESPONDER_HEADER]
  const contentSha256 = headers[CONTENT_SHA256_HEADER]
  if (
    typeof signature !== 'string' ||
    !SIGNATURE_PATTERN.test(signature) ||
    typeof chainId !== 'string' ||
    typeof responder !== 'string' ||
    typeof contentSha256 !== 'string' ||
    !SHA256_OR_UNSIGNED.test(contentSha256)
  ) {
    throw new PeerResponseError(url, 'malformed', 'the signed headers are missing or not in their format')
  }
  const signed = responseSignatureMatches(
    key,
    {
      nonce,
      status,
      chainId,
      responder,
      contentType: headerString(headers['content-type']),
      contentRange: headerString(headers['content-range']),
      contentLength: headerString(headers['content-length']),
      contentSha256,
    },
    signature,
  )
  if (!signed) {
    throw new PeerResponseError(
      url,
      'bad-signature',
      'signature does not match: another fleet key, or the answer was altered',
    )
  }
  if (expectChainId !== undefined && chainId !== expectChainId) {
    throw new PeerResponseError(
      url,
      'chain-mismatch',
      `sidecar ${responder} serves chain ${JSON.stringify(chainId)}, expected ${JSON.stringify(expectChainId)}`,
    )
  }
  const errorCode = headers[ERROR_HEADER]
  return {
    chainId,
    responder,
    contentSha256,
    errorCode: typeof errorCode === 'string' ? errorCode : undefined,
  }
}

const CODES: ReadonlySet<string> = new Set(PEER_ERROR_CODES)

/** The refusal as an error, from its headers and JSON body (whose message is shown, never trusted further). */
export function refusal(
  url: string,
  status: number,
  headers: IncomingHttpHeaders,
  body: Buffer,
  verified: boolean,
): PeerRejectedError {
  const headerCode = headerString(headers[ERROR_HEADER])
  let reason = ''
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    const error = (parsed as { error?: { message?: unknown } } | null)?.error
    if (typeof error?.message === 'string') reason = error.message.slice(0, 500)
  } catch {
    reason = ''
  }
  const retryAfter = headerString(headers['retry-after'])
  return new PeerRejectedError(
    url,
    status,
    (CODES.has(headerCode) ? headerCode : 'internal') as PeerErrorCode,
    reason === '' ? 'no reason given' : reason,
    /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) : undefined,
    verified,
  )
}

export function headerString(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : ''
}

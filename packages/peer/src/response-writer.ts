import type { ServerResponse } from 'node:http'
import type { FleetKey } from '@ghostfleet/coordination'
import type { PeerErrorCode } from './errors/peer-rejected-error.js'
import { signResponse } from './signing.js'
import {
  CHAIN_ID_HEADER,
  CONTENT_SHA256_HEADER,
  ERROR_HEADER,
  RESPONDER_HEADER,
  SIGNATURE_HEADER,
  sha256Hex,
  UNSIGNED_PAYLOAD,
} from './wire.js'

/** Who signs: the server's key and identity, and the nonce of the authenticated request being answered. */
export interface ResponseSigner {
  key: FleetKey
  chainId: string
  responder: string
  nonce: string
}

/** Headers a handler may not set: the server computes them, and a handler's copy would break the signature. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'trailer'])

/** The handler's headers with lower-case names, reserved ones dropped. */
export function handlerHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase()
    if (RESERVED.has(lower) || lower.startsWith('x-ghostfleet-')) continue
    result[lower] = value
  }
  return result
}

/**
 * The signed head of a response: the handler's headers plus chain id, responder, content hash and signature.
 * @param contentSha256 hex sha256 of the body, or UNSIGNED-PAYLOAD for a streamed one.
 */
export function signedHead(
  signer: ResponseSigner,
  status: number,
  headers: Record<string, string>,
  length: number,
  contentSha256: string,
): Record<string, string> {
  const head: Record<string, string> = {
    ...headers,
    'content-length': String(length),
    [CHAIN_ID_HEADER]: signer.chainId,
    [RESPONDER_HEADER]: signer.responder,
    [CONTENT_SHA256_HEADER]: contentSha256,
  }
  head[SIGNATURE_HEADER] = signResponse(signer.key, {
    nonce: signer.nonce,
    status,
    chainId: signer.chainId,
    responder: signer.responder,
    contentType: head['content-type'] ?? '',
    contentRange: head['content-range'] ?? '',
    contentLength: head['content-length'] ?? '',
    contentSha256,
  })
  return head
}

/**
 * Sends a buffered body with a signed head. A HEAD request gets no body, so its head says UNSIGNED-PAYLOAD
 * instead of a hash the caller could not check.
 */
export function writeSigned(
  response: ServerResponse,
  signer: ResponseSigner,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  isHead: boolean,
): void {
  const contentSha256 = isHead ? UNSIGNED_PAYLOAD : sha256Hex(body)
  response.writeHead(status, signedHead(signer, status, headers, body.length, contentSha256))
  response.end(body)
}

/** The JSON body of every refusal by the peer layer. */
export function errorBody(code: PeerErrorCode, message: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { code, message } }))
}

/** Headers of a refusal: JSON, the error code, and Retry-After when the caller should come back later. */
export function errorHeaders(code: PeerErrorCode, retryAfterMs?: number): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    [ERROR_HEADER]: code,
  }
  if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)))
  return headers
}

/**
 * Sends an unsigned refusal: the request was not authenticated, so there is no nonce worth binding an answer to.
 * `close` drops the connection afterwards, for refusals sent before the body was read.
 */
export function writeUnsigned(
  response: ServerResponse,
  status: number,
  code: PeerErrorCode,
  message: string,
  options: { retryAfterMs?: number; close?: boolean } = {},
): void {
  const body = errorBody(code, message)
  const headers: Record<string, string> = {
    ...errorHeaders(code, options.retryAfterMs),
    'content-length': String(body.length),
  }
  if (options.close === true) headers.connection = 'close'
  response.writeHead(status, headers)
  response.end(body)
}

/** The raw HTTP/1.1 refusal written to a socket whose request node:http could not parse. */
export function rawRefusal(status: number, reason: string, code: PeerErrorCode, message: string): string {
  const body = errorBody(code, message).toString('utf8')
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    `content-type: application/json; charset=utf-8\r\n${ERROR_HEADER}: ${code}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  )
}

import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'

/** An authenticated, fresh, first-seen request within its sender's budget: all a handler ever sees. */
export interface PeerRequest {
  /** Upper case. */
  method: string
  /** Path and query exactly as signed, e.g. `/rpc/block?height=5`. */
  target: string
  /** The path without the query, e.g. `/rpc/block`. */
  path: string
  query: URLSearchParams
  headers: Readonly<IncomingHttpHeaders>
  /** The whole body (at most `limits.maxBodyBytes`); empty when there is none. */
  body: Buffer
  /** The caller's sidecar id, authenticated by the signature. */
  sender: string
  /** Aborted when the caller disconnects or `limits.handlerTimeoutMs` passes: stop work for this request. */
  signal: AbortSignal
}

/** A response held in memory; its sha256 is signed, so the caller can trust every byte. */
export interface PeerBufferedResponse {
  status: number
  /** Extra headers; `content-length` and the `x-ghostfleet-*` names are set by the server and cannot be given. */
  headers?: Record<string, string>
  body?: Uint8Array | string
}

/**
 * A response streamed from a source the server opens only when it sends the body (never for HEAD, or when the
 * caller has gone). Its head is signed (status, chain id, Content-Type, Content-Range, Content-Length), its
 * bytes are not: check them against a signed manifest.
 */
export interface PeerStreamResponse {
  status: number
  headers?: Record<string, string>
  /** Exact byte count the stream yields; sent as Content-Length. */
  length: number
  /** Opens the body; called at most once. */
  stream: () => Readable
  /** Releases what the response holds (an open file) when `stream` is not called. */
  close?: () => void | Promise<void>
}

export type PeerResponse = PeerBufferedResponse | PeerStreamResponse

/** Answers one peer request. A throw becomes a signed 500 `internal` (the error is logged, not sent). */
export type PeerHandler = (request: PeerRequest) => PeerResponse | Promise<PeerResponse>

/** Whether `response` streams its body. */
export function isStreamResponse(response: PeerResponse): response is PeerStreamResponse {
  return 'stream' in response
}

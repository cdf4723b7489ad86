/**
 * CometBFT's JSON-RPC envelopes as the gateway answers and reads them (reference: shared/reference/cometbft.md
 * §3): URI (GET) requests are answered with id -1 and errors with HTTP 500; JSON-RPC POSTs echo the caller's id
 * and answer errors with HTTP 200.
 */

/** A JSON-RPC id as CometBFT accepts it. `undefined`: a URI request (answered with id -1). */
export type RpcId = string | number | null

/** CometBFT's code for every error a handler returns (`Internal error`, the message in `data`). */
export const INTERNAL_ERROR = -32603

export function errorEnvelope(
  id: RpcId,
  data: string,
  code = INTERNAL_ERROR,
  message = 'Internal error',
): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, data } })
}

// `{"jsonrpc":"2.0","id":-1,` compact (CometBFT ≥ 0.37) or indented (0.34's MarshalIndent): only this prefix is
// rewritten, so an answer of megabytes is not parsed just to change its id.
const URI_ID_PREFIX = /^\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*-1\s*,/

/**
 * `body` (an answer with id -1) with `id` instead. The prefix is found in the first bytes; anything else is
 * parsed and written again.
 */
export function withId(body: Buffer, id: RpcId): Buffer {
  const head = body.subarray(0, 96).toString('latin1')
  const match = URI_ID_PREFIX.exec(head)
  if (match !== null) {
    return Buffer.concat([
      Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},`),
      body.subarray(match[0].length),
    ])
  }
  const parsed = parseEnvelope(body)
  if (parsed === null) return body
  return Buffer.from(JSON.stringify({ ...parsed, id }))
}

export interface Envelope {
  jsonrpc?: unknown
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown; data?: unknown }
}

export function parseEnvelope(body: Buffer): Envelope | null {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Envelope) : null
  } catch {
    return null
  }
}

/** The text of an error envelope's `data` (or `message`), for messages and classification. */
export function errorText(envelope: Envelope): string {
  const { error } = envelope
  if (error === undefined) return ''
  return typeof error.data === 'string' && error.data !== ''
    ? error.data
    : typeof error.message === 'string'
      ? error.message
      : ''
}

/**
 * CometBFT's errors for a height this node does not hold (rpc/core/env.go `getHeight`, and `/block_results` for
 * a height whose results were discarded): another node may hold it. Any other error (bad parameters, a height
 * of 0) is the same on every node and is answered as it is.
 */
const NOT_HELD = [
  /must be less than or equal to the current blockchain height/,
  /is not available, lowest height is/,
  /could not find results for height/,
]

export function isNotHeldError(text: string): boolean {
  return NOT_HELD.some((pattern) => pattern.test(text))
}

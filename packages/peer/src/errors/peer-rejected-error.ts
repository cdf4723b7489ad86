import { PeerError } from './peer-error.js'

/** The codes the peer layer answers refusals with (the `error.code` of the JSON body). */
export const PEER_ERROR_CODES = Object.freeze([
  'unauthorized',
  'expired',
  'replayed',
  'rate-limited',
  'busy',
  'too-large',
  'bad-request',
  'timeout',
  'internal',
] as const)

export type PeerErrorCode = (typeof PEER_ERROR_CODES)[number]

/**
 * The peer's link layer refused the request before or instead of its handler: 401 (`unauthorized`, `expired`,
 * `replayed`), 429 (`rate-limited`, `busy`), 413/431 (`too-large`), 400, 408/504 (`timeout`), 503 (`busy`).
 * `verified` is false when the refusal came before authentication and is therefore unsigned: it may come from
 * anyone on the path. Try another sibling, or after `retryAfterSeconds`.
 */
export class PeerRejectedError extends PeerError {
  override readonly name: string = 'PeerRejectedError'

  /**
   * @param url the peer's base URL and the path asked for.
   * @param status the HTTP status.
   * @param code the peer's error code, `internal` when the body did not name a known one.
   * @param reason the peer's message (from its JSON body; never holds the key or a signature).
   * @param retryAfterSeconds the `Retry-After` header, when given.
   * @param verified whether the refusal carried a valid response signature.
   */
  constructor(
    readonly url: string,
    readonly status: number,
    readonly code: PeerErrorCode,
    readonly reason: string,
    readonly retryAfterSeconds: number | undefined,
    readonly verified: boolean,
  ) {
    super(
      `${url}: peer refused the request with ${status} ${code}: ${reason}` +
        (retryAfterSeconds === undefined ? '' : ` (retry after ${retryAfterSeconds} s)`),
    )
  }
}

/**
 * How the gateway asks a sibling's peer listener for one call: `GET /rpc/<method>?<query>`, answered with the
 * sibling node's own URI answer (HTTP 200 or CometBFT's error with 500) and the chain id the sibling vouches
 * for. The production transport signs with the fleet key (`peer-sibling-transport.ts`); the interface keeps the
 * routing independent of it.
 */
export interface SiblingTransport {
  /**
   * @throws when the sibling cannot be asked or its answer cannot be trusted (unreachable, refused, rate-limited,
   * a bad signature, another chain): the gateway then asks the next one.
   */
  get(peerUrl: string, target: string, options: SiblingRequestOptions): Promise<SiblingReply>
  close(): void
}

export interface SiblingRequestOptions {
  /** The chain the answer must come from (the local node's chain id, from its genesis). */
  expectChainId: string
  timeoutMs: number
  signal?: AbortSignal
}

export interface SiblingReply {
  status: number
  body: Buffer
  contentType: string | undefined
  /** The chain the sibling's answer is signed for. */
  chainId: string
}

/**
 * The sibling refused for load (its rate limit for this sidecar, or its cap on requests at once), not because it
 * lacks anything: asking it again after `retryAfterMs` works.
 */
export class SiblingBusyError extends Error {
  override readonly name = 'SiblingBusyError'

  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message)
  }
}

/** The peer listener's path for a call: the method's URI path under `/rpc/`. */
export function siblingTarget(method: string, query: string): string {
  return `/rpc/${method}${query === '' ? '' : `?${query}`}`
}

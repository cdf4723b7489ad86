import type { RequestOutcome } from './request-event.js'

/** Base class of every error this package throws. */
export class KyveError extends Error {
  override readonly name: string = 'KyveError'
}

/** The options given to the client or to `resolveEndpoints` are unusable. Fix the configuration. */
export class InvalidOptionsError extends KyveError {
  override readonly name: string = 'InvalidOptionsError'
}

/** A chain id with no built-in endpoints and no endpoints given. */
export class UnknownChainError extends KyveError {
  override readonly name: string = 'UnknownChainError'
  constructor(
    readonly chainId: string,
    readonly knownChainIds: readonly string[],
  ) {
    super(
      `no KYVE REST endpoints known for chain id "${chainId}"; known chain ids: ${knownChainIds.join(', ')}. ` +
        'Use one of them or pass the endpoints explicitly.',
    )
  }
}

/** A pool id that cannot be sent (not a non-negative safe integer). Nothing was requested. */
export class InvalidPoolIdError extends KyveError {
  override readonly name: string = 'InvalidPoolIdError'
  constructor(readonly poolId: unknown) {
    super(`invalid pool id ${String(poolId)}: expected a non-negative integer (e.g. 1 for Osmosis on kyve-1)`)
  }
}

/** `getPool` was called on, or interrupted by, a closed client. */
export class ClientClosedError extends KyveError {
  override readonly name: string = 'ClientClosedError'
  constructor() {
    super('the KYVE client was closed')
  }
}

/** A failure attributed to one endpoint. `outcome` is what `onRequest` reported for it. */
export abstract class EndpointError extends KyveError {
  abstract readonly outcome: Exclude<RequestOutcome, 'ok'>
  constructor(
    readonly endpoint: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** The endpoint did not answer in time (its request timeout, or the end of the call's deadline). */
export class EndpointTimeoutError extends EndpointError {
  override readonly name: string = 'EndpointTimeoutError'
  readonly outcome = 'timeout' as const
  constructor(
    endpoint: string,
    readonly timeoutMs: number,
    readonly limit: 'request' | 'deadline',
  ) {
    super(
      endpoint,
      limit === 'request'
        ? `${endpoint} did not answer within ${timeoutMs} ms (request timeout): the endpoint is overloaded or ` +
            'unreachable; raise requestTimeoutMs only if it is known to be slow'
        : `${endpoint} had not answered when the call deadline of ${timeoutMs} ms passed`,
    )
  }
}

/** The endpoint could not be reached (refused, reset, DNS, TLS…). */
export class EndpointNetworkError extends EndpointError {
  override readonly name: string = 'EndpointNetworkError'
  readonly outcome = 'network' as const
  constructor(endpoint: string, detail: string, options?: ErrorOptions) {
    super(endpoint, `cannot reach ${endpoint}: ${detail}`, options)
  }
}

/** A non-2xx answer that is not one of the specific cases below. */
export class EndpointHttpError extends EndpointError {
  override readonly name: string = 'EndpointHttpError'
  readonly outcome = 'http-error' as const
  constructor(
    endpoint: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(endpoint, `${endpoint} answered HTTP ${status}: ${detail}${httpHint(status)}`)
  }
}

function httpHint(status: number): string {
  if (status === 404)
    return ' (is this a KYVE REST/LCD endpoint such as https://api.kyve.network, not an RPC one?)'
  if (status === 429) return ' (rate limited: use a private endpoint or poll less often)'
  if (status >= 500) return ' (server-side failure; other endpoints are tried)'
  return ''
}

/** HTTP 400 with gRPC code 3 (InvalidArgument): the endpoint refused the request itself. */
export class InvalidRequestError extends EndpointError {
  override readonly name: string = 'InvalidRequestError'
  readonly outcome = 'http-error' as const
  constructor(
    endpoint: string,
    readonly serverMessage: string,
  ) {
    super(endpoint, `${endpoint} rejected the request as invalid (HTTP 400, gRPC code 3): ${serverMessage}`)
  }
}

/** HTTP 501 / gRPC code 12 (Unimplemented): the endpoint does not serve the route. */
export class EndpointTooOldError extends EndpointError {
  override readonly name: string = 'EndpointTooOldError'
  readonly outcome = 'too-old' as const
  constructor(
    endpoint: string,
    readonly status: number,
    readonly route: string,
    readonly serverMessage: string,
  ) {
    super(
      endpoint,
      `${endpoint} does not implement ${route} (HTTP ${status}: ${serverMessage}): it runs a KYVE chain version ` +
        'without this route or is not a KYVE REST endpoint; point it at an up-to-date KYVE API',
    )
  }
}

/** A 2xx answer that is not JSON or does not have the documented pool shape. */
export class InvalidResponseError extends EndpointError {
  override readonly name: string = 'InvalidResponseError'
  readonly outcome = 'invalid' as const
  constructor(
    endpoint: string,
    readonly reason: string,
    /** One line per schema issue, `path: message`. Empty when the body was not even JSON. */
    readonly issues: readonly string[] = [],
  ) {
    super(
      endpoint,
      `${endpoint} sent an invalid pool response: ${reason}` +
        (issues.length > 0 ? ` (${issues.slice(0, 8).join('; ')}${issues.length > 8 ? '; …' : ''})` : ''),
    )
  }
}

/** Where the client last accepted an answer for a pool; used in error messages. */
export interface AcceptedPoolHeight {
  endpoint: string
  poolHeightKey: string
  poolHeight: number | null
  totalBundles: number
}

/**
 * HTTP 500, gRPC code 2, "key not found": the endpoint does not know the pool. When nothing contradicts it
 * (`knownFrom` undefined) this is the final answer of `getPool`. When the client had already accepted an answer
 * for this pool, the endpoint is wrong (another chain, or not synced) and is treated as failed instead.
 */
export class PoolNotFoundError extends EndpointError {
  override readonly name: string = 'PoolNotFoundError'
  readonly outcome = 'not-found' as const
  constructor(
    endpoint: string,
    readonly chainId: string,
    readonly poolId: number,
    readonly serverMessage: string,
    readonly knownFrom?: AcceptedPoolHeight,
  ) {
    super(
      endpoint,
      knownFrom === undefined
        ? `pool ${poolId} does not exist on ${chainId} according to ${endpoint} ("${serverMessage}"): ` +
            'check the pool id and the chain id'
        : `${endpoint} says pool ${poolId} does not exist ("${serverMessage}"), but ${knownFrom.endpoint} served ` +
            `it before at key "${knownFrom.poolHeightKey}": this endpoint is on another chain or not synced`,
    )
  }
}

/** A valid answer about another pool than the one asked for (a broken proxy or cache). */
export class PoolMismatchError extends EndpointError {
  override readonly name: string = 'PoolMismatchError'
  readonly outcome = 'mismatch' as const
  constructor(
    endpoint: string,
    readonly requestedPoolId: number,
    readonly receivedPoolId: string,
  ) {
    super(
      endpoint,
      `${endpoint} answered about pool ${receivedPoolId} when pool ${requestedPoolId} was asked for ` +
        '(a misbehaving proxy or cache in front of it?)',
    )
  }
}

/** A valid answer whose pool height (or bundle count) is behind the last accepted one: a stale endpoint. */
export class PoolHeightRegressionError extends EndpointError {
  override readonly name: string = 'PoolHeightRegressionError'
  readonly outcome = 'regressed' as const
  constructor(
    endpoint: string,
    readonly poolId: number,
    readonly previous: AcceptedPoolHeight,
    readonly received: Omit<AcceptedPoolHeight, 'endpoint'>,
  ) {
    super(
      endpoint,
      `${endpoint} answered pool ${poolId} at height ${describe(received)}, behind the previous height ` +
        `${describe(previous)} accepted from ${previous.endpoint}: the endpoint is stale or lagging, its answer ` +
        'was rejected',
    )
  }
}

function describe(at: Omit<AcceptedPoolHeight, 'endpoint'>): string {
  return `${at.poolHeight ?? `"${at.poolHeightKey}"`} (${at.totalBundles} bundles)`
}

/** One endpoint's last failure during a `getPool` call. */
export interface EndpointFailure {
  endpoint: string
  error: EndpointError
}

function listFailures(failures: readonly EndpointFailure[]): string {
  if (failures.length === 0) return 'no endpoint was asked'
  return failures.map((failure) => failure.error.message).join(' | ')
}

/** Every endpoint failed, and another round of retries would not fit in the deadline. */
export class AllEndpointsFailedError extends KyveError {
  override readonly name: string = 'AllEndpointsFailedError'
  constructor(
    readonly chainId: string,
    readonly poolId: number,
    /** Each asked endpoint's last error, in configured endpoint order. */
    readonly failures: readonly EndpointFailure[],
    readonly rounds: number,
  ) {
    super(
      `could not read pool ${poolId} on ${chainId}: every endpoint failed (${rounds} round${rounds === 1 ? '' : 's'}); ` +
        `last errors: ${listFailures(failures)}`,
    )
  }
}

/** The call's deadline passed while an endpoint was still being asked. */
export class DeadlineExceededError extends KyveError {
  override readonly name: string = 'DeadlineExceededError'
  constructor(
    readonly chainId: string,
    readonly poolId: number,
    readonly deadlineMs: number,
    /** Each asked endpoint's last error, in configured endpoint order. */
    readonly failures: readonly EndpointFailure[],
  ) {
    super(
      `could not read pool ${poolId} on ${chainId} within the ${deadlineMs} ms deadline; ` +
        `last errors: ${listFailures(failures)}`,
    )
  }
}

/**
 * How one request to one endpoint ended:
 * - `ok`: a valid answer that was accepted.
 * - `timeout`: no answer within the request timeout or the call deadline.
 * - `http-error`: a non-2xx answer that is neither "not found" nor "too old" (includes HTTP 400 / gRPC code 3).
 * - `invalid`: a 2xx answer that is not JSON or does not match the pool schema.
 * - `not-found`: HTTP 500 with gRPC code 2 "key not found": the endpoint does not know the pool.
 * - `too-old`: HTTP 501 / gRPC code 12: the endpoint does not serve the route.
 * - `regressed`: a valid answer whose pool height is behind the last accepted one.
 * - `mismatch`: a valid answer about another pool than the one asked for.
 * - `network`: connection refused, reset, DNS failure…
 */
export type RequestOutcome =
  | 'ok'
  | 'timeout'
  | 'http-error'
  | 'invalid'
  | 'not-found'
  | 'too-old'
  | 'regressed'
  | 'mismatch'
  | 'network'

/** Reported to `onRequest` once per request, for metrics. */
export interface RequestEvent {
  endpoint: string
  outcome: RequestOutcome
  durationMs: number
}

/**
 * Every way a request to the peer listener can end, one word per metric series, in a stable order (to pre-create
 * series at 0):
 * - `ok`: authenticated and answered by the handler (whatever status the handler chose);
 * - `unauthorized`: auth headers missing or malformed, or the signature does not match (wrong key, altered request);
 * - `expired`: validly signed, but the timestamp is outside the window (replayed late, or a skewed clock);
 * - `replayed`: validly signed and fresh, but its nonce was already accepted;
 * - `rate-limited`: the sender's bucket was empty;
 * - `busy`: the global concurrency cap or the replay cache was full;
 * - `too-large`: the body or the head was above its cap;
 * - `bad-request`: not a request this listener can read (a request target that is not a path);
 * - `timeout`: the request did not arrive in time, or the handler did not answer in time;
 * - `handler-error`: the handler threw or its stream failed.
 */
export const PEER_OUTCOMES = Object.freeze([
  'ok',
  'unauthorized',
  'expired',
  'replayed',
  'rate-limited',
  'busy',
  'too-large',
  'bad-request',
  'timeout',
  'handler-error',
] as const)

export type PeerOutcome = (typeof PEER_OUTCOMES)[number]

/** Reported once per request when its response is finished or its connection closed. */
export interface PeerRequestEvent {
  outcome: PeerOutcome
  /** The HTTP status sent (0 when the connection closed before any). */
  status: number
  /** The sender's sidecar id once authenticated; null before (an unauthenticated id is not worth a label). */
  sender: string | null
  method: string
  /** Path without the query; `null` when the request target was not a path. */
  path: string | null
  /** From the request's arrival to the end of its response, in milliseconds. */
  durationMs: number
}

/** Counts by outcome since the server started, and requests in flight now. */
export interface PeerServerStats {
  inFlight: number
  outcomes: Record<PeerOutcome, number>
}

/** A zeroed count per outcome. */
export function zeroOutcomes(): Record<PeerOutcome, number> {
  return Object.fromEntries(PEER_OUTCOMES.map((outcome) => [outcome, 0])) as Record<PeerOutcome, number>
}

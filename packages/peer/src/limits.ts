import { z } from 'zod'
import { boundedNumber, wholeNumber } from './option-fields.js'

/**
 * What the peer listener allows, with the reasoning behind each default:
 * - the window is short because a captured request stays replayable elsewhere (another sidecar has its own
 *   nonce cache) for that long, yet wide enough for NTP-synced hosts;
 * - the nonce cache is bounded: at the default window it remembers ~6 600 requests per second; beyond that the
 *   listener refuses with `busy` rather than forget a nonce that is still inside its window;
 * - the per-sender bucket and the global cap keep siblings from taking the whole node away from the local
 *   protocol node, which is the node's first client.
 */
export const peerLimitsSchema = z.strictObject({
  /** Accepted difference between the caller's timestamp and this host's clock, either way. */
  windowMs: wholeNumber(1_000, 300_000, 'milliseconds').default(30_000),
  /** Replay-cache entries; when full, requests are refused with 503 `busy`. */
  maxNonces: wholeNumber(1_000, 5_000_000, 'nonces').default(200_000),
  /** Request body cap (413 above it). */
  maxBodyBytes: wholeNumber(0, 64 * 1024 * 1024, 'bytes').default(1024 * 1024),
  /** Request head cap, node:http's `maxHeaderSize` (431 above it). */
  maxHeaderBytes: wholeNumber(1_024, 65_536, 'bytes').default(16_384),
  /** Time to receive the request head and body (408 past it). */
  requestTimeoutMs: wholeNumber(100, 120_000, 'milliseconds').default(10_000),
  /** Time for the handler to produce its response (504 past it; the handler's signal is aborted). */
  handlerTimeoutMs: wholeNumber(100, 300_000, 'milliseconds').default(30_000),
  /** Socket inactivity allowed while a response streams out (the connection is cut past it). */
  idleTimeoutMs: wholeNumber(100, 600_000, 'milliseconds').default(30_000),
  /** Requests handled at once, over all senders (429 `busy` above it). */
  maxConcurrent: wholeNumber(1, 4_096, 'requests').default(32),
  /** Per-sender token bucket (429 `rate-limited` when empty). */
  perSender: z
    .strictObject({
      ratePerSecond: boundedNumber(0.1, 100_000, 'requests per second').default(50),
      burst: wholeNumber(1, 100_000, 'requests').default(100),
    })
    .prefault({}),
  /** Senders whose buckets are remembered; the least recently seen is forgotten first (it refills anyway). */
  maxSenders: wholeNumber(1, 100_000, 'senders').default(4_096),
})

/** The limits as given (every field optional). */
export type PeerLimitsInput = z.input<typeof peerLimitsSchema>
/** The limits with defaults filled in. */
export type PeerLimits = z.output<typeof peerLimitsSchema>

/** Every default, for documentation and tests. */
export const DEFAULT_PEER_LIMITS: PeerLimits = Object.freeze(peerLimitsSchema.parse({})) as PeerLimits

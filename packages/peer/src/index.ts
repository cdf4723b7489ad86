/**
 * `@ghostfleet/peer`: the authenticated HTTP link between the sidecars of one fleet (the gateway's sibling
 * path, and checkpoint files for window clones).
 *
 * - Every request is signed with HMAC-SHA256 under the fleet key over method, path and query, body hash,
 *   timestamp, a random nonce, the sender's sidecar id and the Range header. The listener refuses with 401 a
 *   request that is unsigned or wrongly signed (`unauthorized`), outside the ±30 s window (`expired`), or whose
 *   nonce it already accepted (`replayed`); the JSON body says which, never echoing the key or a signature.
 * - Every answer to an authenticated request is signed over the request's nonce, status, chain id, responder
 *   and body hash, so {@link createPeerClient} knows it came from a fleet member serving the chain it claims.
 *   Streamed answers (files, ranges) sign their head and mark the body `UNSIGNED-PAYLOAD`: check those bytes
 *   against a signed manifest.
 * - A per-sender token bucket and a global concurrency cap (429 with Retry-After), body and head caps (413/431)
 *   and timeouts (408/504) keep the peer path from starving the local protocol node.
 * - Counts by outcome ({@link PeerOutcome}) through `onRequest` and `stats()`, to map onto Prometheus.
 *
 * The wire format is in the README; `wire.ts` builds the exact strings that are signed.
 *
 * @example
 * ```ts
 * import { createPeerClient, fileResponse, jsonResponse, startPeerServer } from '@ghostfleet/peer'
 *
 * const server = await startPeerServer({
 *   listen: '0.0.0.0:26671',
 *   key: fleetKey, // FleetKey.parse(process.env.GHOSTFLEET_FLEET_KEY)
 *   sidecarId: 'osmosis-a',
 *   chainId: 'osmosis-1',
 *   handler: async (request) => {
 *     if (request.path === '/rpc/status') return jsonResponse(200, await node.status())
 *     if (request.path.startsWith('/checkpoint/')) return fileResponse(request, checkpointFile(request.path))
 *     return jsonResponse(404, { error: 'no such route' })
 *   },
 *   limits: { perSender: { ratePerSecond: 100, burst: 200 } },
 *   onRequest: (event) => peerRequests.inc({ outcome: event.outcome }),
 * })
 *
 * const client = createPeerClient({ key: fleetKey, sender: 'osmosis-b' })
 * const reply = await client.request(server.url, { path: '/rpc/status', expectChainId: 'osmosis-1' })
 * const file = await client.downloadToFile(server.url, { path: '/checkpoint/000123.ldb', file: '/tmp/000123.ldb' })
 * await server.close()
 * ```
 */

export { contentRange, parseContentRange, parseRange, type RangeRequest } from './byte-range.js'
export {
  createPeerClient,
  type DownloadToFileResult,
  type PeerClient,
  type PeerDownload,
  type PeerReply,
} from './client.js'
export type {
  PeerCallOptions,
  PeerClientOptions,
  PeerDownloadOptions,
  PeerDownloadToFileOptions,
} from './client-options.js'
export {
  InvalidPeerOptionsError,
  PEER_ERROR_CODES,
  PeerError,
  type PeerErrorCode,
  PeerListenError,
  PeerRejectedError,
  PeerResponseError,
  type PeerResponseProblem,
  PeerStatusError,
  PeerUnreachableError,
} from './errors/index.js'
export type {
  PeerBufferedResponse,
  PeerHandler,
  PeerRequest,
  PeerResponse,
  PeerStreamResponse,
} from './handler.js'
export { DEFAULT_PEER_LIMITS, type PeerLimits, type PeerLimitsInput, peerLimitsSchema } from './limits.js'
export {
  PEER_OUTCOMES,
  type PeerOutcome,
  type PeerRequestEvent,
  type PeerServerStats,
} from './outcomes.js'
export { type SignedRequestHeaders, type SignPeerRequestInput, signPeerRequest } from './request-signing.js'
export { type FileResponseOptions, fileResponse, jsonResponse } from './responses.js'
export { type PeerServer, startPeerServer } from './server.js'
export type { PeerServerOptions } from './server-options.js'
export {
  CHAIN_ID_HEADER,
  CONTENT_SHA256_HEADER,
  canonicalRequest,
  canonicalResponse,
  ERROR_HEADER,
  NONCE_HEADER,
  RESPONDER_HEADER,
  type RequestSigningFields,
  type ResponseSigningFields,
  SENDER_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  UNSIGNED_PAYLOAD,
} from './wire.js'

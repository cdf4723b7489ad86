import type { FleetKey } from '@ghostfleet/coordination'
import { type PeerHandler, type PeerOutcome, type PeerServer, startPeerServer } from '@ghostfleet/peer'
import type { Logger } from '@ghostfleet/telemetry'
import type { GatewayMetrics, PeerRequestOutcome } from '../gateway/gateway-metrics.js'
import type { LocalNodeView } from '../gateway/local-node.js'
import type { NodeForwarder } from '../gateway/node-forwarder.js'
import { CHECKPOINT_ROUTE_PREFIX } from './checkpoint-routes.js'
import { createPeerRpcHandler } from './peer-rpc-handler.js'

export interface PeerListenerOptions {
  listen: string
  key: FleetKey
  sidecarId: string
  /** The local node's chain (its genesis), signed into every answer. */
  nodeChainId: string
  local: LocalNodeView
  forwarder: NodeForwarder
  /** Sibling requests served at once, and per sibling per second (bursts of twice that). */
  maxConcurrent: number
  ratePerSecond: number
  metrics: GatewayMetrics
  log: Logger
  /** The checkpoint routes (`checkpoint-routes.ts`) when this sidecar donates checkpoints; absent: none. */
  checkpoints?: PeerHandler
}

const BY_PEER_OUTCOME: Record<PeerOutcome, PeerRequestOutcome> = {
  ok: 'ok',
  unauthorized: 'unauthorized',
  expired: 'unauthorized',
  replayed: 'unauthorized',
  'rate-limited': 'rate-limited',
  busy: 'rate-limited',
  'too-large': 'error',
  'bad-request': 'error',
  timeout: 'error',
  'handler-error': 'error',
}

/**
 * The listener siblings read this node through (`@ghostfleet/peer`: HMAC with the fleet key, replay cache, a
 * per-sibling rate and a cap on requests at once, so siblings cannot starve the local protocol node).
 */
export async function startPeerListener(options: PeerListenerOptions): Promise<PeerServer> {
  const { metrics } = options
  // Requests the handler answered are counted by it (ok or not-held); the peer server's event counts the rest.
  const rpc = createPeerRpcHandler({
    local: options.local,
    forwarder: options.forwarder,
    sidecarId: options.sidecarId,
    onAnswered: (outcome) => metrics.peerRequests.inc({ outcome }),
  })
  const checkpoints = options.checkpoints
  const handler: PeerHandler =
    checkpoints === undefined
      ? rpc
      : (request) => (request.path.startsWith(CHECKPOINT_ROUTE_PREFIX) ? checkpoints(request) : rpc(request))
  return await startPeerServer({
    listen: options.listen,
    key: options.key,
    sidecarId: options.sidecarId,
    chainId: options.nodeChainId,
    handler,
    limits: {
      maxConcurrent: options.maxConcurrent,
      perSender: { ratePerSecond: options.ratePerSecond, burst: options.ratePerSecond * 2 },
    },
    logger: options.log,
    onRequest: (event) => {
      if (event.outcome !== 'ok') metrics.peerRequests.inc({ outcome: BY_PEER_OUTCOME[event.outcome] })
    },
  })
}

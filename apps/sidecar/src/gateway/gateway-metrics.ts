import {
  type Counter,
  createCounter,
  createHistogram,
  exponentialBuckets,
  type Histogram,
  type Registry,
} from '@ghostfleet/telemetry'

/** Where a call was answered from: the local node, a sibling, or nowhere (CometBFT's error shape). */
export const GATEWAY_ROUTES = ['local', 'sibling', 'failed'] as const
export type GatewayRoute = (typeof GATEWAY_ROUTES)[number]

/** What the peer listener did with a sibling's request. */
export const PEER_OUTCOMES = ['ok', 'not-held', 'unauthorized', 'rate-limited', 'error'] as const
export type PeerRequestOutcome = (typeof PEER_OUTCOMES)[number]

export interface GatewayMetrics {
  requests: Counter<'route'>
  /** Handling time minus the answering upstream's own time: what the gateway costs on top of asking directly. */
  addedLatency: Histogram<'route'>
  duration: Histogram<'route'>
  peerRequests: Counter<'outcome'>
}

/** The gateway's and the peer listener's metrics, on the sidecar's registry (names agreed with the dashboards). */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  // 0.1 ms … 3.3 s: the local route's target is below 1 ms, a sibling across a network tens of ms.
  const buckets = exponentialBuckets(0.0001, 2, 16)
  const metrics: GatewayMetrics = {
    requests: createCounter(registry, {
      name: 'ghostfleet_gateway_requests_total',
      help: 'Calls answered by the RPC gateway, by route: local node, sibling, or failed (no node holds it).',
      labelNames: ['route'],
    }),
    addedLatency: createHistogram(registry, {
      name: 'ghostfleet_gateway_added_latency_seconds',
      help: 'Time the gateway adds to a call on top of the answering node (local or sibling), in seconds.',
      labelNames: ['route'],
      buckets,
    }),
    duration: createHistogram(registry, {
      name: 'ghostfleet_gateway_request_duration_seconds',
      help: 'Time from a call received by the gateway to its answer, by route, in seconds.',
      labelNames: ['route'],
      buckets,
    }),
    peerRequests: createCounter(registry, {
      name: 'ghostfleet_gateway_peer_requests_total',
      help: 'Requests of siblings to this sidecar’s peer listener, by outcome (not-held: its node lacks the height).',
      labelNames: ['outcome'],
    }),
  }
  // Every series exists from the first scrape, so dashboards and alerts have data before the first request.
  for (const route of GATEWAY_ROUTES) {
    metrics.requests.inc({ route }, 0)
    metrics.duration.zero({ route })
    if (route !== 'failed') metrics.addedLatency.zero({ route })
  }
  for (const outcome of PEER_OUTCOMES) metrics.peerRequests.inc({ outcome }, 0)
  return metrics
}

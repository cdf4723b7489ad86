import { createKyveClient, type KyveClient, type RequestEvent } from '@ghostfleet/kyve'
import type { PoolSource } from '../control/pool-poller.js'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'

/**
 * The KYVE client as the supervision loop uses it: one call bounded by a deadline shorter than a few
 * intervals (so a hung API never holds decisions for long), each request counted by endpoint and outcome,
 * and each endpoint's health exported as a gauge.
 */
export interface KyveSourceOptions {
  chainId: string
  /** Empty: the chain's preset endpoints. */
  endpoints: readonly string[]
  intervalMs: number
  metrics?: SidecarMetrics
}

/** Per-call deadline: 2.5 supervision intervals, at least 2 s (a local API), at most 60 s. */
export function kyveDeadlineMs(intervalMs: number): number {
  return Math.round(Math.min(60_000, Math.max(2_000, intervalMs * 2.5)))
}

export function createKyveSource(options: KyveSourceOptions): { client: KyveClient; source: PoolSource } {
  const deadlineMs = kyveDeadlineMs(options.intervalMs)
  const metrics = options.metrics
  const client = createKyveClient({
    chainId: options.chainId,
    endpoints: options.endpoints,
    deadlineMs,
    requestTimeoutMs: Math.min(5_000, deadlineMs),
    // Between rounds inside one call; the poller backs off between calls.
    backoff: { initialMs: Math.min(500, deadlineMs / 4), maxMs: Math.min(5_000, deadlineMs / 2) },
    onRequest: (event: RequestEvent) => {
      metrics?.kyveRequests.inc({ endpoint: event.endpoint, outcome: event.outcome })
      metrics?.kyveEndpointUp.set({ endpoint: event.endpoint }, event.outcome === 'ok' ? 1 : 0)
    },
  })
  return { client, source: { getPool: (poolId) => client.getPool(poolId) } }
}

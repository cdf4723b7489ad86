import { createKyveClient, type KyveClient, poolChainProblem, type RequestEvent } from '@ghostfleet/kyve'
import type { PoolSource } from '../control/pool-refresher.js'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'

/**
 * The KYVE client as the supervision loop uses it: one call bounded by a deadline shorter than a few
 * intervals (so a hung API never holds decisions for long), each request counted by endpoint and outcome,
 * and each endpoint's health exported as a gauge. An answer about a pool that does not validate the node's chain
 * (another network in the pool's runtime config, or a runtime whose keys are not block heights) is turned into a
 * {@link PoolChainMismatchError} here, where answers enter the sidecar, so no decision and no prune guard ever sees
 * it: a wrong pool id holds the mode and prunes nothing, whoever proposes the prune.
 */
export class PoolChainMismatchError extends Error {
  override readonly name = 'PoolChainMismatchError'
}

export interface KyveSourceOptions {
  chainId: string
  /** The node's chain id (its genesis file): every pool answer must name it as the pool's network. */
  nodeChainId: string
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
    // Between rounds inside one call; the pool refresher backs off between calls.
    backoff: { initialMs: Math.min(500, deadlineMs / 4), maxMs: Math.min(5_000, deadlineMs / 2) },
    onRequest: (event: RequestEvent) => {
      metrics?.kyveRequests.inc({ endpoint: event.endpoint, outcome: event.outcome })
      metrics?.kyveEndpointUp.set({ endpoint: event.endpoint }, event.outcome === 'ok' ? 1 : 0)
    },
  })
  const getPool = async (poolId: number) => {
    const progress = await client.getPool(poolId)
    const problem = poolChainProblem(progress, options.nodeChainId)
    if (problem !== null) throw new PoolChainMismatchError(problem)
    return progress
  }
  return { client, source: { getPool } }
}

import type { PoolFacts } from '@ghostfleet/kyve'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'
import type { NodeObservation } from './node-observer.js'
import type { PoolRefresherStatus } from './pool-refresher.js'

export interface TickFacts {
  node: NodeObservation
  /** The pool shown (`shownPool`). */
  pool: PoolFacts | null
  poolStatus: PoolRefresherStatus
  heightDifference: { max: number; min: number }
  /** When the next prune is due (epoch ms), null with pruning off. */
  nextPruneDueAt: number | null
  now: number
}

/** Sets the gauges that follow the node and the pool, once per tick. */
export function publishTickMetrics(m: SidecarMetrics, facts: TickFacts): void {
  const { node, pool } = facts
  m.nodeUp.set(node.reachable ? 1 : 0)
  if (node.reachable) {
    m.nodeHeight.set(node.appHeight)
    m.nodeBaseHeight.set(node.base)
    m.nodeCatchingUp.set(node.catchingUp ? 1 : 0)
  }
  if (pool !== null && pool.poolHeight !== null) {
    m.poolHeight.set(pool.poolHeight)
    m.targetMaxHeight.set(pool.poolHeight + facts.heightDifference.max)
    m.targetMinHeight.set(pool.poolHeight + facts.heightDifference.min)
  }
  const lastSuccessAt = facts.poolStatus.lastSuccessAt
  if (lastSuccessAt !== null) m.poolLastSuccessTimestamp.set(lastSuccessAt / 1000)
  if (pool !== null) m.poolHeightAgeSeconds.set(Math.max(0, (facts.now - pool.fetchedAt) / 1000))
  if (facts.nextPruneDueAt !== null) m.nextPruneDueTimestamp.set(facts.nextPruneDueAt / 1000)
}

import type { Logger } from '@ghostfleet/telemetry'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'
import type { ErrorRing } from './error-ring.js'
import type { NodeObservation } from './node-observer.js'

/** After a prune: once the node answers again, its base must be the prune height. */
export class PruneVerification {
  private awaiting: { height: number; since: number } | null = null

  constructor(
    private readonly deps: {
      metrics: Pick<SidecarMetrics, 'pruneVerifications'>
      log: Logger
      errors: ErrorRing
    },
  ) {}

  /** A prune to `height` finished at `since`: the next answer of the node is checked. */
  expect(height: number, since: number): void {
    this.awaiting = { height, since }
  }

  /** The prune still to be checked, for /status. */
  pending(): { height: number; since: number } | null {
    return this.awaiting
  }

  check(node: NodeObservation): void {
    const pending = this.awaiting
    if (pending === null || !node.reachable) return
    this.awaiting = null
    const { metrics, log } = this.deps
    if (node.base === pending.height) {
      metrics.pruneVerifications.inc({ outcome: 'match' })
      log.info({ base: node.base }, 'prune verified: /status earliest_block_height equals the prune height')
      return
    }
    metrics.pruneVerifications.inc({ outcome: 'mismatch' })
    const message =
      `after pruning to ${pending.height} the node reports earliest_block_height ${node.base}: the node's view ` +
      'does not match the prune; check its data directory and logs'
    this.deps.errors.record('prune', new Error(message))
    log.error({ expected: pending.height, base: node.base }, message)
  }
}

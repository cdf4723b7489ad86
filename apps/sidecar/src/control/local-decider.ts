import { decideMode, projectStalePool, type Thresholds } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { Decision, DecisionInput, DecisionSource } from './decision-source.js'
import { ownSafePruneHeight } from './prune-guard.js'

/**
 * Decides from the sidecar's own KYVE answer (the snapshot's `own`, never a tracker's record) and the core rules: hysteresis for the mode
 * (`decideMode`), `safePruneHeight` for the prune, in ghost mode only and when the schedule says it is due.
 *
 * When facts are missing it holds the current mode rather than guessing: node unreachable, pool never fetched,
 * pool key not a height. A stale pool height (older than the staleness limit) holds the mode too, with one
 * exception that protects the pool: a ghost node does not sync, so if KYVE stays unreachable long enough that
 * the pool, advancing at its fastest (max_bundle_size per upload_interval), could have come within
 * `heightDifferenceMin` of the node, the node returns to normal mode. Holding ghost blindly could let the pool
 * catch up with a node that no longer moves; returning to normal only costs disk space.
 */
export interface LocalDeciderOptions {
  thresholds: Thresholds
  maxPoolAgeMs: number
  pruning: { enabled: boolean; margin: number }
}

export class LocalDecisionSource implements DecisionSource {
  readonly name = 'local' as const

  constructor(private readonly options: LocalDeciderOptions) {}

  async decide(input: DecisionInput): Promise<Decision> {
    const { node, mode, now } = input
    const hold = (reason: string, diff: number | null = null): Decision => ({
      mode,
      pruneToHeight: null,
      reason: `${reason}: stays ${mode}`,
      decidedBy: 'local',
      diff,
      pruneRefusal: null,
      pool: input.pool,
    })
    if (!node.reachable) return hold(`node unreachable (${node.error})`)
    const pool = input.pool.own
    if (pool === null) return hold('pool height unknown (no answer from the KYVE API yet)')
    if (pool.poolHeight === null) {
      return hold(`pool key ${JSON.stringify(pool.poolHeightKey)} is not a block height`)
    }
    const age = now - pool.fetchedAt
    const diff = node.appHeight - pool.poolHeight
    if (age > this.options.maxPoolAgeMs) {
      const held =
        this.staleDecision(input, node.appHeight, pool, pool.poolHeight, age, diff) ??
        hold(
          `pool height ${pool.poolHeight} is ${Math.round(age / 1000)} s old ` +
            `(limit ${Math.round(this.options.maxPoolAgeMs / 1000)} s)`,
          diff,
        )
      // A prune that is due is refused (stale), and said so: the refusal is what an operator looks for.
      if (held.mode === mode) held.pruneRefusal = this.pruneVerdict(input, pool).pruneRefusal
      return held
    }

    const decision = decideMode({
      nodeHeight: node.appHeight,
      poolHeight: pool.poolHeight,
      currentMode: mode,
      thresholds: this.options.thresholds,
    })
    const result: Decision = {
      mode: decision.mode,
      pruneToHeight: null,
      reason: decision.reason,
      decidedBy: 'local',
      diff: decision.diff,
      pruneRefusal: null,
      pool: input.pool,
    }
    if (decision.changed) return result
    return { ...result, ...this.pruneVerdict(input, pool) }
  }

  /** In ghost mode, when a prune is due: the safe height, or why not. */
  private pruneVerdict(
    input: DecisionInput,
    pool: PoolFacts,
  ): Pick<Decision, 'pruneToHeight' | 'pruneRefusal'> {
    if (input.mode !== 'ghost' || !this.options.pruning.enabled || !input.pruneDue) {
      return { pruneToHeight: null, pruneRefusal: null }
    }
    const prune = ownSafePruneHeight({
      pool,
      node: input.node,
      now: input.now,
      maxPoolAgeMs: this.options.maxPoolAgeMs,
      margin: this.options.pruning.margin,
    })
    return prune.prune
      ? { pruneToHeight: prune.height, pruneRefusal: null }
      : { pruneToHeight: null, pruneRefusal: { reason: prune.reason, detail: prune.detail } }
  }

  /** The stale-ghost safety valve described above (`projectStalePool`, shared with the tracker); `null` means hold. */
  private staleDecision(
    input: DecisionInput,
    nodeHeight: number,
    pool: PoolFacts,
    poolHeight: number,
    ageMs: number,
    diff: number,
  ): Decision | null {
    const verdict = projectStalePool({
      mode: input.mode,
      nodeHeight,
      poolHeight,
      poolAgeMs: ageMs,
      maxBundleSize: pool.maxBundleSize,
      uploadInterval: pool.uploadInterval,
      heightDifferenceMin: this.options.thresholds.heightDifferenceMin,
    })
    if (!verdict.returnToNormal) return null
    return {
      mode: 'normal',
      pruneToHeight: null,
      reason: verdict.reason,
      decidedBy: 'local',
      diff,
      pruneRefusal: null,
      pool: input.pool,
    }
  }
}

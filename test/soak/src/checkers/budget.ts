import { isDisrupting, type SidecarSample } from '../sidecar-sample.js'

/**
 * Availability budget: no more than `maxUnavailable` nodes of a pool unavailable at once by the fleet's choice.
 *
 * A node is unavailable when its sidecar is switching or pruning (a disruption the fleet chose), and also when it
 * is down for any other reason: the soak killed it or its sidecar, it crashed, or it does not answer. That is how
 * the tracker counts its budget (a silent sidecar or an unreachable node is `unknown`, never serving). The soak's
 * own kills are not the fleet's doing, so a moment over the budget is a violation when the fleet caused it:
 * - more chosen disruptions at once than `maxUnavailable`; or
 * - a chosen disruption that began while at least `maxUnavailable` other nodes of the pool had already been
 *   unavailable for `toleranceMs` (long enough for their sidecars' reports to tell the tracker).
 * A kill that lands while the budget is already spent (the soak taking a second node down) is not.
 */
export class BudgetChecker {
  private readonly episodes = new Map<string, { kind: 'chosen' | 'down'; since: number }>()

  constructor(
    private readonly maxUnavailable: number,
    private readonly toleranceMs: number,
  ) {}

  /** Judges one sampled moment of `pool`; the violation text or null. */
  observe(pool: number, samples: readonly SidecarSample[]): string | null {
    const unavailable: Array<{ sample: SidecarSample; kind: 'chosen' | 'down'; since: number }> = []
    for (const sample of samples) {
      if (sample.pool !== pool) continue
      const kind: 'chosen' | 'down' | null = isDisrupting(sample) ? 'chosen' : isDown(sample) ? 'down' : null
      if (kind === null) {
        this.episodes.delete(sample.id)
        continue
      }
      const episode = this.episodes.get(sample.id)
      const current = episode?.kind === kind ? episode : { kind, since: sample.at }
      this.episodes.set(sample.id, current)
      unavailable.push({ sample, ...current })
    }
    if (unavailable.length <= this.maxUnavailable) return null
    const describe = () =>
      unavailable
        .map((u) => `${u.sample.id} ${u.kind === 'chosen' ? u.sample.activity : downReason(u.sample)}`)
        .join(', ')
    const chosen = unavailable.filter((u) => u.kind === 'chosen')
    if (chosen.length > this.maxUnavailable)
      return `pool ${pool}: ${chosen.length} sidecars disrupting at once (max ${this.maxUnavailable}): ${describe()}`
    for (const c of chosen) {
      const before = unavailable.filter((u) => u !== c && u.since + this.toleranceMs <= c.since)
      if (before.length >= this.maxUnavailable)
        return (
          `pool ${pool}: ${c.sample.id} began ${c.sample.activity} while ${before.length} other node(s) had been ` +
          `unavailable for ${this.toleranceMs} ms or more (max ${this.maxUnavailable}): ${describe()}`
        )
    }
    return null
  }
}

/** Down other than by a disruption: the sidecar is silent, or its node is not running or does not answer. */
export function isDown(sample: SidecarSample): boolean {
  return !sample.answered || sample.nodeState !== 'running' || !sample.nodeReachable
}

function downReason(sample: SidecarSample): string {
  if (!sample.answered) return 'silent'
  if (sample.nodeState !== 'running') return `node ${sample.nodeState}`
  return 'node unreachable'
}

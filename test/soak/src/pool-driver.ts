import type { KyveSimulator } from '@ghostfleet/devnet'

/*
 * Moves the pools through the cycles that make the fleet switch and prune, as the demo does: paused for
 * `pausedMs` (nodes run ahead, cross height_difference_max, go ghost, get pruned one at a time), then running for
 * `runningMs` (bundles come faster than blocks, the pool catches up, nodes return to normal). Pool n's cycle
 * starts n × `offsetMs` later, so the two pools are rarely in the same phase.
 */
export interface PoolCycle {
  pausedMs: number
  runningMs: number
  offsetMs: number
}

export const SOAK_POOL_CYCLE: PoolCycle = { pausedMs: 30_000, runningMs: 15_000, offsetMs: 20_000 }

/** Should pool index `index` be paused `elapsedMs` after the start? */
export function poolPaused(cycle: PoolCycle, index: number, elapsedMs: number): boolean {
  const t = elapsedMs + index * cycle.offsetMs
  return t % (cycle.pausedMs + cycle.runningMs) < cycle.pausedMs
}

export class PoolDriver {
  private readonly paused = new Map<number, boolean>()
  private released = false

  constructor(
    private readonly kyve: KyveSimulator,
    private readonly pools: readonly number[],
    private readonly cycle: PoolCycle,
  ) {}

  /** Applies the phase for `elapsedMs`; only changes are sent. */
  async apply(elapsedMs: number): Promise<void> {
    if (this.released) return
    for (const [index, pool] of this.pools.entries()) {
      await this.set(pool, poolPaused(this.cycle, index, elapsedMs))
    }
  }

  /** Lets every pool run from now on (the end of the soak: the fleet must converge). */
  async release(): Promise<void> {
    this.released = true
    for (const pool of this.pools) await this.set(pool, false)
  }

  private async set(pool: number, paused: boolean): Promise<void> {
    if (this.paused.get(pool) === paused) return
    await this.kyve.setPool(pool, { paused })
    this.paused.set(pool, paused)
  }
}

import type { SidecarSample } from '../sidecar-sample.js'

/**
 * Whether a pool is served at one moment: at least one of its nodes answers and holds every height in
 * [pool height, pool height + window], the top clipped to the chain's height (the pool cannot need blocks the
 * chain has not made yet; the producer's own height less one, since followers trail it by a block).
 */
export function poolServed(
  pool: number,
  samples: readonly SidecarSample[],
  poolHeight: number,
  chainHeight: number,
  window: number,
): boolean {
  const top = Math.max(poolHeight, Math.min(poolHeight + window, chainHeight - 1))
  return samples.some(
    (s) =>
      s.pool === pool &&
      s.nodeReachable &&
      s.base !== null &&
      s.nodeHeight !== null &&
      s.base <= Math.max(poolHeight, 1) &&
      s.nodeHeight >= top,
  )
}

/** Served samples per pool. */
export class AvailabilityTally {
  private readonly counts = new Map<number, { served: number; total: number }>()

  add(pool: number, served: boolean): void {
    const count = this.counts.get(pool) ?? { served: 0, total: 0 }
    count.total++
    if (served) count.served++
    this.counts.set(pool, count)
  }

  /** Percent of samples served, per pool (100 when never sampled). */
  percent(pool: number): number {
    const count = this.counts.get(pool)
    if (count === undefined || count.total === 0) return 100
    return (100 * count.served) / count.total
  }

  samples(pool: number): number {
    return this.counts.get(pool)?.total ?? 0
  }
}

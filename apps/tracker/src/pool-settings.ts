/**
 * The settings that apply to one pool: `[defaults]`, then the pool's `[[pools]]` entry, then `[chains]` for the
 * KYVE endpoints. Pools without an entry get the defaults: the tracker follows every pool a sidecar reports.
 */
import type { Thresholds } from '@ghostfleet/core'
import type { ResolvedTrackerConfig } from './config.js'
import type { PoolRef } from './pool-ref.js'

export interface PoolSettings {
  /** Sidecars of the pool that may be restarting or pruning at the same moment. */
  maxUnavailable: number
  /** A sidecar in ghost mode is pruned once per this interval. */
  pruningIntervalMs: number
  /** Heights kept below min(pool, node) on top of the one a prune keeps (`safePruneHeight`). */
  margin: number
  /** Applied on top of the thresholds computed from the pool's settings. */
  thresholdOverrides: Partial<Thresholds>
  /**
   * KYVE REST endpoints for this pool, or undefined for the chain's presets. A pool entry's `endpoints` win over
   * `[chains]`, which win over the presets of `@ghostfleet/kyve`.
   */
  endpoints: readonly string[] | undefined
}

export function resolvePoolSettings(config: ResolvedTrackerConfig, pool: PoolRef): PoolSettings {
  const entry = config.pools.find((p) => p.chainId === pool.chainId && p.poolId === pool.poolId)
  const chainEndpoints = config.chains[pool.chainId]
  return {
    maxUnavailable: entry?.maxUnavailable ?? config.defaults.maxUnavailable,
    pruningIntervalMs: entry?.pruningIntervalMs ?? config.defaults.pruningIntervalMs,
    margin: config.defaults.margin,
    thresholdOverrides: { ...(entry?.thresholds ?? {}) },
    endpoints: entry?.endpoints ?? chainEndpoints,
  }
}

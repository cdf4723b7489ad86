import type { DiscoveredTarget } from './discoverer.js'

/** What {@link reconcile} found; every list is sorted by id. */
export interface Reconciliation {
  /** Registered in Consul but not reporting on Redis: crashed, partitioned from Redis, or misconfigured. */
  silentOnRedis: DiscoveredTarget[]
  /** Reporting on Redis but not registered in Consul: Prometheus does not scrape them. */
  missingFromConsul: string[]
  /** Registered and reporting. */
  inBoth: DiscoveredTarget[]
}

/**
 * Compares the sidecars Consul lists with those reporting on Redis, by id (a sidecar registers with its sidecar
 * id as Consul service id). Pure: the tracker gathers both sides (see {@link listSidecarsFromConsul}) and
 * exposes the result in its API and metrics.
 *
 * An id registered twice in Consul (two agents, same id) appears once per registration in the target lists.
 *
 * @example
 * const { silentOnRedis, missingFromConsul } = reconcile(await listSidecarsFromConsul(opts), reportingIds)
 * gauge.set({ kind: 'silent_on_redis' }, silentOnRedis.length)
 */
export function reconcile(
  consulTargets: readonly DiscoveredTarget[],
  redisSidecarIds: Iterable<string>,
): Reconciliation {
  const reporting = new Set(redisSidecarIds)
  const registered = new Set(consulTargets.map((target) => target.id))
  const byId = (a: DiscoveredTarget, b: DiscoveredTarget) =>
    compare(a.id, b.id) || compare(a.address, b.address)
  return {
    silentOnRedis: consulTargets.filter((target) => !reporting.has(target.id)).sort(byId),
    missingFromConsul: [...reporting].filter((id) => !registered.has(id)).sort(compare),
    inBoth: consulTargets.filter((target) => reporting.has(target.id)).sort(byId),
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

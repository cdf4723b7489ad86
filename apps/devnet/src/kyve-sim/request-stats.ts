import { KYVE_ROUTES, type KyveRoute } from './faults.js'

/*
 * Request counts, so tests can prove how often a client asked (the tracker must poll each pool once per
 * interval no matter how many sidecars serve it). Every request to a KYVE route counts, including answers a
 * fault replaced and error answers; admin requests do not count.
 */

/** A route name, or `unknown` for requests no KYVE route matched (answered 501). */
export type CountedRoute = KyveRoute | 'unknown'

/** Counts for one pool id (requests whose path named that pool, configured or not). */
export interface PoolRequestCounts {
  total: number
  byRoute: Record<'pool' | 'bundles' | 'bundle', number>
}

/** A snapshot of the request counts since the start or the last reset. */
export interface KyveSimStats {
  /** ISO time of the start or the last reset. */
  since: string
  total: number
  byRoute: Record<CountedRoute, number>
  byPool: Record<string, PoolRequestCounts>
}

function zeroRoutes(): Record<CountedRoute, number> {
  const counts = { unknown: 0 } as Record<CountedRoute, number>
  for (const route of KYVE_ROUTES) counts[route] = 0
  return counts
}

/** Counts requests per route and per pool. */
export class RequestStats {
  private since = new Date()
  private total = 0
  private byRoute = zeroRoutes()
  private byPool = new Map<string, PoolRequestCounts>()

  /** @param poolIds pools that always appear in snapshots (with zeros until asked about). */
  constructor(private readonly poolIds: readonly string[]) {
    this.reset()
  }

  /** Counts one request; `poolId` when the path named a pool. */
  record(route: CountedRoute, poolId?: string): void {
    this.total++
    this.byRoute[route]++
    if (poolId === undefined || (route !== 'pool' && route !== 'bundles' && route !== 'bundle')) return
    const counts = this.poolCounts(poolId)
    counts.total++
    counts.byRoute[route]++
  }

  /** A copy of the counts. */
  snapshot(): KyveSimStats {
    const byPool: Record<string, PoolRequestCounts> = {}
    for (const [poolId, counts] of this.byPool)
      byPool[poolId] = { total: counts.total, byRoute: { ...counts.byRoute } }
    return { since: this.since.toISOString(), total: this.total, byRoute: { ...this.byRoute }, byPool }
  }

  /** Starts counting from zero. */
  reset(): void {
    this.since = new Date()
    this.total = 0
    this.byRoute = zeroRoutes()
    this.byPool = new Map()
    for (const poolId of this.poolIds) this.poolCounts(poolId)
  }

  private poolCounts(poolId: string): PoolRequestCounts {
    let counts = this.byPool.get(poolId)
    if (counts === undefined) {
      counts = { total: 0, byRoute: { pool: 0, bundles: 0, bundle: 0 } }
      this.byPool.set(poolId, counts)
    }
    return counts
  }
}

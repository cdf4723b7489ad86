import { type RedisClient, readPoolProgress, waitForReady } from '@ghostfleet/coordination'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { PoolSource } from '../control/pool-refresher.js'
import type { PoolSnapshot } from '../control/pool-snapshot.js'

/** Where the pool height the sidecar shows came from. */
export type PoolView = 'tracker' | 'own'

export interface FleetPoolSourceOptions {
  redis: RedisClient
  chainId: string
  /** The sidecar's own KYVE client. */
  kyve: PoolSource
}

/**
 * The pool source of a sidecar in fleet mode, behind the controller's `PoolRefresher`. The point of the tracker
 * is one KYVE request per pool per interval however many sidecars serve it, so while the tracker leads the
 * refresher is fed the pool progress the tracker publishes in Redis (`readPoolProgress`), and the sidecar's own
 * KYVE client stays quiet.
 *
 * That record is not signed: anyone who can write to Redis can forge it. So it is used for what the sidecar
 * shows (/status, metrics, reports), never to justify deleting data: the snapshot keeps it apart from the
 * sidecar's own answers. Whenever the sidecar needs a pool height it can trust — deciding on its own after the
 * tracker went silent (`ownOnly`), or checking a tracker's prune height (a refresh through {@link own}) — it asks
 * KYVE itself. Redis unreachable, or no record published: KYVE as well, so the refresher always has an answer.
 */
export class FleetPoolSource implements PoolSource {
  private ownOnly = false
  private lastOwn: PoolFacts | null = null
  /** The tracker's record, while it is newer than the sidecar's own answer. */
  private lastPublished: PoolFacts | null = null
  private firstRead = true

  /** The sidecar's own KYVE client, with its answers recorded as the snapshot's `own`. */
  readonly own: PoolSource = {
    getPool: async (poolId) => {
      const answer = await this.options.kyve.getPool(poolId)
      this.lastOwn = answer
      this.lastPublished = null
      return answer
    },
  }

  constructor(private readonly options: FleetPoolSourceOptions) {}

  async getPool(poolId: number): Promise<PoolFacts> {
    if (!this.ownOnly) {
      const published = await this.published(poolId)
      if (published !== null) {
        this.lastPublished = published
        return published
      }
    }
    return await this.own.getPool(poolId)
  }

  snapshot(): PoolSnapshot {
    return { own: this.lastOwn, published: this.lastPublished }
  }

  /** Every call goes to KYVE (the sidecar decides on its own), or back to the tracker's record. */
  setOwnOnly(ownOnly: boolean): void {
    this.ownOnly = ownOnly
  }

  /** Where the last answer came from (null before the first). */
  view(): PoolView | null {
    if (this.lastPublished !== null) return 'tracker'
    return this.lastOwn === null ? null : 'own'
  }

  private async published(poolId: number): Promise<PoolFacts | null> {
    const { redis } = this.options
    if (this.firstRead && redis.status !== 'ready') {
      // Right after start the connection is still being made: a fail-fast read would send this call to KYVE.
      await waitForReady(redis, 2_000)
    }
    this.firstRead = false
    try {
      return await readPoolProgress(redis, this.options.chainId, poolId)
    } catch {
      // Redis unreachable or the record invalid: the sidecar's own KYVE client answers instead (counted there).
      return null
    }
  }
}

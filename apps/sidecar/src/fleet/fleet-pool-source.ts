import { type RedisClient, readPoolProgress, waitForReady } from '@ghostfleet/coordination'
import type { PoolAnswer, PoolSource } from '../control/pool-poller.js'

/** Where the pool height the sidecar shows came from. */
export type PoolView = 'tracker' | 'own'

export interface FleetPoolSourceOptions {
  redis: RedisClient
  chainId: string
  /** The sidecar's own KYVE client. */
  kyve: PoolSource
}

/**
 * The pool source of a sidecar in fleet mode, behind the controller's `PoolPoller`. The point of the tracker is
 * one KYVE request per pool per interval however many sidecars serve it, so while the tracker leads the poller
 * is fed the pool progress the tracker publishes in Redis (`readPoolProgress`), and the sidecar's own KYVE client
 * stays quiet.
 *
 * That record is not signed: anyone who can write to Redis can forge it. So it is used for what the sidecar
 * shows (/status, metrics, reports), never to justify deleting data. Whenever the sidecar needs a pool height it
 * can trust — deciding on its own after the tracker went silent (`ownOnly`), or checking a tracker's prune
 * height (`requestOwn`) — it asks KYVE itself, and {@link FleetPoolSource.ownLatest} hands out only such answers.
 * Redis unreachable, or no record published: KYVE as well, so the poller always has an answer.
 */
export class FleetPoolSource implements PoolSource {
  private ownOnly = false
  private ownOnce = false
  private lastOwn: PoolAnswer | null = null
  private lastView: PoolView | null = null
  private firstRead = true

  constructor(private readonly options: FleetPoolSourceOptions) {}

  async getPool(poolId: number): Promise<PoolAnswer> {
    if (!this.ownOnly && !this.ownOnce) {
      const published = await this.published(poolId)
      if (published !== null) {
        this.lastView = 'tracker'
        return published
      }
    }
    this.ownOnce = false
    const answer = await this.options.kyve.getPool(poolId)
    this.lastOwn = answer
    this.lastView = 'own'
    return answer
  }

  /** Every call goes to KYVE (the sidecar decides on its own), or back to the tracker's record. */
  setOwnOnly(ownOnly: boolean): void {
    this.ownOnly = ownOnly
  }

  /** The next call goes to KYVE whatever the mode (a prune height is about to be checked). */
  requestOwn(): void {
    this.ownOnce = true
  }

  /** The latest answer from the sidecar's own KYVE client (the object the poller holds), or null. */
  ownLatest(): PoolAnswer | null {
    return this.lastOwn
  }

  /** Where the last answer came from (null before the first). */
  view(): PoolView | null {
    return this.lastView
  }

  private async published(poolId: number): Promise<PoolAnswer | null> {
    const { redis } = this.options
    if (this.firstRead && redis.status !== 'ready') {
      // Right after start the connection is still being made: a fail-fast read would send this call to KYVE.
      await waitForReady(redis, 2_000)
    }
    this.firstRead = false
    try {
      const record = await readPoolProgress(redis, this.options.chainId, poolId)
      if (record === null) return null
      return {
        poolId: record.poolId,
        poolHeightKey: record.poolHeightKey,
        poolHeight: record.poolHeight,
        maxBundleSize: record.maxBundleSize,
        uploadInterval: record.uploadInterval,
        status: record.status,
        endpoint: record.endpoint,
        fetchedAt: record.fetchedAt,
      }
    } catch {
      // Redis unreachable or the record invalid: the sidecar's own KYVE client answers instead (counted there).
      return null
    }
  }
}

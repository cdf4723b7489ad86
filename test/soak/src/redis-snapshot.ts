import { Redis } from 'ioredis'
import type { DesiredToken, RedisSnapshot } from './checkers/fencing.js'
import type { Address } from './sentinel-redis.js'

/*
 * Reads the fencing-relevant keys of the coordination layout (see packages/coordination/README.md) in one
 * MULTI, so the epoch counter, the lease and the desired tokens are one consistent moment. Hash fields hold JSON.
 */

const EPOCH_KEY = 'gf:{tracker}:epoch'
const LEADER_KEY = 'gf:{tracker}:leader'
const desiredKey = (sidecarId: string) => `gf:{sc:${sidecarId}}:desired`

export class RedisObserver {
  private readonly client: Redis

  /** `where`: a Redis URL, or the sentinels and master name to ask for the primary. */
  constructor(where: string | { sentinels: Address[]; name: string }) {
    // Fail fast while Redis is down (the soak kills it on purpose); reconnect quickly after.
    const options = {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      retryStrategy: () => 200,
    }
    this.client =
      typeof where === 'string'
        ? new Redis(where, options)
        : new Redis({
            ...options,
            sentinels: where.sentinels,
            name: where.name,
            role: 'master',
            sentinelRetryStrategy: () => 200,
            // After a failover the old primary answers as a replica: ask Sentinel again.
            reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 1 : false),
          })
    this.client.on('error', () => {})
  }

  /** One snapshot, or null while Redis does not answer. */
  async snapshot(sidecarIds: readonly string[]): Promise<RedisSnapshot | null> {
    try {
      const multi = this.client.multi().info('server').info('replication').get(EPOCH_KEY).get(LEADER_KEY)
      for (const id of sidecarIds) multi.hmget(desiredKey(id), 'epoch', 'generation')
      const results = await multi.exec()
      if (results === null || results.some(([error]) => error !== null)) return null
      const [info, replication, epoch, leader, ...desired] = results.map(([, value]) => value)
      const runId = /run_id:(\w+)/.exec(String(info))?.[1]
      if (runId === undefined) return null
      // A replica that answers (the moment after a failover) is not the data set the fleet writes to.
      if (!/role:master/.test(String(replication))) return null
      const replId = /master_replid:(\w+)/.exec(String(replication))?.[1] ?? null
      const replId2 = /master_replid2:(\w+)/.exec(String(replication))?.[1] ?? null
      const tokens = new Map<string, DesiredToken>()
      desired.forEach((value, index) => {
        const id = sidecarIds[index]
        const [e, g] = value as [string | null, string | null]
        if (id === undefined || e === null || g === null) return
        const token = { epoch: Number(JSON.parse(e)), generation: Number(JSON.parse(g)) }
        if (Number.isSafeInteger(token.epoch) && Number.isSafeInteger(token.generation)) tokens.set(id, token)
      })
      return {
        runId,
        replIds: [replId, replId2].filter((id): id is string => id !== null && !/^0+$/.test(id)),
        epoch: epoch === null ? null : Number(epoch),
        leaderToken: leader === null ? null : String(leader),
        desired: tokens,
      }
    } catch {
      return null
    }
  }

  close(): void {
    this.client.disconnect()
  }
}

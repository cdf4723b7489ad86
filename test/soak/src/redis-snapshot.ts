import { Redis } from 'ioredis'
import type { DesiredToken, RedisSnapshot } from './checkers/fencing.js'

/*
 * Reads the fencing-relevant keys of the coordination layout (see packages/coordination/README.md) in one
 * MULTI, so the epoch counter, the lease and the desired tokens are one consistent moment. Hash fields hold JSON.
 */

const EPOCH_KEY = 'gf:{tracker}:epoch'
const LEADER_KEY = 'gf:{tracker}:leader'
const desiredKey = (sidecarId: string) => `gf:{sc:${sidecarId}}:desired`

export class RedisObserver {
  private readonly client: Redis

  constructor(url: string) {
    // Fail fast while Redis is down (the soak kills it on purpose); reconnect quickly after.
    this.client = new Redis(url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      retryStrategy: () => 200,
    })
    this.client.on('error', () => {})
  }

  /** One snapshot, or null while Redis does not answer. */
  async snapshot(sidecarIds: readonly string[]): Promise<RedisSnapshot | null> {
    try {
      const multi = this.client.multi().info('server').get(EPOCH_KEY).get(LEADER_KEY)
      for (const id of sidecarIds) multi.hmget(desiredKey(id), 'epoch', 'generation')
      const results = await multi.exec()
      if (results === null || results.some(([error]) => error !== null)) return null
      const [info, epoch, leader, ...desired] = results.map(([, value]) => value)
      const runId = /run_id:(\w+)/.exec(String(info))?.[1]
      if (runId === undefined) return null
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

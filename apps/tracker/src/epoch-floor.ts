/**
 * The epoch floor a candidate passes to the election (`LeaderElection({ epochFloor })`): the highest epoch it
 * knows the fleet has seen, so an epoch counter that Redis lost (restart without persistence, a Sentinel
 * failover to a replica that missed the last INCR) cannot hand out an epoch the sidecars would refuse as stale.
 *
 * Sources, all cheap enough to ask before every attempt (a standby asks every retry interval):
 * - the highest `appliedEpoch` among the newest entries of the report stream (one XREVRANGE), which every
 *   sidecar republishes every few seconds;
 * - the highest `appliedEpoch` this process saw in reports while it led;
 * - the highest epoch counter this process ever read: after Redis restarts empty, it still remembers.
 */
import { keysOf, REPORT_STREAM_FIELD, type RedisClient, readLeaderEpoch } from '@ghostfleet/coordination'

const RECENT_REPORTS = 200

export class EpochFloor {
  private highestSeen = 0

  constructor(
    private readonly redis: RedisClient,
    private readonly fromMemory: () => number,
  ) {}

  async floor(): Promise<number> {
    const counter = await readLeaderEpoch(this.redis)
    this.highestSeen = Math.max(this.highestSeen, counter, this.fromMemory(), await this.recentApplied())
    return this.highestSeen
  }

  /** Highest epoch this process has seen anywhere (for logs). */
  seen(): number {
    return this.highestSeen
  }

  private async recentApplied(): Promise<number> {
    const entries: unknown = await this.redis.xrevrange(
      keysOf(this.redis).reports,
      '+',
      '-',
      'COUNT',
      RECENT_REPORTS,
    )
    let highest = 0
    if (!Array.isArray(entries)) return highest
    for (const entry of entries) {
      const fields: unknown = Array.isArray(entry) ? entry[1] : null
      if (!Array.isArray(fields)) continue
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] !== REPORT_STREAM_FIELD) continue
        const epoch = appliedEpochOf(fields[i + 1])
        if (epoch > highest) highest = epoch
      }
    }
    return highest
  }
}

/** `appliedEpoch` of a report as JSON text; 0 when it cannot be read (the consumer validates reports, not this). */
function appliedEpochOf(text: unknown): number {
  if (typeof text !== 'string') return 0
  try {
    const value: unknown = (JSON.parse(text) as Record<string, unknown>)?.['appliedEpoch']
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0
  } catch {
    return 0
  }
}

/*
 * Fencing, from atomic snapshots of Redis (one MULTI: the server's run id, the epoch counter, the leader lease
 * and every sidecar's desired token) and from the trackers' own view of their role:
 * - a desired state that appears (a new token) under an epoch below the counter of the previous snapshot was
 *   written by a deposed leader after a newer one had been elected;
 * - one epoch never belongs to two leader tokens (the lease is acquired and the counter raised in one step);
 * - two trackers never both say they lead under the same epoch at one moment.
 * A Redis restart that lost the data (a new run id) starts a new history: the counter may start again below.
 * A Sentinel failover does not: the promoted replica has a new run id but carries the old primary's replication
 * id as its second one (PSYNC2), so the data set is the same history, minus the writes it never received, and
 * every rule holds across it (two leader tokens for one epoch, before and after, is a split brain).
 */

export interface DesiredToken {
  epoch: number
  generation: number
}

export interface RedisSnapshot {
  runId: string
  /**
   * The server's replication ids (`master_replid`, and `master_replid2` after a promotion): a server that names
   * the previous snapshot's id continues its data set. Empty for a server that never replicated.
   */
  replIds?: readonly string[]
  epoch: number | null
  leaderToken: string | null
  desired: ReadonlyMap<string, DesiredToken>
}

export interface TrackerRole {
  id: string
  role: 'leader' | 'standby'
  epoch: number | null
}

export class FencingChecker {
  private runId: string | null = null
  private replId: string | null = null
  /** Failovers judged as one history (for the report). */
  continuedAcrossFailover = 0
  private counter: number | null = null
  /** Every desired token seen per sidecar in this history: one that comes back after a failover lost the newer
   * ones is an old write, not a new one. */
  private readonly tokens = new Map<string, Set<string>>()
  private readonly leaders = new Map<number, string>()

  /** Judges one snapshot; returns how many checks it made and the problems found. */
  observeRedis(snapshot: RedisSnapshot): { checks: number; problems: string[] } {
    if (snapshot.runId !== this.runId) {
      const continues =
        this.runId !== null && this.replId !== null && (snapshot.replIds ?? []).includes(this.replId)
      this.runId = snapshot.runId
      if (continues) this.continuedAcrossFailover++
      else {
        this.counter = null
        this.tokens.clear()
        this.leaders.clear()
      }
    }
    this.replId = snapshot.replIds?.[0] ?? null
    const problems: string[] = []
    let checks = 0
    for (const [id, token] of snapshot.desired) {
      const key = `${token.epoch}:${token.generation}`
      const seen = this.tokens.get(id) ?? new Set<string>()
      this.tokens.set(id, seen)
      if (seen.has(key)) continue
      seen.add(key)
      checks++
      if (this.counter !== null && token.epoch < this.counter) {
        problems.push(
          `${id}: desired state ${key} written under epoch ${token.epoch} after the epoch counter had reached ${this.counter}`,
        )
      }
    }
    if (snapshot.epoch !== null && snapshot.leaderToken !== null) {
      checks++
      const holder = this.leaders.get(snapshot.epoch)
      if (holder === undefined) this.leaders.set(snapshot.epoch, snapshot.leaderToken)
      else if (holder !== snapshot.leaderToken) {
        problems.push(
          `epoch ${snapshot.epoch} held by two leader tokens: ${holder} and ${snapshot.leaderToken}`,
        )
      }
    }
    if (snapshot.epoch !== null) this.counter = Math.max(this.counter ?? 0, snapshot.epoch)
    return { checks, problems }
  }

  /** Trackers' roles polled at one moment. */
  observeRoles(roles: readonly TrackerRole[]): { checks: number; problems: string[] } {
    const leaders = roles.filter((r) => r.role === 'leader' && r.epoch !== null)
    const problems: string[] = []
    const byEpoch = new Map<number, string[]>()
    for (const leader of leaders) {
      const epoch = leader.epoch as number
      byEpoch.set(epoch, [...(byEpoch.get(epoch) ?? []), leader.id])
    }
    for (const [epoch, ids] of byEpoch) {
      if (ids.length > 1) problems.push(`trackers ${ids.join(' and ')} both lead under epoch ${epoch}`)
    }
    return { checks: 1, problems }
  }
}

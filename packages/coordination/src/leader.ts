import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { z } from 'zod'
import { closeRedis, duplicateRedis, type RedisClient } from './connection.js'
import { CoordinationError } from './errors/coordination-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { assertKeyPart, keysOf } from './keys.js'
import { type CoordinationLogger, errorFields, silentLogger } from './logger.js'
import { scripts } from './scripts.js'
import { waitForReady } from './wait-ready.js'
import { describeIssues } from './zod-issues.js'

/** Why a leader stopped leading. */
export type DeposedReason =
  /** A renew found the lease gone or held by another token: someone else may lead now. */
  | 'lease-lost'
  /**
   * No renew succeeded within `leaseMs − safetyMarginMs` of the last successful one (Redis unreachable or too
   * slow). The leader steps down on its own clock before the lease can expire on the server, so two trackers
   * never lead at once.
   */
  | 'renew-timeout'
  /** {@link LeaderElection.stop} was called. */
  | 'stopped'

/** Where an elector is in its life. */
export type LeaderElectionState =
  /** Created, {@link LeaderElection.start} not called yet. */
  | 'idle'
  /** Trying to take the lease every `retryIntervalMs`. */
  | 'candidate'
  /** Holding the lease, renewing it every `renewIntervalMs`. */
  | 'leader'
  /** Stopped; cannot be started again. */
  | 'stopped'

/** Options for {@link LeaderElection}. */
export interface LeaderElectionOptions {
  /** A connection to the coordination Redis; the elector makes its own fail-fast copy of it. */
  redis: RedisClient
  /** Who this candidate is (host name, pod name), shown by {@link readLeader}. Same rules as key ids. */
  candidateId: string
  /** Lease duration. A dead leader is replaced after at most this long. @default 15000 */
  leaseMs?: number
  /** How often the leader renews. @default leaseMs / 3 */
  renewIntervalMs?: number
  /**
   * The leader stops leading this long before its lease could expire on the server, measured on its own clock
   * from the moment it *sent* its last successful renew. Covers clock-rate drift between this host and Redis and
   * timer lateness. @default max(leaseMs / 5, 200)
   */
  safetyMarginMs?: number
  /** How often a candidate tries to take the lease. @default renewIntervalMs */
  retryIntervalMs?: number
  /**
   * The lowest epoch this candidate may accept minus one, asked before each attempt. After Redis lost its data
   * (no persistence, a failover to a replica that missed the last INCR) the counter restarts low; a floor taken
   * from what the fleet has applied (the highest `appliedEpoch` in the reports) keeps epochs increasing, so
   * sidecars do not reject the new leader as stale.
   * @default () => 0
   */
  epochFloor?: () => number | Promise<number>
  /** Called once per election won, with the new epoch. Must not throw. */
  onElected?: (epoch: number) => void
  /** Called once per leadership lost, with the reason and the epoch that ended. Must not throw. */
  onDeposed?: (reason: DeposedReason, epoch: number) => void
  logger?: CoordinationLogger
}

// At most an hour: far inside Node's 32-bit timer range, where a larger delay would fire after 1 ms.
const positiveMs = z
  .int('must be an integer number of ms')
  .positive('must be > 0')
  .max(3_600_000, 'must be at most 3600000 ms (1 h)')
const optionsSchema = z.object({
  leaseMs: positiveMs.min(100, 'must be at least 100 ms').default(15_000),
  renewIntervalMs: positiveMs.optional(),
  safetyMarginMs: positiveMs.optional(),
  retryIntervalMs: positiveMs.optional(),
})

/** Options to {@link LeaderElection.stop}. */
export interface StopOptions {
  /**
   * Delete the lease (compare-and-delete) so a standby takes over at once. `false` leaves it to expire, as a
   * crash would. @default true
   */
  release?: boolean
}

/**
 * Leader election over a Redis lease, with a fencing epoch.
 *
 * A candidate runs `acquireLeader-2.lua`: `SET <leader> <token> NX PX <lease>` and, in the same atomic step,
 * `INCR <epoch>`, so every election hands out a new, higher epoch. The leader renews by compare-and-set every
 * `renewIntervalMs` and stops leading by itself `safetyMarginMs` before its lease could expire, measured from the
 * send time of its last successful renew: Redis starts the lease's TTL after that moment, so the local deadline
 * always falls before the server-side expiry and the next leader cannot start before this one has stopped.
 *
 * A lease alone is not a fence (a paused process can wake up still believing it leads): every write a leader
 * makes carries its epoch and is checked by the storage (see `writeDesiredState`). Callers must also check
 * {@link isLeader} right before acting, which compares the deadline with the clock on every call.
 *
 * ```ts
 * const election = new LeaderElection({ redis, candidateId: os.hostname(),
 *   onElected: (epoch) => tracker.lead(epoch), onDeposed: (reason) => tracker.standBy(reason) })
 * election.start()
 * // … on SIGTERM:
 * await election.stop()
 * ```
 */
export class LeaderElection {
  private connection!: RedisClient
  private readonly candidateId: string
  private readonly leaseMs: number
  private readonly renewIntervalMs: number
  private readonly safetyMarginMs: number
  private readonly retryIntervalMs: number
  private readonly options: LeaderElectionOptions
  private readonly logger: CoordinationLogger
  private state: LeaderElectionState = 'idle'
  private halted = false
  private token: string | undefined
  private leaderEpoch: number | undefined
  private deadline = 0
  private timer: NodeJS.Timeout | undefined
  private deadlineTimer: NodeJS.Timeout | undefined
  private inFlight: Promise<void> | undefined
  private stopping: Promise<void> | undefined
  private readonly abort = new AbortController()

  /** @throws InvalidOptionsError when the timings leave no room for a renew before the deadline. */
  constructor(options: LeaderElectionOptions) {
    const parsed = optionsSchema.safeParse(options)
    if (!parsed.success) throw new InvalidOptionsError('LeaderElection', describeIssues(parsed.error))
    const { leaseMs } = parsed.data
    this.candidateId = assertKeyPart('candidate id', options.candidateId)
    this.leaseMs = leaseMs
    this.renewIntervalMs = parsed.data.renewIntervalMs ?? Math.floor(leaseMs / 3)
    this.safetyMarginMs = parsed.data.safetyMarginMs ?? Math.max(Math.floor(leaseMs / 5), 200)
    this.retryIntervalMs = parsed.data.retryIntervalMs ?? this.renewIntervalMs
    if (this.renewIntervalMs + this.safetyMarginMs >= leaseMs) {
      throw new InvalidOptionsError('LeaderElection', [
        `renewIntervalMs (${this.renewIntervalMs}) + safetyMarginMs (${this.safetyMarginMs}) must be less than ` +
          `leaseMs (${leaseMs}): otherwise the leader steps down before its first renew`,
      ])
    }
    this.options = options
    this.logger = options.logger ?? silentLogger
  }

  /**
   * Starts campaigning on a connection of its own (the first attempt is made as soon as it is ready). Call
   * {@link stop} to end it.
   */
  start(): void {
    if (this.state !== 'idle') throw new Error(`LeaderElection.start: already ${this.state}`)
    // Fail fast, never queue, never re-send: a renew or acquire that reaches Redis after the deadline it was sent
    // for would extend or take a lease this process no longer acts on.
    this.connection = duplicateRedis(this.options.redis, 'leader', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.renewIntervalMs,
    })
    this.state = 'candidate'
    this.schedule(0)
  }

  /**
   * Stops campaigning or leading. A leader calls `onDeposed('stopped')` and, unless `release: false`, deletes its
   * lease so a standby takes over without waiting for it to expire. Idempotent.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(options.release ?? true)
    await this.stopping
  }

  /** True while this process holds the lease and its local deadline has not passed. Check before every write. */
  isLeader(): boolean {
    return this.state === 'leader' && performance.now() < this.deadline
  }

  /** The epoch of the current leadership, or null when not leading. */
  epoch(): number | null {
    return this.isLeader() ? (this.leaderEpoch ?? null) : null
  }

  /** The lifecycle state (a leader past its deadline is still `leader` until its step-down timer runs). */
  status(): LeaderElectionState {
    return this.state
  }

  private schedule(delayMs: number): void {
    if (this.halted) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const started = performance.now()
      this.inFlight = (this.state === 'leader' ? this.renew() : this.campaign()).finally(() => {
        this.inFlight = undefined
        const interval = this.state === 'leader' ? this.renewIntervalMs : this.retryIntervalMs
        this.schedule(Math.max(0, interval - (performance.now() - started)))
      })
    }, delayMs)
  }

  private async campaign(): Promise<void> {
    if (!(await waitForReady(this.connection, this.retryIntervalMs, this.abort.signal))) return
    const keys = keysOf(this.connection)
    const token = `${this.candidateId}:${randomUUID()}`
    let result: unknown
    let sentAt: number
    try {
      const floor = this.options.epochFloor ? await this.options.epochFloor() : 0
      if (!Number.isSafeInteger(floor) || floor < 0) throw new TypeError(`epochFloor returned ${floor}`)
      sentAt = performance.now()
      result = await scripts.acquireLeader.run(
        this.connection,
        [keys.leader, keys.epoch],
        [token, this.leaseMs, floor],
      )
    } catch (error) {
      this.logger.debug(
        { candidateId: this.candidateId, ...errorFields(error) },
        'leader election attempt failed',
      )
      return
    }
    if (result === null) return
    const epoch = Number(result)
    if (this.halted || performance.now() >= sentAt + this.leaseMs - this.safetyMarginMs) {
      // Won, but stop() was called meanwhile or the answer came too late to use: hand the lease back.
      await this.release(token)
      return
    }
    this.token = token
    this.leaderEpoch = epoch
    this.state = 'leader'
    this.armDeadline(sentAt)
    this.logger.info({ candidateId: this.candidateId, epoch }, 'elected tracker leader')
    this.notify(() => this.options.onElected?.(epoch))
  }

  private async renew(): Promise<void> {
    const token = this.token
    if (token === undefined) return
    const sentAt = performance.now()
    let renewed: unknown
    try {
      renewed = await scripts.renewLeader.run(
        this.connection,
        [keysOf(this.connection).leader],
        [token, this.leaseMs],
      )
    } catch (error) {
      this.logger.warn(
        { candidateId: this.candidateId, epoch: this.leaderEpoch, ...errorFields(error) },
        'leader lease renew failed',
      )
      if (performance.now() >= this.deadline) this.stepDown('renew-timeout')
      return
    }
    if (this.state !== 'leader' || this.token !== token) return
    if (renewed === 1) this.armDeadline(sentAt)
    else this.stepDown('lease-lost')
  }

  private armDeadline(sentAt: number): void {
    this.deadline = sentAt + this.leaseMs - this.safetyMarginMs
    clearTimeout(this.deadlineTimer)
    this.deadlineTimer = setTimeout(
      () => this.stepDown('renew-timeout'),
      Math.max(0, this.deadline - performance.now()),
    )
  }

  private stepDown(reason: Exclude<DeposedReason, 'stopped'>): void {
    if (this.state !== 'leader') return
    const { epoch, token } = this.dropLeadership('candidate')
    this.logger.warn({ candidateId: this.candidateId, epoch, reason }, 'stepped down as tracker leader')
    // The lease may still be ours on the server (renews too slow, not failed): give it back so a standby need
    // not wait for it to expire. Fails at once while Redis is unreachable; then it simply expires.
    if (reason === 'renew-timeout' && token !== undefined) void this.release(token)
    this.notify(() => this.options.onDeposed?.(reason, epoch))
  }

  /** Forgets the lease (its token, epoch and deadline) and moves to `next`; returns what was forgotten. */
  private dropLeadership(next: 'candidate' | 'stopped'): { epoch: number; token: string | undefined } {
    clearTimeout(this.deadlineTimer)
    const dropped = { epoch: this.leaderEpoch ?? 0, token: this.token }
    this.state = next
    this.token = undefined
    this.leaderEpoch = undefined
    this.deadline = 0
    return dropped
  }

  private async shutdown(release: boolean): Promise<void> {
    this.halted = true
    this.abort.abort()
    clearTimeout(this.timer)
    await this.inFlight
    const wasLeader = this.state === 'leader'
    const { epoch, token } = this.dropLeadership('stopped')
    if (token !== undefined && release) await this.release(token)
    if (wasLeader) {
      this.logger.info({ candidateId: this.candidateId, epoch, released: release }, 'stopped leading')
      this.notify(() => this.options.onDeposed?.('stopped', epoch))
    }
    if (this.connection) await closeRedis(this.connection)
  }

  private async release(token: string): Promise<void> {
    try {
      await scripts.releaseLeader.run(this.connection, [keysOf(this.connection).leader], [token])
    } catch (error) {
      this.logger.debug(
        { candidateId: this.candidateId, ...errorFields(error) },
        'leader lease release failed',
      )
    }
  }

  private notify(callback: () => void): void {
    try {
      callback()
    } catch (error) {
      this.logger.error(
        { candidateId: this.candidateId, ...errorFields(error) },
        'leader election callback threw',
      )
    }
  }
}

/** The current leader as seen in Redis. */
export interface LeaderRecord {
  /** The leader's lease token (`<candidateId>:<uuid>`). */
  token: string
  /** The candidate id part of the token. */
  holder: string
  /** The leader's epoch (the epoch counter: only a successful election changes it). */
  epoch: number
  /** Milliseconds left on the lease. */
  ttlMs: number
}

/**
 * The current leader, or null when nobody holds the lease (read in one MULTI: lease, its TTL and the epoch
 * counter share the `{tracker}` hash slot). For sidecars and status pages; a leader trusts only its own
 * {@link LeaderElection.isLeader}.
 */
export async function readLeader(redis: RedisClient): Promise<LeaderRecord | null> {
  const keys = keysOf(redis)
  const replies = await redis.multi().get(keys.leader).pttl(keys.leader).get(keys.epoch).exec()
  if (replies === null) throw new CoordinationError('readLeader: transaction aborted')
  const [tokenReply, ttlReply, epochReply] = replies.map(([error, value]) => {
    if (error) throw error
    return value
  })
  if (typeof tokenReply !== 'string') return null
  const ttlMs = Number(ttlReply)
  if (!(ttlMs > 0)) return null
  const epoch = Number(epochReply)
  if (!Number.isSafeInteger(epoch)) {
    throw new CoordinationError(`readLeader: epoch counter ${keys.epoch} is not an integer`)
  }
  const colon = tokenReply.lastIndexOf(':')
  return { token: tokenReply, holder: colon === -1 ? tokenReply : tokenReply.slice(0, colon), epoch, ttlMs }
}

/**
 * The latest leader epoch handed out (0 before the first election). Only ever grows while Redis keeps its data;
 * a desired state issued under a lower epoch comes from a deposed leader.
 */
export async function readLeaderEpoch(redis: RedisClient): Promise<number> {
  const key = keysOf(redis).epoch
  const value = await redis.get(key)
  if (value === null) return 0
  const epoch = Number(value)
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new CoordinationError(`leader epoch counter ${key} is not a non-negative integer`)
  }
  return epoch
}

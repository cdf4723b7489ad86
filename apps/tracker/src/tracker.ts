/**
 * The tracker process: leader election, and while leading the report consumer, the pool pollers, the decision
 * engine and the desired-state writer; the HTTP API always.
 *
 * Lifecycle (one `Tracker` per process):
 * - `standby`: campaigns for the lease; reads nothing, polls nothing, writes nothing. It answers the fleet API
 *   from Redis on request.
 * - `taking-over` (elected): loads every report, the stored desired states and the shared pool progress, then
 *   starts the writer under the new epoch, rewrites every desired state, starts the consumer and the pollers.
 * - `leading`: reacts to each report and each pool height; sweeps deadlines once per sweep interval.
 * - deposed (lease lost, renew timeout, or a write fenced by a newer epoch): stops writing at once, stops the
 *   consumer and the pollers, and is a standby again.
 * - `stop()`: stops polling and consuming, releases the lease (a standby takes over at once), closes Redis.
 */
import { hostname } from 'node:os'
import { performance } from 'node:perf_hooks'
import {
  type BootstrapRecord,
  closeRedis,
  createRedis,
  type DeposedReason,
  type FleetKey,
  keysOf,
  LeaderElection,
  loadAllReports,
  loadBootstrapRecords,
  POOL_PROGRESS_VERSION,
  type RedisClient,
  ReportConsumer,
  readBootstrapRecord,
  readPoolProgress,
  reconnectDelay,
  waitForReady,
  writeBootstrapRecord,
  writePoolProgress,
} from '@ghostfleet/coordination'
import {
  type BootstrapRequest,
  type BootstrapStatus,
  ConfigError,
  pause,
  redactUrlsIn,
  TRACKER_PEER_CHAIN_ID,
} from '@ghostfleet/core'
import type { PoolFacts, PoolProgress } from '@ghostfleet/kyve'
import { type PeerServer, startPeerServer } from '@ghostfleet/peer'
import {
  createLogger,
  type Logger,
  type ReadinessResult,
  type StartedHttpServer,
  startHttpServer,
} from '@ghostfleet/telemetry'
import { BootstrapBook, statusOf } from './bootstrap-book.js'
import { bootstrapHandler } from './bootstrap-routes.js'
import { requestOnStandby } from './bootstrap-standby.js'
import type { ResolvedTrackerConfig } from './config.js'
import { ConsulMonitor, type ConsulSettings, NO_DISCOVERY } from './consul-discovery.js'
import { DesiredStateWriter, type Trigger } from './desired-writer.js'
import { EpochFloor } from './epoch-floor.js'
import type { FleetView, SidecarView } from './fleet-view.js'
import { createTrackerApp } from './http-api.js'
import { KyveClients } from './kyve-clients.js'
import { leaderPoolMetrics, leaderPools, leaderSidecar, leaderSidecars } from './leader-view.js'
import { TrackerMetrics } from './metrics.js'
import { PollManager } from './poll-manager.js'
import { type PoolRef, poolKey } from './pool-ref.js'
import { Reconciler } from './reconciler.js'
import { standbyFleet } from './standby-view.js'
import { loadStoredDesired } from './stored-desired.js'
import { DEFAULT_TIMING, desiredStateExpiryMs, type TrackerTiming } from './timing.js'

/** Seam for service registration (Consul): called once the HTTP server listens, and on stop. */
export interface TrackerRegistration {
  register(self: { id: string; url: string }): Promise<void>
  deregister(): Promise<void>
}

export interface TrackerOptions {
  config: ResolvedTrackerConfig
  /** This tracker's name: lease holder and consumer name. 1–64 of `A–Z a–z 0–9 . _ -`. @default `<host>-<pid>` */
  id?: string
  logger?: Logger
  /** Sign desired states. @default null (unsigned) */
  fleetKey?: FleetKey | null
  timing?: Partial<TrackerTiming>
  /** Redis key namespace. @default "gf" */
  keyPrefix?: string
  registration?: TrackerRegistration
  /**
   * Register with this Consul agent and compare its sidecars with Redis's, once per poll interval (at least
   * every 100 ms). Advisory only: nothing Consul says reaches a decision. @default null (off)
   */
  consul?: ConsulSettings | null
}

export type TrackerRole = 'standby' | 'taking-over' | 'leader'

/** The default tracker id: host name and pid, reduced to the characters a key part may hold. */
export function defaultTrackerId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 50) || 'tracker'
  return `${host}-${process.pid}`
}

export class Tracker {
  readonly id: string
  readonly metrics: TrackerMetrics
  private readonly options: TrackerOptions
  private readonly config: ResolvedTrackerConfig
  private readonly timing: TrackerTiming
  private readonly logger: Logger
  private readonly redis: RedisClient
  private readonly writer: DesiredStateWriter
  private readonly reconciler: Reconciler
  private readonly clients: KyveClients
  private readonly polls: PollManager
  private election: LeaderElection
  private readonly consumer: ReportConsumer
  private readonly epochFloor: EpochFloor
  private readonly consul: ConsulMonitor | null
  private server: StartedHttpServer | null = null
  /** The authenticated peer listener (bootstrap API), when `[peer] listen` is set. */
  private peerServer: PeerServer | null = null
  private readonly bootstraps: BootstrapBook
  /** A load of the stored bootstrap requests is in flight. */
  private mergingBootstraps = false
  private sweepTimer: NodeJS.Timeout | undefined
  /** A campaign waiting out its backoff after a resignation. */
  private campaignTimer: NodeJS.Timeout | undefined
  /** Resignations in a row, each after the one before but a leadership shorter than a lease (see `resign`). */
  private resignations = 0
  /** `performance.now()` at the last election won; null while standing by. */
  private electedAt: number | null = null
  private role: TrackerRole = 'standby'
  private epoch: number | null = null
  /** Bumped on every election and deposition, so a takeover that lost the race stops. */
  private session = 0
  private stopping: Promise<void> | undefined
  /** Pool progress shared by the previous leader, for the first polls after a takeover. */
  private seeded = new Map<string, PoolFacts>()
  /** The consumer's last stop, awaited before it starts again (it cannot run twice). */
  private consumerStopped: Promise<void> = Promise.resolve()

  private constructor(options: TrackerOptions) {
    this.options = options
    this.config = options.config
    this.timing = { ...DEFAULT_TIMING, ...options.timing }
    this.id = options.id ?? defaultTrackerId()
    this.logger = options.logger ?? createLogger({ name: 'ghostfleet-tracker' })
    const logger = this.logger
    this.redis = createRedis({
      role: 'tracker',
      url: this.config.redisUrl,
      logger,
      ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }),
    })
    this.metrics = new TrackerMetrics({
      pools: () =>
        this.role === 'leader'
          ? leaderPoolMetrics({
              reconciler: this.reconciler,
              written: (id) => this.writer.written(id),
              now: Date.now(),
              maxPoolAgeMs: this.config.maxPoolAgeMs,
            })
          : [],
      isLeader: () => this.role === 'leader',
      epoch: () => this.epoch,
      redisConnected: () => this.redis.status === 'ready',
      writeBacklog: () => this.writer.backlog(),
      discovery: () => this.consul?.view() ?? null,
      bootstraps: () => (this.role === 'leader' ? this.bootstraps.counts() : null),
    })
    this.bootstraps = new BootstrapBook({
      ttlMs: this.config.bootstrap.requestTtlMs,
      persist: (record) => {
        writeBootstrapRecord(this.redis, record, { now: Date.now() }).catch((error: unknown) => {
          logger.warn(
            { bootstrapId: record.bootstrapId, err: String(error) },
            'could not store a bootstrap request (a tracker taking over would not see this change)',
          )
        })
      },
      onEnd: (record) => {
        if (record.state === 'ready' || record.state === 'failed' || record.state === 'expired') {
          this.metrics.bootstrapEnded(record.state)
        }
        logger.info(
          {
            bootstrapId: record.bootstrapId,
            state: record.state,
            donor: record.donor,
            requestedBy: record.requestedBy,
            checkpointId: record.checkpointId,
            detail: record.detail,
            durationMs: record.updatedAt - record.createdAt,
          },
          'bootstrap request ended',
        )
      },
    })
    this.writer = new DesiredStateWriter({
      redis: this.redis,
      fleetKey: options.fleetKey ?? null,
      maxInFlight: this.timing.maxWritesInFlight,
      logger,
      now: Date.now,
      monotonic: () => performance.now(),
      onOutcome: (outcome, trigger) => this.metrics.write(outcome, trigger),
      onWritten: (state, trigger, latency) => {
        this.reconciler.noteWritten(state)
        if (trigger !== null && latency !== null) this.metrics.decision(trigger.kind, latency)
      },
      onFenced: () => this.resign('fenced by a newer epoch'),
      onForged: (forged, sidecarId) => {
        this.metrics.forgedDesiredState()
        logger.warn(
          { sidecarId, forgedEpoch: forged.epoch, forgedGeneration: forged.generation, epoch: this.epoch },
          'overwrote a desired state stored under an epoch no election handed out (written straight into Redis)',
        )
      },
      expireAfterMs: desiredStateExpiryMs(this.timing),
    })
    this.clients = new KyveClients({
      deadlineMs: Math.max(1000, Math.min(30_000, this.config.pollIntervalMs)),
      requestTimeoutMs: Math.max(500, Math.min(5_000, this.config.pollIntervalMs)),
      onRequest: (chainId, event) => this.metrics.kyveRequest(chainId, event),
    })
    this.polls = new PollManager({
      config: this.config,
      clients: this.clients,
      metrics: this.metrics,
      logger,
      onProgress: (pool, progress) => this.onPoolProgress(pool, progress),
      onError: (pool, message) => this.reconciler.handlePollError(pool, message),
    })
    this.reconciler = new Reconciler({
      config: this.config,
      timing: this.timing,
      writer: this.writer,
      metrics: this.metrics,
      logger,
      onPoolAdded: (pool) => {
        const seeded = this.seeded.get(pool.key)
        const firstPollAt = seeded === undefined ? undefined : seeded.fetchedAt + this.config.pollIntervalMs
        this.polls.ensure(pool.ref, firstPollAt)
      },
      onPoolRemoved: (pool) => this.polls.remove(pool.ref),
      onEpochBehindFleet: (sidecarId, appliedEpoch) => {
        logger.warn(
          { sidecarId, appliedEpoch, epoch: this.epoch },
          'a sidecar applied a newer epoch than this leader writes under (the epoch counter went back)',
        )
        this.resign('the fleet applied a newer epoch')
      },
      bootstraps: this.bootstraps,
      onForget: (ids) => {
        this.redis.zrem(keysOf(this.redis).sidecars, ...ids).catch((error: unknown) => {
          logger.warn({ err: String(error) }, 'could not remove forgotten sidecars from the index')
        })
      },
    })
    this.consul =
      options.consul === undefined || options.consul === null
        ? null
        : new ConsulMonitor({
            ...options.consul,
            intervalMs: Math.max(100, Math.round(this.config.pollIntervalMs)),
            reportingIds: async () =>
              (await this.fleet()).sidecars.filter((s) => !s.silent).map((s) => s.sidecarId),
            logger,
          })
    this.epochFloor = new EpochFloor(this.redis, () => this.reconciler.maxAppliedEpoch())
    this.election = this.newElection()
    this.consumer = new ReportConsumer({
      redis: this.redis,
      consumerName: this.id,
      onReport: (report) => this.reconciler.handleReport(report, { kind: 'report', at: performance.now() }),
      onReject: () => this.metrics.report('rejected'),
      // Also bounds how long a stop waits for a batch whose acknowledgement is stuck on a dead connection.
      blockMs: 1_000,
      logger,
    })
  }

  private newElection(): LeaderElection {
    return new LeaderElection({
      redis: this.redis,
      candidateId: this.id,
      leaseMs: this.config.leaseTtlMs,
      epochFloor: () => this.epochFloor.floor(),
      onElected: (epoch) => this.onElected(epoch),
      onDeposed: (reason, epoch) => this.onDeposed(reason, epoch),
      logger: this.logger,
    })
  }

  /**
   * Redis refused a write because a newer epoch exists although this process still holds a lease (the epoch
   * counter moved without an election of ours: restored data, a manual change), or a sidecar applied a newer
   * epoch than ours. Stop leading at once, hand the lease back and campaign again, so the fleet is never left
   * with a leader that does not write.
   *
   * The first resignation campaigns again at once. One that follows a leadership shorter than a lease means
   * something keeps fencing every leader: the campaign then waits the reconnect curve's capped, jittered delay
   * (1 s … 20 s), so a tracker cannot resign and campaign in a tight loop.
   */
  private resign(reason: string): void {
    const ledForMs = this.electedAt === null ? Number.POSITIVE_INFINITY : performance.now() - this.electedAt
    this.standDown(reason)
    if (this.stopping !== undefined) return
    this.resignations = ledForMs < this.config.leaseTtlMs ? this.resignations + 1 : 1
    const delayMs = this.resignations === 1 ? 0 : reconnectDelay(this.resignations - 1)
    this.logger.warn({ reason, resignations: this.resignations, campaignInMs: delayMs }, 'resigning')
    const old = this.election
    this.election = this.newElection()
    void old.stop({ release: true }).then(() => {
      if (this.stopping !== undefined) return
      clearTimeout(this.campaignTimer)
      this.campaignTimer = setTimeout(() => {
        this.campaignTimer = undefined
        if (this.stopping === undefined) this.election.start()
      }, delayMs)
    })
  }

  /**
   * Starts a tracker: HTTP server up (it answers while Redis is still unreachable), then campaigning.
   * @throws ListenError when the listen address cannot be bound.
   */
  static async start(options: TrackerOptions): Promise<Tracker> {
    const tracker = new Tracker(options)
    try {
      await tracker.begin()
    } catch (error) {
      await tracker.stop()
      throw error
    }
    return tracker
  }

  private async begin(): Promise<void> {
    const app = createTrackerApp(
      {
        fleet: () => this.fleet(),
        sidecar: (id) => this.sidecar(id),
        readiness: () => this.readiness(),
        bootstraps: () => this.bootstrapList(),
      },
      this.metrics.registry,
      this.logger,
    )
    this.server = await startHttpServer(app, this.config.listen)
    this.logger.info({ url: this.server.url, id: this.id }, 'tracker HTTP API listening')
    await this.startPeerListener()
    await this.options.registration?.register({ id: this.id, url: this.server.url })
    this.consul?.start({ id: this.id, url: this.server.url })
    this.sweepTimer = setInterval(() => {
      this.reconciler.sweep()
      this.mergeStoredBootstraps()
    }, this.timing.sweepIntervalMs)
    this.election.start()
  }

  /**
   * The bootstrap API on an authenticated peer listener (off unless `[peer] listen` is set). Answers are signed
   * with the tracker's id as responder and `TRACKER_PEER_CHAIN_ID` as chain id: the tracker serves every chain.
   * @throws ConfigError when no fleet key is configured; PeerListenError when the address cannot be bound.
   */
  private async startPeerListener(): Promise<void> {
    const { listen, ratePerSecond, burst } = this.config.peer
    if (listen === undefined) return
    const key = this.options.fleetKey ?? null
    if (key === null) {
      throw new ConfigError(
        '[peer] listen is set but there is no fleet key: the peer listener authenticates with it',
      )
    }
    this.peerServer = await startPeerServer({
      listen,
      key,
      sidecarId: this.id,
      chainId: TRACKER_PEER_CHAIN_ID,
      handler: bootstrapHandler({
        request: (request) => this.requestBootstrap(request),
        status: (id) => this.bootstrapStatus(id),
        onOutcome: (outcome) => this.metrics.bootstrapApiRequest(outcome),
      }),
      limits: { perSender: { ratePerSecond, burst }, maxConcurrent: 16 },
      logger: this.logger,
      onRequest: (event) => this.metrics.peerRequest(event.outcome),
    })
    this.logger.info(
      { url: this.peerServer.url, id: this.id },
      'tracker peer listener (bootstrap API) listening',
    )
  }

  /** The leader decides at once; any other tracker checks against Redis and stores it for the leader. */
  private async requestBootstrap(
    request: BootstrapRequest,
  ): Promise<{ ok: true; status: BootstrapStatus } | { ok: false; reason: string }> {
    const leading = this.role === 'leader'
    let answer: Awaited<ReturnType<typeof requestOnStandby>>
    try {
      answer = leading
        ? this.reconciler.requestBootstrap(request, { kind: 'report', at: performance.now() })
        : await requestOnStandby(this.redis, this.config, request, Date.now())
    } catch (error) {
      // Redis unreachable or a stored record unusable: a 503 the new host retries, not an opaque 500.
      const reason = redactUrlsIn(error instanceof Error ? error.message : String(error))
      this.logger.warn(
        { requestedBy: request.requestedBy, err: reason },
        'could not take a bootstrap request',
      )
      return { ok: false, reason: `this tracker cannot read the fleet from Redis now (${reason})` }
    }
    if (answer.ok && !leading) {
      this.logger.info(
        { bootstrapId: answer.record.bootstrapId, requestedBy: request.requestedBy },
        'bootstrap request stored for the leader',
      )
    }
    return answer.ok ? { ok: true, status: statusOf(answer.record) } : answer
  }

  /**
   * While leading, takes in the requests other trackers stored (at most one load at a time, once per sweep):
   * the next sweep plans their pools.
   */
  private mergeStoredBootstraps(): void {
    if (this.role !== 'leader' || this.mergingBootstraps) return
    this.mergingBootstraps = true
    loadBootstrapRecords(this.redis, Date.now())
      .then(({ records }) => {
        if (this.role !== 'leader') return
        const added = this.bootstraps.merge(records, Date.now())
        if (added > 0) this.logger.info({ added }, 'took in bootstrap requests another tracker stored')
      })
      .catch((error: unknown) => {
        this.logger.debug({ err: String(error) }, 'could not read stored bootstrap requests')
      })
      .finally(() => {
        this.mergingBootstraps = false
      })
  }

  /** Every stored request: the leader's book, or Redis on a standby. */
  private async bootstrapList(): Promise<BootstrapRecord[]> {
    if (this.role === 'leader') return this.bootstraps.all()
    const { records } = await loadBootstrapRecords(this.redis, Date.now())
    return records.sort((a, b) => b.createdAt - a.createdAt)
  }

  /** A request's status: the leader's own record, else the one in Redis (a standby, or after a failover). */
  async bootstrapStatus(bootstrapId: string): Promise<BootstrapStatus | null> {
    if (this.role === 'leader') {
      const record = this.bootstraps.get(bootstrapId)
      if (record !== undefined) return statusOf(record)
    }
    const stored = await readBootstrapRecord(this.redis, bootstrapId)
    return stored === null ? null : statusOf(stored)
  }

  /** The HTTP API's base URL. */
  get url(): string {
    return this.server?.url ?? ''
  }

  /** The peer listener's base URL (bootstrap API), or null when `[peer] listen` is not set. */
  get peerUrl(): string | null {
    return this.peerServer?.url ?? null
  }

  currentRole(): TrackerRole {
    return this.role
  }

  currentEpoch(): number | null {
    return this.epoch
  }

  /** Stops gracefully: no more polls or reads, the lease released for a standby, Redis closed. Idempotent. */
  async stop(): Promise<void> {
    this.stopping ??= this.shutdown()
    await this.stopping
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.sweepTimer)
    clearTimeout(this.campaignTimer)
    this.polls.stopAll()
    await this.consumer.stop()
    await this.consumerStopped
    // Releases the lease (compare-and-delete) and calls onDeposed('stopped'), which stops the writer.
    await this.election.stop({ release: true })
    this.standDown('stopping')
    this.clients.closeAll()
    await this.consul?.stop()
    try {
      await this.options.registration?.deregister()
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'deregistration failed')
    }
    await this.server?.close()
    await this.peerServer?.close()
    await closeRedis(this.redis)
    this.logger.info({ id: this.id }, 'tracker stopped')
  }

  private onElected(epoch: number): void {
    this.session += 1
    this.role = 'taking-over'
    this.epoch = epoch
    this.electedAt = performance.now()
    this.metrics.leadership('elected')
    void this.takeOver(epoch, this.session)
  }

  private onDeposed(reason: DeposedReason, epoch: number): void {
    this.logger.warn({ reason, epoch }, 'no longer leading: standing by')
    this.metrics.leadership('deposed')
    this.standDown(reason)
  }

  /** Stops everything a leader does, at once. Safe to call in any state. */
  private standDown(reason: string): void {
    this.session += 1
    const wasLeading = this.role !== 'standby'
    this.role = 'standby'
    this.epoch = null
    this.electedAt = null
    this.writer.halt()
    this.reconciler.end()
    this.polls.stopAll()
    this.consumerStopped = this.consumer.stop()
    if (wasLeading && reason !== 'stopping') this.logger.info({ reason }, 'standing by')
  }

  /**
   * Rebuilds the fleet from Redis and starts leading under `epoch`. Retries while Redis is unreachable, for as
   * long as this process still holds the lease.
   */
  private async takeOver(epoch: number, session: number): Promise<void> {
    // Only a deposition (or a newer election) ends this session. The lease's local deadline may pass for a moment
    // while a renew is late (a loaded host fires timers late): then a renew extends it or the step-down ends the
    // session. Returning on that moment left a tracker holding the lease without leading (the chaos soak saw
    // 3 of 27 elections end so, and sidecars deciding alone meanwhile).
    const current = () => session === this.session
    for (let attempt = 1; ; attempt += 1) {
      if (!current()) return
      try {
        const fleet = await loadAllReports(this.redis)
        const ids = [...fleet.reports.keys(), ...fleet.silent.map((s) => s.sidecarId)]
        const stored = await loadStoredDesired(this.redis, ids, this.options.fleetKey ?? null, this.logger)
        const generations = new Map(stored.generations)
        for (const report of fleet.reports.values()) {
          generations.set(
            report.sidecarId,
            Math.max(generations.get(report.sidecarId) ?? 0, report.appliedGeneration),
          )
        }
        const progress = await this.loadSharedProgress([...fleet.reports.values()])
        const bootstraps = await loadBootstrapRecords(this.redis, Date.now())
        if (!current()) return
        for (const rejected of bootstraps.rejected) {
          this.logger.warn({ key: rejected.key, reason: rejected.reason }, 'bootstrap record rejected')
        }
        for (const rejected of fleet.rejected) {
          this.logger.warn({ sidecarId: rejected.sidecarId, reason: rejected.reason }, 'report hash rejected')
        }
        await this.consumerStopped
        if (!current()) return
        if (!this.election.isLeader()) {
          // Not past a renew yet: load again once it is (what was loaded may be older than the lease).
          await pause(reconnectDelay(attempt))
          continue
        }
        this.seeded = progress
        this.writer.start(epoch, generations)
        this.reconciler.begin({ fleet, stored: stored.states, progress, bootstraps: bootstraps.records })
        this.consumer.start()
        this.role = 'leader'
        this.logger.info({ epoch, id: this.id }, 'leading the fleet')
        return
      } catch (error) {
        if (!current()) return
        this.logger.warn({ epoch, err: String(error) }, 'takeover failed; retrying when Redis is ready')
        await waitForReady(this.redis, this.config.leaseTtlMs)
        if (this.redis.status === 'ready' && current()) {
          // Redis is up but the load failed anyway: back off so a persistent error does not spin.
          await pause(reconnectDelay(attempt))
        }
      }
    }
  }

  /** The pool progress records the previous leader shared, when still fresh enough to decide on. */
  private async loadSharedProgress(
    reports: ReadonlyArray<{ chainId: string; poolId: number }>,
  ): Promise<Map<string, PoolFacts>> {
    const pools = new Map<string, PoolRef>()
    for (const report of reports)
      pools.set(poolKey(report), { chainId: report.chainId, poolId: report.poolId })
    const result = new Map<string, PoolFacts>()
    const now = Date.now()
    await Promise.all(
      [...pools.entries()].map(async ([key, pool]) => {
        try {
          const record = await readPoolProgress(this.redis, pool.chainId, pool.poolId)
          if (record !== null && now - record.fetchedAt <= this.config.maxPoolAgeMs) {
            result.set(key, record)
          }
        } catch (error) {
          this.logger.warn(
            { pool: key, err: String(error) },
            'shared pool progress unreadable; polling afresh',
          )
        }
      }),
    )
    return result
  }

  private onPoolProgress(pool: PoolRef, progress: PoolProgress): void {
    const trigger: Trigger = { kind: 'pool', at: performance.now() }
    const epoch = this.epoch
    if (this.role !== 'leader' || epoch === null) return
    this.reconciler.handlePoolProgress(pool, progress, trigger)
    // The record keeps the PoolFacts part of the answer (writePoolProgress drops the other fields).
    writePoolProgress(
      this.redis,
      { ...progress, v: POOL_PROGRESS_VERSION, chainId: pool.chainId, epoch },
      { expireAfterMs: this.config.maxPoolAgeMs },
    ).catch((error: unknown) => {
      this.logger.warn({ pool: poolKey(pool), err: String(error) }, 'could not share pool progress')
    })
  }

  private readiness(): ReadinessResult {
    const body = {
      id: this.id,
      role: this.role === 'leader' ? 'leader' : 'standby',
      phase: this.role,
      epoch: this.epoch,
      redis: this.redis.status,
    }
    if (this.redis.status !== 'ready') return { status: 503, body: { status: 'redis unavailable', ...body } }
    return { status: 200, body: { status: 'ready', ...body } }
  }

  private header(now: number, orphans: string[]): FleetView['tracker'] {
    const quiet = this.reconciler.quietPeriodEnd()
    return {
      id: this.id,
      role: this.role === 'leader' ? 'leader' : 'standby',
      epoch: this.epoch,
      redis: this.redis.status,
      quietUntil: this.role === 'leader' && quiet > now ? quiet : null,
      orphans,
      discovery: this.consul?.view() ?? { ...NO_DISCOVERY },
      generatedAt: now,
    }
  }

  /** The whole fleet: from memory while leading, from Redis while standing by. */
  async fleet(): Promise<FleetView> {
    const now = Date.now()
    if (this.role === 'leader') {
      const source = {
        reconciler: this.reconciler,
        written: (id: string) => this.writer.written(id),
        now,
        maxPoolAgeMs: this.config.maxPoolAgeMs,
      }
      return {
        tracker: this.header(now, [...this.reconciler.orphans.keys()]),
        pools: leaderPools(source),
        sidecars: leaderSidecars(source),
      }
    }
    const standby = await standbyFleet(this.redis, this.config, now)
    return { tracker: this.header(now, []), pools: standby.pools, sidecars: standby.sidecars }
  }

  async sidecar(sidecarId: string): Promise<SidecarView | null> {
    if (this.role === 'leader') {
      const entry = this.reconciler.sidecars.get(sidecarId)
      if (entry === undefined) return null
      return leaderSidecar(
        {
          reconciler: this.reconciler,
          written: (id) => this.writer.written(id),
          now: Date.now(),
          maxPoolAgeMs: this.config.maxPoolAgeMs,
        },
        entry,
      )
    }
    const standby = await standbyFleet(this.redis, this.config, Date.now())
    return standby.sidecars.find((s) => s.sidecarId === sidecarId) ?? null
  }
}

import {
  closeRedis,
  createRedis,
  type DesiredStateSubscription,
  type ReconnectOptions,
  type RedisClient,
  subscribeDesiredState,
} from '@ghostfleet/coordination'
import type { MemberActivity, Thresholds } from '@ghostfleet/core'
import type { Logger, Registry } from '@ghostfleet/telemetry'
import type { ControllerSnapshot } from '../control/controller.js'
import { type LocalDeciderOptions, LocalDecisionSource } from '../control/local-decider.js'
import type { PoolRefresher, PoolSource } from '../control/pool-refresher.js'
import type { StateKeeper } from '../state/state-keeper.js'
import { createFleetMetrics, type FleetMetrics } from './fleet-metrics.js'
import { FleetPoolSource } from './fleet-pool-source.js'
import type { FleetSettings } from './fleet-settings.js'
import { buildSidecarReport } from './report-builder.js'
import { ReportSequence } from './report-sequence.js'
import { Reporter } from './reporter.js'
import { TrackerDecisionSource } from './tracker-decision-source.js'

export interface FleetModeOptions {
  settings: FleetSettings
  chainId: string
  poolId: number
  thresholds: Thresholds
  version: string
  /** The sidecar's own KYVE source. */
  kyve: PoolSource
  /** The sidecar's metrics registry (fleet metrics join it). */
  registry: Registry
  log: Logger
  /** Reconnect delays of the Redis connection (tests shorten them). @default the package's 1–20 s */
  reconnect?: Partial<ReconnectOptions>
}

/** What fleet mode reads and triggers once the supervision loop runs, handed over by its owner at `start`. */
export interface FleetPorts {
  /** Read at each report: the supervision loop's snapshot and its availability activity. */
  observe(): { snapshot: ControllerSnapshot; activity: MemberActivity }
  /** Runs the next tick now: the tracker published a new desired state for this sidecar. */
  wake(): void
  /** Where this sidecar's peer listener serves siblings, carried in every report; absent: it serves none. */
  peerUrl?: string
}

export interface DecisionDeps {
  pool: Pick<PoolRefresher, 'take'>
  state: Pick<StateKeeper, 'get' | 'update'>
  intervalMs: number
}

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString()

/**
 * The sidecar's fleet mode, enabled by a Redis URL: one fail-fast Redis connection, the pool source that reads
 * the tracker's published pool progress ({@link FleetPoolSource}), the tracker-driven decision source with its
 * local fallback ({@link TrackerDecisionSource}), the reporter, and the wake-up subscription. It owns all of them
 * and closes them itself ({@link FleetMode.close}); the `Sidecar` calls that after the node stopped, so the last
 * reports show the stop.
 */
export class FleetMode {
  readonly redis: RedisClient
  readonly poolSource: FleetPoolSource
  readonly metrics: FleetMetrics
  private decisions: TrackerDecisionSource | null = null
  private reporter: Reporter | null = null
  private subscription: DesiredStateSubscription | null = null
  private state: DecisionDeps['state'] | null = null
  private closing: Promise<void> | null = null

  constructor(private readonly options: FleetModeOptions) {
    const { settings, log } = options
    this.metrics = createFleetMetrics(options.registry)
    this.redis = createRedis({
      role: 'sidecar',
      url: settings.redisUrl,
      ...(settings.redisCredentials ?? {}),
      logger: log,
      ...(options.reconnect === undefined ? {} : { reconnect: options.reconnect }),
      onStatus: (event) => {
        if (event.connection === 'sidecar') this.metrics.redisConnected.set(event.status === 'ready' ? 1 : 0)
      },
    })
    this.poolSource = new FleetPoolSource({ redis: this.redis, chainId: options.chainId, kyve: options.kyve })
  }

  /** The id this sidecar reports under (for Consul registration and logs). */
  get sidecarId(): string {
    return this.options.settings.sidecarId
  }

  /**
   * The controller's decision source. `localOptions` are the standalone decider's; its pool view is narrowed to
   * answers of the sidecar's own KYVE client (the tracker's published record is not trusted for decisions).
   */
  decisionSource(localOptions: LocalDeciderOptions, deps: DecisionDeps): TrackerDecisionSource {
    const local = new LocalDecisionSource(localOptions)
    this.state = deps.state
    this.decisions = new TrackerDecisionSource({
      redis: this.redis,
      sidecarId: this.options.settings.sidecarId,
      fleetKey: this.options.settings.fleetKey,
      trackerTimeoutMs: this.options.settings.trackerTimeoutMs,
      local,
      takeOwnPool: (waitMs) => deps.pool.take(waitMs, this.poolSource.own),
      poolSource: this.poolSource,
      state: deps.state,
      metrics: this.metrics,
      log: this.options.log,
      maxPoolAgeMs: localOptions.maxPoolAgeMs,
      pruning: localOptions.pruning,
      ownViewWaitMs: deps.intervalMs,
    })
    return this.decisions
  }

  /** Starts reporting and listening for wake-ups (once the supervision loop runs). */
  start(ports: FleetPorts): void {
    const { settings, log } = this.options
    let lastKnown: { height: number; base: number } | null = null
    const sequence = new ReportSequence()
    this.reporter = new Reporter({
      redis: this.redis,
      intervalMs: settings.reportIntervalMs,
      metrics: this.metrics,
      log,
      build: () => {
        const { snapshot, activity } = ports.observe()
        if (snapshot.node?.reachable)
          lastKnown = { height: snapshot.node.appHeight, base: snapshot.node.base }
        return buildSidecarReport({
          identity: {
            sidecarId: settings.sidecarId,
            chainId: this.options.chainId,
            poolId: this.options.poolId,
            thresholds: this.options.thresholds,
            version: this.options.version,
            ...(ports.peerUrl === undefined ? {} : { peerUrl: ports.peerUrl }),
          },
          snapshot,
          activity,
          decidedBy: this.decisions?.name ?? 'local',
          lastKnown,
          now: Date.now(),
          position: sequence.next(),
        })
      },
    })
    this.reporter.start()
    this.subscription = subscribeDesiredState(this.redis, settings.sidecarId, ports.wake, {
      logger: log,
    })
    log.info(
      {
        redis: settings.redisUrlRedacted,
        redisUser: settings.redisUser ?? 'default',
        sidecarId: settings.sidecarId,
        sidecarIdFrom: settings.sidecarIdSource,
        signing: settings.fleetKey !== null,
        reportIntervalSeconds: settings.reportIntervalMs / 1000,
        trackerTimeoutSeconds: settings.trackerTimeoutMs / 1000,
      },
      `fleet mode: reporting to Redis as ${settings.sidecarId}; following the tracker's desired state` +
        (settings.fleetKey === null
          ? ' (signatures not checked: no GHOSTFLEET_FLEET_KEY)'
          : ' (signed with the fleet key)'),
    )
  }

  /** The `fleet` section of /status. */
  status(): Record<string, unknown> {
    const { settings } = this.options
    const link = this.decisions?.status() ?? null
    const state = this.state?.get() ?? null
    const reports = this.reporter?.status() ?? null
    return {
      enabled: true,
      sidecarId: settings.sidecarId,
      sidecarIdFrom: settings.sidecarIdSource,
      redis: settings.redisUrlRedacted,
      redisUser: settings.redisUser ?? 'default',
      connected: this.redis.status === 'ready',
      signatures: settings.fleetKey === null ? 'not checked' : 'required',
      reportIntervalSeconds: settings.reportIntervalMs / 1000,
      trackerTimeoutSeconds: settings.trackerTimeoutMs / 1000,
      decidedBy: link?.decidedBy ?? 'tracker',
      decidedBySince: iso(link?.decidedBySince),
      lastTrackerContactAt: iso(link?.lastContactAt),
      leader: link?.leader ?? null,
      applied: state === null ? null : { epoch: state.appliedEpoch, generation: state.appliedGeneration },
      lastApplied: link?.lastApplied == null ? null : { ...link.lastApplied, at: iso(link.lastApplied.at) },
      desired: link?.desired == null ? null : { ...link.desired, issuedAt: iso(link.desired.issuedAt) },
      lastRefusal: link?.lastRefusal == null ? null : { ...link.lastRefusal, at: iso(link.lastRefusal.at) },
      lastReadProblem: link?.lastReadProblem ?? null,
      poolView: this.poolSource.view(),
      reports:
        reports === null
          ? null
          : {
              published: reports.published,
              failed: reports.failed,
              lastPublishedAt: iso(reports.lastPublishedAt),
              lastFailureAt: iso(reports.lastFailureAt),
              lastError: reports.lastError,
            },
    }
  }

  /** Stops reporting and listening, closes Redis. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.reporter?.stop()
      await this.subscription?.close().catch(() => undefined)
      await closeRedis(this.redis).catch(() => undefined)
    })()
    return this.closing
  }
}

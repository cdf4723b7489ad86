/**
 * The tracker's Prometheus metrics.
 *
 * Label cardinality is bounded by the fleet's pools, not its sidecars: `chain` and `pool` (a few dozen series per
 * metric even for big fleets), `endpoint` (the configured KYVE endpoints), and small fixed enums (`mode`, `stat`,
 * `outcome`, `trigger`, `kind`). No metric carries a sidecar id: 10,000 sidecars would mean 10,000 series per
 * metric on the tracker alone, and every sidecar already exports its own heights and mode on its own `/metrics`
 * (labelled by the scrape target). Per-sidecar detail is in the fleet API (`/v1/sidecars/:id`).
 *
 * Pool gauges are computed at scrape time from the tracker's state, so a pool that disappears leaves no stale
 * series behind.
 */
import type { DesiredWriteStatus } from '@ghostfleet/coordination'
import { BOOTSTRAP_STATES, type BootstrapState } from '@ghostfleet/core'
import type { RequestEvent } from '@ghostfleet/kyve'
import {
  type Counter,
  createCounter,
  createGauge,
  createHistogram,
  createMetricsRegistry,
  exponentialBuckets,
  type Gauge,
  type Histogram,
  type Registry,
} from '@ghostfleet/telemetry'
import type { CommandKind } from './commands.js'
import type { TriggerKind } from './desired-writer.js'

/** One pool's figures at scrape time. */
export interface PoolMetricsSnapshot {
  chainId: string
  poolId: number
  poolHeight: number | null
  /** Seconds since the pool height was fetched; null when never. */
  poolHeightAgeSeconds: number | null
  sidecarsByMode: { normal: number; ghost: number }
  silent: number
  minNodeHeight: number | null
  maxNodeHeight: number | null
  /** node − pool over the reporting sidecars. */
  minLag: number | null
  maxLag: number | null
  unavailable: number
  maxUnavailable: number
  commandsInFlight: number
  /** The fewest available sidecars holding any one height of the pool's cache window; null when unknown. */
  windowMinHolders: number | null
}

/** What the metrics read at scrape time. */
export interface TrackerMetricsSource {
  pools(): PoolMetricsSnapshot[]
  isLeader(): boolean
  epoch(): number | null
  redisConnected(): boolean
  writeBacklog(): number
  /** Consul against Redis; null (or absent) when Consul is not configured. */
  discovery?(): DiscoveryMetricsView | null
  /** Live bootstrap requests by state (leader only); null (or absent) while standing by. */
  bootstraps?(): Readonly<Record<BootstrapState, number>> | null
}

/** How the bootstrap API answered (`ghostfleet_tracker_bootstrap_api_requests_total`). */
export const BOOTSTRAP_API_OUTCOMES = [
  'accepted',
  'no-donor',
  'status',
  'not-found',
  'invalid',
  'forbidden',
  'no-route',
] as const
export type BootstrapApiOutcome = (typeof BOOTSTRAP_API_OUTCOMES)[number]

/** Consul's list of sidecars against the sidecars reporting on Redis. */
export interface DiscoveryMetricsView {
  consul: string | null
  consulUp: boolean | null
  registeredButSilent: readonly string[]
  reportingButUnregistered: readonly string[]
}

export type CommandOutcome = 'issued' | 'done' | 'timeout' | 'refused' | 'dropped'

/** How a bootstrap request ended (`ghostfleet_tracker_bootstrap_requests_ended_total`). */
export type BootstrapEnd = 'ready' | 'failed' | 'expired'

export class TrackerMetrics {
  readonly registry: Registry
  private readonly kyveRequests: Counter<'chain' | 'endpoint' | 'outcome'>
  private readonly kyveRequestSeconds: Histogram<'chain' | 'outcome'>
  private readonly polls: Counter<'chain' | 'pool' | 'result'>
  private readonly decisionLatency: Histogram<'trigger'>
  private readonly writes: Counter<'outcome' | 'trigger'>
  private readonly reports: Counter<'result'>
  private readonly commands: Counter<'kind' | 'outcome'>
  private readonly elections: Counter<'event'>
  private readonly forged: Counter
  private readonly bootstrapApi: Counter<'outcome'>
  private readonly bootstrapEnds: Counter<'state'>
  private readonly peerRequests: Counter<'outcome'>

  constructor(source: TrackerMetricsSource, registry?: Registry) {
    this.registry = registry ?? createMetricsRegistry({ defaultLabels: { service: 'tracker' } })
    const r = this.registry
    const poolLabels = ['chain', 'pool'] as const
    const scalarGauge = (name: string, help: string, value: () => number) =>
      createGauge(r, {
        name,
        help,
        collect(this: Gauge) {
          this.set(value())
        },
      })
    // Labelled with the agent's URL (one series) so that without Consul the series are absent rather than 0:
    // "no Consul" must not read as "Consul down". Before the first listing they are absent too.
    const consulGauge = (name: string, help: string, value: (view: DiscoveryMetricsView) => number) =>
      createGauge(r, {
        name,
        help,
        labelNames: ['consul'],
        collect(this: Gauge<'consul'>) {
          this.reset()
          const view = source.discovery?.() ?? null
          if (view !== null && view.consul !== null && view.consulUp !== null) {
            this.set({ consul: view.consul }, value(view))
          }
        },
      })
    /**
     * Per pool one series, or with `label` one per key of the record `value` returns (`stat`: min/max, `mode`);
     * a null value (not known yet) has no series.
     */
    type PoolValue = number | null | Readonly<Record<string, number | null>>
    const poolGauge = (
      name: string,
      help: string,
      value: (pool: PoolMetricsSnapshot) => PoolValue,
      label?: string,
    ) =>
      createGauge(r, {
        name,
        help,
        labelNames: label === undefined ? poolLabels : [...poolLabels, label],
        collect(this: Gauge) {
          this.reset()
          for (const pool of source.pools()) {
            const labels = { chain: pool.chainId, pool: String(pool.poolId) }
            const v = value(pool)
            if (typeof v === 'number') this.set(labels, v)
            else if (v !== null && label !== undefined) {
              for (const [key, n] of Object.entries(v))
                if (n !== null) this.set({ ...labels, [label]: key }, n)
            }
          }
        },
      })
    scalarGauge(
      'ghostfleet_tracker_leader',
      '1 while this tracker leads (writes desired states), 0 while it stands by.',
      () => (source.isLeader() ? 1 : 0),
    )
    scalarGauge(
      'ghostfleet_tracker_leader_epoch',
      'The leader epoch this tracker writes under; 0 while standing by.',
      () => source.epoch() ?? 0,
    )
    scalarGauge('ghostfleet_tracker_redis_connected', '1 while the main Redis connection is ready.', () =>
      source.redisConnected() ? 1 : 0,
    )
    consulGauge(
      'ghostfleet_tracker_consul_up',
      '1 while the last listing of sidecars from Consul succeeded, 0 while Consul is unreachable; absent without --consul.',
      (view) => (view.consulUp ? 1 : 0),
    )
    consulGauge(
      'ghostfleet_tracker_sidecars_registered_but_silent',
      'Sidecars registered in Consul but not reporting on Redis (crashed, partitioned or misconfigured).',
      (view) => view.registeredButSilent.length,
    )
    consulGauge(
      'ghostfleet_tracker_sidecars_reporting_but_unregistered',
      'Sidecars reporting on Redis but not registered in Consul (Prometheus does not scrape them).',
      (view) => view.reportingButUnregistered.length,
    )
    scalarGauge(
      'ghostfleet_tracker_desired_write_backlog',
      'Desired-state writes in flight or waiting for a write slot.',
      () => source.writeBacklog(),
    )
    poolGauge(
      'ghostfleet_tracker_pool_height',
      'The latest validated height of the pool (current_key) the tracker fetched.',
      (pool) => pool.poolHeight,
    )
    poolGauge(
      'ghostfleet_tracker_pool_height_age_seconds',
      'Seconds since the pool height was fetched; decisions hold when it exceeds maxPoolAgeSeconds.',
      (pool) => pool.poolHeightAgeSeconds,
    )
    poolGauge(
      'ghostfleet_tracker_pool_sidecars',
      'Reporting sidecars of the pool by the mode they report.',
      (pool) => ({ normal: pool.sidecarsByMode.normal, ghost: pool.sidecarsByMode.ghost }),
      'mode',
    )
    poolGauge(
      'ghostfleet_tracker_pool_sidecars_silent',
      'Sidecars of the pool that stopped reporting (unknown state; they count as unavailable).',
      (pool) => pool.silent,
    )
    poolGauge(
      'ghostfleet_tracker_pool_node_height',
      'Lowest and highest node height among the reporting sidecars of the pool.',
      (pool) => ({ min: pool.minNodeHeight, max: pool.maxNodeHeight }),
      'stat',
    )
    poolGauge(
      'ghostfleet_tracker_pool_lag_blocks',
      'Node height minus pool height (how far the pool lags the node), lowest and highest over the pool.',
      (pool) => ({ min: pool.minLag, max: pool.maxLag }),
      'stat',
    )
    poolGauge(
      'ghostfleet_tracker_pool_unavailable_sidecars',
      'Sidecars of the pool counted against its availability budget (restarting, pruning, silent, commanded).',
      (pool) => pool.unavailable,
    )
    poolGauge(
      'ghostfleet_tracker_pool_max_unavailable',
      'The availability budget of the pool (maxUnavailable).',
      (pool) => pool.maxUnavailable,
    )
    poolGauge(
      'ghostfleet_tracker_pool_window_min_holders',
      'The fewest available sidecars (serving, node reachable, no command) holding any one height of the pool cache window [pool height, pool height + 2 x max_bundle_size], cut at the highest height a sidecar reported. Below 2, one more node down leaves protocol nodes without a source for those heights.',
      (pool) => pool.windowMinHolders,
    )
    poolGauge(
      'ghostfleet_tracker_pool_commands_in_flight',
      'Mode switches and prunes the tracker gave sidecars of the pool that are not finished yet.',
      (pool) => pool.commandsInFlight,
    )
    this.kyveRequests = createCounter(r, {
      name: 'ghostfleet_tracker_kyve_requests_total',
      help: 'Requests to KYVE REST endpoints by endpoint and outcome.',
      labelNames: ['chain', 'endpoint', 'outcome'] as const,
    })
    this.kyveRequestSeconds = createHistogram(r, {
      name: 'ghostfleet_tracker_kyve_request_duration_seconds',
      help: 'Duration of KYVE REST requests in seconds.',
      labelNames: ['chain', 'outcome'] as const,
      buckets: exponentialBuckets(0.01, 2, 10),
    })
    this.polls = createCounter(r, {
      name: 'ghostfleet_tracker_pool_polls_total',
      help: 'Pool polls (one getPool call, with its fallbacks and retries) by result.',
      labelNames: ['chain', 'pool', 'result'] as const,
    })
    this.decisionLatency = createHistogram(r, {
      name: 'ghostfleet_tracker_decision_latency_seconds',
      help: 'Seconds from what made the tracker decide (a report, a pool height, a sweep) to the desired state being stored.',
      labelNames: ['trigger'] as const,
      buckets: exponentialBuckets(0.0005, 2, 16),
    })
    this.writes = createCounter(r, {
      name: 'ghostfleet_tracker_desired_writes_total',
      help: 'Desired-state writes by outcome (written, duplicate, stale-epoch, stale-generation, conflict, not-leader-epoch, error) and by what made the tracker write (report, pool, sweep, refresh).',
      labelNames: ['outcome', 'trigger'] as const,
    })
    this.reports = createCounter(r, {
      name: 'ghostfleet_tracker_reports_total',
      help: 'Sidecar reports received by result (accepted, stale, rejected).',
      labelNames: ['result'] as const,
    })
    this.commands = createCounter(r, {
      name: 'ghostfleet_tracker_commands_total',
      help: 'Mode switches, prunes and donor checkpoints (kind) by outcome (issued, done, timeout, refused, dropped).',
      labelNames: ['kind', 'outcome'] as const,
    })
    this.elections = createCounter(r, {
      name: 'ghostfleet_tracker_leadership_changes_total',
      help: 'Times this tracker was elected or deposed.',
      labelNames: ['event'] as const,
    })
    createGauge(r, {
      name: 'ghostfleet_tracker_bootstrap_requests',
      help: 'Live bootstrap requests (new hosts asking for a donor checkpoint) by state: pending, taking, sealing, ready, failed, expired. Leader only.',
      labelNames: ['state'] as const,
      collect(this: Gauge<'state'>) {
        this.reset()
        const counts = source.bootstraps?.() ?? null
        if (counts === null) return
        for (const state of BOOTSTRAP_STATES) this.set({ state }, counts[state])
      },
    })
    this.bootstrapApi = createCounter(r, {
      name: 'ghostfleet_tracker_bootstrap_api_requests_total',
      help: 'Authenticated bootstrap API requests on the peer listener by outcome: accepted (202), no-donor (503), status (200), not-found (404), invalid (400), forbidden (403: requestedBy is not the signer), no-route (404/405).',
      labelNames: ['outcome'] as const,
    })
    for (const outcome of BOOTSTRAP_API_OUTCOMES) this.bootstrapApi.inc({ outcome }, 0)
    this.bootstrapEnds = createCounter(r, {
      name: 'ghostfleet_tracker_bootstrap_requests_ended_total',
      help: 'Bootstrap requests that ended, by final state: ready (the donor serves the checkpoint), failed (the donor could not take it), expired (not ready before its expiry).',
      labelNames: ['state'] as const,
    })
    for (const state of ['ready', 'failed', 'expired'] as const) this.bootstrapEnds.inc({ state }, 0)
    this.peerRequests = createCounter(r, {
      name: 'ghostfleet_tracker_peer_requests_total',
      help: 'Requests on the tracker peer listener by outcome (ok, unauthorized, expired, replayed, rate-limited, busy, ...), as @ghostfleet/peer counts them.',
      labelNames: ['outcome'] as const,
    })
    this.forged = createCounter(r, {
      name: 'ghostfleet_tracker_forged_desired_states_total',
      help: 'Desired states found in Redis under an epoch no election handed out (above the epoch counter): written straight into Redis, or the counter was lost. Each was overwritten, never obeyed.',
    })
  }

  kyveRequest(chainId: string, event: RequestEvent): void {
    this.kyveRequests.inc({ chain: chainId, endpoint: event.endpoint, outcome: event.outcome })
    this.kyveRequestSeconds.observe({ chain: chainId, outcome: event.outcome }, event.durationMs / 1000)
  }

  poll(chainId: string, poolId: number, result: 'ok' | 'error'): void {
    this.polls.inc({ chain: chainId, pool: String(poolId), result })
  }

  decision(trigger: TriggerKind, seconds: number): void {
    this.decisionLatency.observe({ trigger }, seconds)
  }

  write(outcome: DesiredWriteStatus | 'error', trigger: TriggerKind | 'none'): void {
    this.writes.inc({ outcome, trigger })
  }

  report(result: 'accepted' | 'stale' | 'rejected'): void {
    this.reports.inc({ result })
  }

  command(kind: CommandKind, outcome: CommandOutcome): void {
    this.commands.inc({ kind, outcome })
  }

  bootstrapApiRequest(outcome: BootstrapApiOutcome): void {
    this.bootstrapApi.inc({ outcome })
  }

  bootstrapEnded(state: BootstrapEnd): void {
    this.bootstrapEnds.inc({ state })
  }

  peerRequest(outcome: string): void {
    this.peerRequests.inc({ outcome })
  }

  leadership(event: 'elected' | 'deposed'): void {
    this.elections.inc({ event })
  }

  forgedDesiredState(): void {
    this.forged.inc()
  }
}

import { NODE_MODES } from '@ghostfleet/core'
import type { RequestOutcome } from '@ghostfleet/kyve'
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
import { PRUNE_REFUSAL_REASONS } from '../prune-refusal.js'

/*
 * Every metric the sidecar exports. Names carry their unit; labels are small closed sets (modes, reasons,
 * outcomes, the configured KYVE endpoints), never heights, pids or error messages. supervysor's five gauges map
 * to: supervysor_pool_height → ghostfleet_pool_height, supervysor_node_height → ghostfleet_node_height,
 * supervysor_max_height → ghostfleet_target_max_height, supervysor_min_height → ghostfleet_target_min_height,
 * supervysor_data_dir_size → ghostfleet_data_dir_bytes.
 */

export const RESTART_REASONS = ['crash', 'mode_switch', 'prune', 'donation', 'start_failure'] as const

export const PRUNE_OUTCOMES = ['ok', 'noop', 'failed'] as const

const KYVE_OUTCOMES: readonly RequestOutcome[] = [
  'ok',
  'timeout',
  'http-error',
  'invalid',
  'not-found',
  'too-old',
  'regressed',
  'mismatch',
  'network',
]

export interface SidecarMetrics {
  registry: Registry
  nodeHeight: Gauge
  nodeBaseHeight: Gauge
  nodeUp: Gauge
  nodeCatchingUp: Gauge
  poolHeight: Gauge
  poolHeightAgeSeconds: Gauge
  poolLastSuccessTimestamp: Gauge
  heightDifference: Gauge
  targetMaxHeight: Gauge
  targetMinHeight: Gauge
  thresholdMax: Gauge
  thresholdMin: Gauge
  dataDirBytes: Gauge
  mode: Gauge<'mode'>
  modeSwitches: Counter<'to'>
  nodeRestarts: Counter<'reason'>
  nodeRpcRequests: Counter<'method' | 'outcome'>
  prunes: Counter<'outcome'>
  pruneDuration: Histogram
  prunedBlocks: Counter
  pruneRefusals: Counter<'reason'>
  pruneVerifications: Counter<'outcome'>
  lastPruneTimestamp: Gauge
  nextPruneDueTimestamp: Gauge
  kyveRequests: Counter<'endpoint' | 'outcome'>
  kyveEndpointUp: Gauge<'endpoint'>
  pruningEnabled: Gauge<'reason'>
  /** Sets the mode gauge: 1 for `current`, 0 for the other. */
  setMode(current: (typeof NODE_MODES)[number]): void
}

export interface SidecarMetricsOptions {
  chainId: string
  poolId: number
  /** The configured KYVE endpoints: the only values the `endpoint` label takes. */
  endpoints: readonly string[]
  /** The sidecar's own process metrics (CPU, memory, start time). @default true */
  processMetrics?: boolean
}

/**
 * The process metrics, under the names prom-client's default metrics give them (so dashboards written for those
 * work), computed at scrape time. prom-client's own default set samples the event loop every 10 ms, which alone
 * cost ~0.4 % of a core on an idle sidecar (measured in `bench/sidecar.bench.mjs`) against a 0.2 % budget, and
 * `@ghostfleet/telemetry` does not let its precision be set.
 */
function registerProcessMetrics(registry: Registry): void {
  const cpu = createCounter(registry, {
    name: 'ghostfleet_process_cpu_seconds_total',
    help: 'User and system CPU time spent by the sidecar process, in seconds.',
  })
  let counted = 0
  createGauge(registry, {
    name: 'ghostfleet_process_resident_memory_bytes',
    help: 'Resident memory of the sidecar process, in bytes.',
    collect() {
      this.set(process.memoryUsage.rss())
      // Registered before the counter is serialised, so the counter is current at every scrape.
      const usage = process.cpuUsage()
      const total = (usage.user + usage.system) / 1e6
      cpu.inc(Math.max(0, total - counted))
      counted = total
    },
  })
  createGauge(registry, {
    name: 'ghostfleet_nodejs_heap_size_used_bytes',
    help: 'V8 heap in use by the sidecar process, in bytes.',
    collect() {
      this.set(process.memoryUsage().heapUsed)
    },
  })
  createGauge(registry, {
    name: 'ghostfleet_process_start_time_seconds',
    help: 'Start time of the sidecar process since the Unix epoch, in seconds.',
  }).set(Math.round(Date.now() / 1000 - process.uptime()))
}

export function createSidecarMetrics(options: SidecarMetricsOptions): SidecarMetrics {
  const registry = createMetricsRegistry({
    defaultMetrics: false,
    defaultLabels: { service: 'sidecar', chain_id: options.chainId, pool_id: String(options.poolId) },
  })
  if (options.processMetrics ?? true) registerProcessMetrics(registry)
  const gauge = (name: string, help: string) => createGauge(registry, { name, help })
  const metrics: SidecarMetrics = {
    registry,
    nodeHeight: gauge('ghostfleet_node_height', 'Committed application height of the node (/abci_info).'),
    nodeBaseHeight: gauge(
      'ghostfleet_node_base_height',
      'Lowest block the node stores (/status earliest_block_height; the prune height after a prune).',
    ),
    nodeUp: gauge('ghostfleet_node_up', '1 when the node answered its RPC at the last tick, else 0.'),
    nodeCatchingUp: gauge(
      'ghostfleet_node_catching_up',
      '1 when the node reports catching_up (always in ghost mode).',
    ),
    poolHeight: gauge('ghostfleet_pool_height', 'Validated height of the KYVE pool (last good answer).'),
    poolHeightAgeSeconds: gauge(
      'ghostfleet_pool_height_age_seconds',
      'Age of the last good pool height; decisions hold and prunes are refused when it is too old.',
    ),
    poolLastSuccessTimestamp: gauge(
      'ghostfleet_pool_last_success_timestamp_seconds',
      'Unix time of the last successful pool poll.',
    ),
    heightDifference: gauge('ghostfleet_height_difference_blocks', 'Node height minus pool height.'),
    targetMaxHeight: gauge(
      'ghostfleet_target_max_height',
      'Pool height + heightDifferenceMax: at this node height the node enters ghost mode.',
    ),
    targetMinHeight: gauge(
      'ghostfleet_target_min_height',
      'Pool height + heightDifferenceMin: at this node height the node returns to normal mode.',
    ),
    thresholdMax: gauge('ghostfleet_threshold_max_blocks', 'heightDifferenceMax in use.'),
    thresholdMin: gauge('ghostfleet_threshold_min_blocks', 'heightDifferenceMin in use.'),
    dataDirBytes: gauge('ghostfleet_data_dir_bytes', "Size of the node's data directory."),
    mode: createGauge(registry, {
      name: 'ghostfleet_node_mode',
      help: 'The mode the node runs in: 1 for the current mode, 0 for the other.',
      labelNames: ['mode'],
    }),
    modeSwitches: createCounter(registry, {
      name: 'ghostfleet_mode_switches_total',
      help: 'Mode switches carried out, by target mode.',
      labelNames: ['to'],
    }),
    nodeRestarts: createCounter(registry, {
      name: 'ghostfleet_node_restarts_total',
      help: 'Node (re)starts by the sidecar, by reason: crash, mode_switch, prune, start_failure.',
      labelNames: ['reason'],
    }),
    nodeRpcRequests: createCounter(registry, {
      name: 'ghostfleet_node_rpc_requests_total',
      help: 'Requests to the node RPC, by method and outcome (ok, unreachable, rpc-error, invalid).',
      labelNames: ['method', 'outcome'],
    }),
    prunes: createCounter(registry, {
      name: 'ghostfleet_prunes_total',
      help: 'Prunes run by the sidecar, by outcome (ok, noop, failed).',
      labelNames: ['outcome'],
    }),
    pruneDuration: createHistogram(registry, {
      name: 'ghostfleet_prune_duration_seconds',
      help: 'Duration of a prune, from stopping the node to the node started again.',
      buckets: exponentialBuckets(0.5, 2, 14),
    }),
    prunedBlocks: createCounter(registry, {
      name: 'ghostfleet_pruned_blocks_total',
      help: 'Blocks deleted by prunes.',
    }),
    pruneRefusals: createCounter(registry, {
      name: 'ghostfleet_prune_refusals_total',
      help: 'Due prunes that were not safe, by reason (retried next tick).',
      labelNames: ['reason'],
    }),
    pruneVerifications: createCounter(registry, {
      name: 'ghostfleet_prune_verifications_total',
      help: 'Checks of /status earliest_block_height against the prune height after a prune (match, mismatch).',
      labelNames: ['outcome'],
    }),
    lastPruneTimestamp: gauge(
      'ghostfleet_last_prune_timestamp_seconds',
      'Unix time of the last successful prune.',
    ),
    nextPruneDueTimestamp: gauge(
      'ghostfleet_next_prune_due_timestamp_seconds',
      'Unix time at which the next prune is due (it runs in ghost mode only).',
    ),
    kyveRequests: createCounter(registry, {
      name: 'ghostfleet_kyve_requests_total',
      help: 'Requests to the KYVE REST API, by endpoint and outcome.',
      labelNames: ['endpoint', 'outcome'],
    }),
    kyveEndpointUp: createGauge(registry, {
      name: 'ghostfleet_kyve_endpoint_up',
      help: '1 when the endpoint answered its last request well, else 0.',
      labelNames: ['endpoint'],
    }),
    pruningEnabled: createGauge(registry, {
      name: 'ghostfleet_pruning_enabled',
      help:
        '1 when the sidecar prunes the node offline, 0 when not; reason: none, disabled_in_config, ' +
        'unsupported_db_backend (the node db_backend is not goleveldb).',
      labelNames: ['reason'],
    }),
    setMode(current) {
      for (const mode of NODE_MODES) metrics.mode.set({ mode }, mode === current ? 1 : 0)
    },
  }
  // Pre-register the closed label sets so every series exists (at 0) from the first scrape: alert rules and
  // rate() work without waiting for the first event.
  for (const reason of RESTART_REASONS) metrics.nodeRestarts.inc({ reason }, 0)
  for (const outcome of PRUNE_OUTCOMES) metrics.prunes.inc({ outcome }, 0)
  for (const reason of PRUNE_REFUSAL_REASONS) metrics.pruneRefusals.inc({ reason }, 0)
  for (const outcome of ['match', 'mismatch']) metrics.pruneVerifications.inc({ outcome }, 0)
  for (const to of NODE_MODES) metrics.modeSwitches.inc({ to }, 0)
  for (const endpoint of options.endpoints) {
    for (const outcome of KYVE_OUTCOMES) metrics.kyveRequests.inc({ endpoint, outcome }, 0)
  }
  return metrics
}

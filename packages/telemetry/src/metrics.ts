import { Counter, collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from 'prom-client'
import {
  assertLabelNames,
  assertMetricName,
  assertMetricPrefix,
  METRIC_PREFIX,
  type MetricKind,
  MetricNameError,
} from './metric-names.js'

/** Options for {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Prefix of prom-client's default metrics. @default 'ghostfleet_' */
  prefix?: string
  /**
   * Register prom-client's default metrics (process CPU, resident memory, open file descriptors, event-loop
   * lag, heap, GC), named with the prefix: `ghostfleet_process_cpu_seconds_total`,
   * `ghostfleet_nodejs_eventloop_lag_seconds`, … @default true
   */
  defaultMetrics?: boolean
  /** Labels added to every series of this registry, e.g. `{ service: 'sidecar' }`. Keep them few and fixed. */
  defaultLabels?: Readonly<Record<string, string>>
}

/**
 * Creates a registry of its own (never prom-client's global one, so two components or two tests in one process
 * cannot collide), with the default process metrics unless turned off.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): Registry {
  const prefix = options.prefix ?? METRIC_PREFIX
  assertMetricPrefix(prefix)
  const registry = new Registry()
  if (options.defaultLabels !== undefined) {
    assertLabelNames('default labels', Object.keys(options.defaultLabels))
    registry.setDefaultLabels({ ...options.defaultLabels })
  }
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix })
  return registry
}

/** What every metric helper needs: a conventional name, a help text and the label names. */
export interface MetricSpec<L extends string> {
  /** Checked by {@link assertMetricName}. */
  name: string
  help: string
  /** Bounded-cardinality labels only: modes, pools, outcomes; never heights, ids of requests or errors. */
  labelNames?: readonly L[]
}

/** A gauge may compute its value on every scrape instead of being set. */
export interface GaugeSpec<L extends string> extends MetricSpec<L> {
  collect?: (this: Gauge<L>) => void | Promise<void>
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  /** Upper bounds, ascending. @default prom-client's 0.005 … 10 (seconds) */
  buckets?: readonly number[]
}

/** Registers a counter on `registry`; its name must end in `_total`. */
export function createCounter<L extends string = string>(
  registry: Registry,
  spec: MetricSpec<L>,
): Counter<L> {
  const labelNames = checked('counter', spec)
  return new Counter<L>({ name: spec.name, help: spec.help, labelNames, registers: [registry] })
}

/** Registers a gauge on `registry`. */
export function createGauge<L extends string = string>(registry: Registry, spec: GaugeSpec<L>): Gauge<L> {
  const labelNames = checked('gauge', spec)
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames,
    registers: [registry],
    ...(spec.collect === undefined ? {} : { collect: spec.collect }),
  })
}

/** Registers a histogram on `registry`. Durations are in seconds: name it `…_seconds`. */
export function createHistogram<L extends string = string>(
  registry: Registry,
  spec: HistogramSpec<L>,
): Histogram<L> {
  const labelNames = checked('histogram', spec)
  if (labelNames.includes('le' as L)) {
    throw new MetricNameError(`histogram ${JSON.stringify(spec.name)}: "le" is reserved for bucket bounds`)
  }
  return new Histogram<L>({
    name: spec.name,
    help: spec.help,
    labelNames,
    registers: [registry],
    ...(spec.buckets === undefined ? {} : { buckets: [...spec.buckets] }),
  })
}

/**
 * Runs `fn` and observes how long it took, in seconds, on a `…_seconds` histogram. A failure is observed
 * too (a slow failure is exactly what the histogram should show) and then rethrown unchanged.
 */
export async function observeDuration<L extends string, R>(
  histogram: Histogram<L>,
  labels: LabelValues<L>,
  fn: () => R | Promise<R>,
): Promise<R> {
  // prom-client keeps the configured name on the instance; its type declarations just do not list it.
  const name: unknown = Reflect.get(histogram, 'name')
  if (typeof name !== 'string' || !name.endsWith('_seconds')) {
    throw new MetricNameError(
      `observeDuration: histogram ${JSON.stringify(name)} does not measure seconds (its name must end in "_seconds")`,
    )
  }
  const end = histogram.startTimer(labels)
  try {
    return await fn()
  } finally {
    end()
  }
}

function checked<L extends string>(kind: MetricKind, spec: MetricSpec<L>): L[] {
  assertMetricName(kind, spec.name, spec.help)
  const labelNames = [...(spec.labelNames ?? [])]
  assertLabelNames(`${kind} ${JSON.stringify(spec.name)}`, labelNames)
  return labelNames
}

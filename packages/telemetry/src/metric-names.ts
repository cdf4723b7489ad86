/** The kinds of metric the helpers create. */
export type MetricKind = 'counter' | 'gauge' | 'histogram'

/** A metric name, prefix, help text or label that breaks the naming rules. Nothing was registered. */
export class MetricNameError extends Error {
  override readonly name = 'MetricNameError'
}

/** Every Ghostfleet metric name starts with this; dashboards and alert rules select on it. */
export const METRIC_PREFIX = 'ghostfleet_'

const NAME = /^ghostfleet_[a-z0-9]+(?:_[a-z0-9]+)*$/
const PREFIX = /^ghostfleet_(?:[a-z0-9]+_)*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Suffixes the exposition format generates for histograms and summaries; a metric of its own must not end so. */
const GENERATED_SUFFIXES = ['_bucket', '_sum', '_count', '_created']

/** Units Prometheus wants converted to its base units (seconds, bytes) before they reach a name. */
const NON_BASE_UNITS = new Set([
  'ns',
  'nanoseconds',
  'us',
  'microseconds',
  'ms',
  'millis',
  'milliseconds',
  'minutes',
  'hours',
  'days',
  'kb',
  'kib',
  'kilobytes',
  'mb',
  'mib',
  'megabytes',
  'gb',
  'gib',
  'gigabytes',
  'tb',
  'tib',
  'terabytes',
])

const BASE_UNITS = ['seconds', 'bytes'] as const

/**
 * Checks a metric name against the Ghostfleet conventions, which
 * follow Prometheus' naming guide:
 * - `ghostfleet_` then lower-case words joined by single underscores;
 * - counters end in `_total`, nothing else does; no name ends in a suffix the exposition format generates;
 * - durations and sizes are in base units (`_seconds`, `_bytes`), and the unit is the last word before
 *   `_total` (`ghostfleet_pruned_bytes_total`, `ghostfleet_prune_duration_seconds`);
 * - help text that says the value is in seconds or bytes needs that unit in the name.
 *
 * The help check reads the plural words "seconds" and "bytes" only, so "reports per second" passes.
 */
export function assertMetricName(kind: MetricKind, name: string, help: string): void {
  const fail = (reason: string): never => {
    throw new MetricNameError(`${kind} ${JSON.stringify(name)}: ${reason}`)
  }
  if (!NAME.test(name)) {
    fail(
      `a name must match ${NAME.source} (the ${METRIC_PREFIX} prefix, then lower-case words joined by single underscores)`,
    )
  }
  if (help.trim() === '') fail('help must say what the metric measures')

  const isTotal = name.endsWith('_total')
  if (kind === 'counter' && !isTotal) fail('a counter name must end in "_total"')
  if (kind === 'counter' && name === `${METRIC_PREFIX}total`) fail('"_total" needs a name before it')
  if (kind !== 'counter' && isTotal) fail('only counters may end in "_total"')
  const generated = GENERATED_SUFFIXES.find((suffix) => name.endsWith(suffix))
  if (generated !== undefined) fail(`"${generated}" is a suffix Prometheus generates; choose another name`)

  const words = name.slice(METRIC_PREFIX.length).split('_')
  const nonBase = words.find((word) => NON_BASE_UNITS.has(word))
  if (nonBase !== undefined) fail(`"${nonBase}" is not a base unit; convert to "_seconds" or "_bytes"`)

  const unitWords = isTotal ? words.slice(0, -1) : words
  for (const unit of BASE_UNITS) {
    const at = unitWords.indexOf(unit)
    if (at !== -1 && at !== unitWords.length - 1) {
      fail(`the unit "_${unit}" must be the last word${isTotal ? ' before "_total"' : ''}`)
    }
    if (at === -1 && new RegExp(`\\b${unit}\\b`, 'i').test(help)) {
      fail(`help says the value is in ${unit}, so the name must end in "_${unit}${isTotal ? '_total' : ''}"`)
    }
  }
}

/**
 * Checks a default-metrics prefix: `ghostfleet_` or a longer prefix ending in `_` (`ghostfleet_tracker_`),
 * so prom-client's `process_cpu_seconds_total` becomes `ghostfleet_process_cpu_seconds_total`.
 */
export function assertMetricPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) {
    throw new MetricNameError(
      `metric prefix ${JSON.stringify(prefix)}: must match ${PREFIX.source} (start with ${METRIC_PREFIX}, end with "_")`,
    )
  }
}

/** Checks label names before prom-client sees them, with an error that says which label is wrong. */
export function assertLabelNames(owner: string, labelNames: readonly string[]): void {
  const seen = new Set<string>()
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__')) {
      throw new MetricNameError(
        `${owner}: label ${JSON.stringify(label)} must match ${LABEL_NAME.source} and not start with "__"`,
      )
    }
    if (seen.has(label)) throw new MetricNameError(`${owner}: label ${JSON.stringify(label)} is listed twice`)
    seen.add(label)
  }
}

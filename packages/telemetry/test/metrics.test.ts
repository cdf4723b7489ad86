import { describe, expect, it } from 'vitest'
import { MetricNameError } from '../src/metric-names.js'
import {
  createCounter,
  createGauge,
  createHistogram,
  createMetricsRegistry,
  observeDuration,
} from '../src/metrics.js'

function expectNameError(create: () => unknown, reason: RegExp | string): void {
  let caught: unknown
  try {
    create()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(MetricNameError)
  expect((caught as Error).name).toBe('MetricNameError')
  expect((caught as Error).message).toMatch(reason)
}

describe('metric name rules', () => {
  const registry = () => createMetricsRegistry({ defaultMetrics: false })

  it('accepts conventional names', () => {
    const r = registry()
    createCounter(r, { name: 'ghostfleet_node_restarts_total', help: 'Node restarts.', labelNames: ['mode'] })
    createCounter(r, { name: 'ghostfleet_pruned_bytes_total', help: 'Bytes deleted by pruning.' })
    createGauge(r, { name: 'ghostfleet_node_height', help: 'Committed app height of the node.' })
    createGauge(r, { name: 'ghostfleet_data_dir_bytes', help: 'Size of the data directory in bytes.' })
    createGauge(r, { name: 'ghostfleet_reports_rate', help: 'Reports per second.' })
    createHistogram(r, { name: 'ghostfleet_prune_duration_seconds', help: 'Prune time, in seconds.' })
    createGauge(r, {
      name: 'ghostfleet_build_info',
      help: 'Version of the running build.',
      labelNames: ['version'],
    })
  })

  it.each([
    ['counter', 'node_restarts_total', /must match .*ghostfleet_ prefix/],
    ['counter', 'ghostfleet_Node_restarts_total', /must match/],
    ['counter', 'ghostfleet_node__restarts_total', /must match/],
    ['gauge', 'ghostfleet_node_height_', /must match/],
    ['gauge', 'ghostfleet_node-height', /must match/],
    ['gauge', 'ghostfleet_', /must match/],
    ['counter', 'ghostfleet_node_restarts', /a counter name must end in "_total"/],
    ['counter', 'ghostfleet_total', /"_total" needs a name before it/],
    ['gauge', 'ghostfleet_restarts_total', /only counters may end in "_total"/],
    ['histogram', 'ghostfleet_prune_seconds_total', /only counters may end in "_total"/],
    ['histogram', 'ghostfleet_prune_seconds_bucket', /"_bucket" is a suffix Prometheus generates/],
    ['gauge', 'ghostfleet_sidecars_count', /"_count" is a suffix Prometheus generates/],
    ['histogram', 'ghostfleet_prune_duration_ms', /"ms" is not a base unit/],
    ['gauge', 'ghostfleet_data_dir_mb', /"mb" is not a base unit/],
    ['counter', 'ghostfleet_wait_milliseconds_total', /"milliseconds" is not a base unit/],
    ['gauge', 'ghostfleet_seconds_since_report', /the unit "_seconds" must be the last word/],
    ['counter', 'ghostfleet_bytes_pruned_total', /the unit "_bytes" must be the last word before "_total"/],
  ] as const)('rejects %s %j', (kind, name, reason) => {
    const help = 'What it counts.'
    const create = {
      counter: () => createCounter(registry(), { name, help }),
      gauge: () => createGauge(registry(), { name, help }),
      histogram: () => createHistogram(registry(), { name, help }),
    }[kind]
    expectNameError(create, reason)
    expectNameError(create, `${kind} ${JSON.stringify(name)}: `)
  })

  it('requires the unit the help text names', () => {
    expectNameError(
      () =>
        createHistogram(registry(), {
          name: 'ghostfleet_prune_duration',
          help: 'Time a prune took in seconds.',
        }),
      'help says the value is in seconds, so the name must end in "_seconds"',
    )
    expectNameError(
      () => createCounter(registry(), { name: 'ghostfleet_pruned_total', help: 'Bytes deleted by pruning.' }),
      'help says the value is in bytes, so the name must end in "_bytes_total"',
    )
  })

  it('requires help', () => {
    expectNameError(() => createGauge(registry(), { name: 'ghostfleet_x', help: '  ' }), /help must say/)
  })

  it('rejects bad, reserved and repeated label names', () => {
    expectNameError(
      () => createGauge(registry(), { name: 'ghostfleet_x', help: 'x', labelNames: ['pool-id'] }),
      /gauge "ghostfleet_x": label "pool-id" must match/,
    )
    expectNameError(
      () => createGauge(registry(), { name: 'ghostfleet_x', help: 'x', labelNames: ['__name'] }),
      /label "__name" .*not start with "__"/,
    )
    expectNameError(
      () => createGauge(registry(), { name: 'ghostfleet_x', help: 'x', labelNames: ['mode', 'mode'] }),
      /label "mode" is listed twice/,
    )
    expectNameError(
      () => createHistogram(registry(), { name: 'ghostfleet_x_seconds', help: 'x', labelNames: ['le'] }),
      /"le" is reserved/,
    )
  })

  it('registers nothing when a name is rejected', async () => {
    const r = registry()
    expectNameError(() => createCounter(r, { name: 'ghostfleet_oops', help: 'x' }), /_total/)
    expect(await r.getMetricsAsJSON()).toEqual([])
  })
})

describe('createMetricsRegistry', () => {
  it("registers prom-client's default metrics under the ghostfleet_ prefix", async () => {
    const text = await createMetricsRegistry().metrics()
    expect(text).toMatch(/^ghostfleet_process_cpu_seconds_total \d/m)
    expect(text).toMatch(/^ghostfleet_process_resident_memory_bytes \d/m)
    expect(text).toMatch(/^ghostfleet_nodejs_eventloop_lag_seconds \d/m)
    expect(text).not.toMatch(/^process_/m)
    expect(text).not.toMatch(/^nodejs_/m)
    for (const line of text.split('\n')) {
      const match = /^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)
      if (match !== null) expect(match[1]).toMatch(/^ghostfleet_/)
    }
  })

  it('takes a longer prefix', async () => {
    const text = await createMetricsRegistry({ prefix: 'ghostfleet_tracker_' }).metrics()
    expect(text).toMatch(/^ghostfleet_tracker_process_cpu_seconds_total \d/m)
  })

  it('rejects a prefix outside ghostfleet_', () => {
    expectNameError(() => createMetricsRegistry({ prefix: 'myapp_' }), /metric prefix "myapp_": must match/)
    expectNameError(() => createMetricsRegistry({ prefix: 'ghostfleet_tracker' }), /end with "_"/)
  })

  it('can leave the default metrics out', async () => {
    expect(await createMetricsRegistry({ defaultMetrics: false }).metrics()).toBe('\n')
  })

  it('adds default labels to every series', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { service: 'sidecar' } })
    createGauge(registry, { name: 'ghostfleet_node_height', help: 'Node height.' }).set(7)
    const text = await registry.metrics()
    expect(text).toContain('ghostfleet_node_height{service="sidecar"} 7')
    expect(text).toMatch(/^ghostfleet_process_resident_memory_bytes\{service="sidecar"\} \d/m)
  })

  it('rejects bad default label names', () => {
    expectNameError(
      () => createMetricsRegistry({ defaultLabels: { 'host name': 'a' } }),
      /default labels: label "host name" must match/,
    )
  })

  it('keeps registries apart, so the same name can live in two of them', async () => {
    const a = createMetricsRegistry({ defaultMetrics: false })
    const b = createMetricsRegistry({ defaultMetrics: false })
    createCounter(a, { name: 'ghostfleet_ticks_total', help: 'Ticks.' }).inc(2)
    createCounter(b, { name: 'ghostfleet_ticks_total', help: 'Ticks.' }).inc(5)
    expect(await a.metrics()).toContain('ghostfleet_ticks_total 2')
    expect(await b.metrics()).toContain('ghostfleet_ticks_total 5')
    expect(() => createCounter(a, { name: 'ghostfleet_ticks_total', help: 'Ticks.' })).toThrow(
      /already been registered/,
    )
  })

  it('computes collect gauges on every scrape', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    let bytes = 10
    createGauge(registry, {
      name: 'ghostfleet_data_dir_bytes',
      help: 'Size of the data directory in bytes.',
      collect() {
        this.set(bytes)
      },
    })
    expect(await registry.metrics()).toContain('ghostfleet_data_dir_bytes 10')
    bytes = 20
    expect(await registry.metrics()).toContain('ghostfleet_data_dir_bytes 20')
  })
})

describe('observeDuration', () => {
  function histogram() {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    const h = createHistogram(registry, {
      name: 'ghostfleet_prune_duration_seconds',
      help: 'Time a prune took, in seconds.',
      labelNames: ['pool'],
      buckets: [0.001, 1, 60],
    })
    const countFor = async (pool: string) => {
      const values = (await h.get()).values
      return values.find(
        (v) => v.metricName === 'ghostfleet_prune_duration_seconds_count' && v.labels.pool === pool,
      )?.value
    }
    return { registry, h, countFor }
  }

  it('returns the result and observes one duration with the labels', async () => {
    const { h, countFor } = histogram()
    expect(await observeDuration(h, { pool: 'osmosis' }, async () => 'done')).toBe('done')
    expect(await observeDuration(h, { pool: 'osmosis' }, () => 42)).toBe(42)
    expect(await countFor('osmosis')).toBe(2)
    expect(await countFor('cosmoshub')).toBeUndefined()
  })

  it('observes a failure and rethrows it unchanged', async () => {
    const { h, countFor } = histogram()
    const failure = new Error('lock held')
    await expect(
      observeDuration(h, { pool: 'osmosis' }, async () => {
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(await countFor('osmosis')).toBe(1)
  })

  it('rejects a histogram that does not measure seconds, without running fn', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false })
    const sizes = createHistogram(registry, {
      name: 'ghostfleet_bundle_bytes',
      help: 'Bundle sizes in bytes.',
    })
    let ran = false
    await expect(
      observeDuration(sizes, {}, () => {
        ran = true
      }),
    ).rejects.toThrow(/histogram "ghostfleet_bundle_bytes" does not measure seconds/)
    expect(ran).toBe(false)
  })
})

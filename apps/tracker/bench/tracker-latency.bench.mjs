#!/usr/bin/env node
/**
 * Tracker benchmark (not a test): 10,000 simulated sidecars reporting every 5 s into one local redis-server,
 * a real `ghostfleet-tracker start` process, and the simulated KYVE API.
 *
 * Measures, in one run:
 * - decision latency, report → desired state written: a sidecar's height crosses the ghost threshold, it
 *   reports, and we time until its notification arrives (the Lua script publishes it in the same atomic step
 *   as the write); p50/p99 against a baseline measured in the same run: a raw HSET + PUBLISH round trip from
 *   this process (the floor for "one write the sidecar hears about");
 * - decision latency, pool change → desired state written, for 100 sidecars of one pool at once (the tracker's
 *   own histogram, from poll answer to write, and ours, from the KYVE change, which includes the poll wait);
 * - tracker CPU and RSS (its own /metrics), Redis operations per report (INFO commandstats before/after);
 * - KYVE requests per pool per poll interval at 1, 100 and 10,000 sidecars (counted by the simulated API).
 *
 * Usage (after `npx turbo run build --filter=@ghostfleet/tracker...` and a built @ghostfleet/devnet):
 *   node apps/tracker/bench/tracker-latency.bench.mjs [--sidecars 10000] [--seconds 60] [--poll-seconds 2]
 *     [--events-per-second 20] [--refresh-seconds 30]
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { closeRedis, createRedis, keysOf, publishReport, waitForReady } from '@ghostfleet/coordination'
import { startKyveSimulator } from '@ghostfleet/devnet'
import { eventually, freePort, startProcess, startRedis, tempDir } from '@ghostfleet/testkit'

const { values: args } = parseArgs({
  options: {
    sidecars: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '60' },
    'poll-seconds': { type: 'string', default: '2' },
    'events-per-second': { type: 'string', default: '20' },
    /** Passed to the tracker; 30 is its default, 0 turns the re-issue of unchanged states off. */
    'refresh-seconds': { type: 'string', default: '30' },
  },
})
const BIG = Number(args.sidecars)
const WINDOW_S = Number(args.seconds)
const POLL_S = Number(args['poll-seconds'])
const EVENTS_PER_S = Number(args['events-per-second'])
const REPORT_MS = 5000
const THRESHOLDS = { heightDifferenceMax: 100, heightDifferenceMin: 50, keepRecent: 150 }
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const POOL_HEIGHT = { 1: 100_000, 2: 200_000, 3: 300_000 }

const log = (...parts) => process.stderr.write(`[bench] ${parts.join(' ')}\n`)

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  return { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) }
}

const ms = (value) => (Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a')

async function commandStats(redis) {
  const text = await redis.info('commandstats')
  const calls = {}
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match) calls[match[1]] = Number(match[2])
  }
  return calls
}

async function scrape(url) {
  const text = await (await fetch(`${url}/metrics`)).text()
  const value = (pattern) => {
    const match = new RegExp(`^${pattern} ([0-9.e+-]+)$`, 'm').exec(text)
    return match ? Number(match[1]) : Number.NaN
  }
  const histogram = (trigger) => {
    const buckets = []
    for (const match of text.matchAll(
      new RegExp(
        `^ghostfleet_tracker_decision_latency_seconds_bucket\\{le="([^"]+)",service="tracker",trigger="${trigger}"\\} (\\d+)$`,
        'gm',
      ),
    )) {
      buckets.push({
        le: match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]),
        count: Number(match[2]),
      })
    }
    const count = value(
      `ghostfleet_tracker_decision_latency_seconds_count\\{service="tracker",trigger="${trigger}"\\}`,
    )
    const sum = value(
      `ghostfleet_tracker_decision_latency_seconds_sum\\{service="tracker",trigger="${trigger}"\\}`,
    )
    return { buckets, count, sum }
  }
  const counters = (metric) =>
    Object.fromEntries(
      [...text.matchAll(new RegExp(`^${metric}\\{([^}]*)\\} ([0-9.e+-]+)$`, 'gm'))].map((m) => [
        m[1],
        Number(m[2]),
      ]),
    )
  return {
    counters,
    written: Object.entries(counters('ghostfleet_tracker_desired_writes_total'))
      .filter(([labels]) => labels.includes('outcome="written"'))
      .reduce((sum, [, count]) => sum + count, 0),
    loopLagMaxSeconds: value('ghostfleet_nodejs_eventloop_lag_max_seconds\\{service="tracker"\\}'),
    cpuSeconds: value('ghostfleet_process_cpu_seconds_total\\{service="tracker"\\}'),
    rssBytes: value('ghostfleet_process_resident_memory_bytes\\{service="tracker"\\}'),
    histogram,
  }
}

/** Quantile of the difference of two cumulative histograms, as the upper bound of the bucket it falls in. */
function histogramQuantile(before, after, q) {
  const count = after.count - (before.count || 0)
  if (!(count > 0)) return Number.NaN
  const target = q * count
  for (const bucket of after.buckets) {
    const previous = before.buckets.find((b) => b.le === bucket.le)?.count ?? 0
    if (bucket.count - previous >= target) return bucket.le * 1000
  }
  return Number.NaN
}

class Sidecar {
  constructor(id, poolId, phaseMs) {
    this.id = id
    this.poolId = poolId
    this.phaseMs = phaseMs
    this.mode = 'normal'
    this.nodeHeight = POOL_HEIGHT[poolId] + 10
    this.appliedEpoch = 0
    this.appliedGeneration = 0
    this.lastReportedAt = 0
    /** A crossing being timed: { expect: mode, t0 }. */
    this.pending = null
  }

  report() {
    this.lastReportedAt = Math.max(Date.now(), this.lastReportedAt + 1)
    return {
      v: 1,
      sidecarId: this.id,
      chainId: 'kyve-1',
      poolId: this.poolId,
      mode: this.mode,
      nodeHeight: this.nodeHeight,
      nodeBase: 1,
      nodeReachable: true,
      catchingUp: false,
      activity: 'serving',
      dataBytes: 1,
      appliedEpoch: this.appliedEpoch,
      appliedGeneration: this.appliedGeneration,
      lastPrune: { height: 1, at: Date.now() },
      decidedBy: 'tracker',
      version: 'bench',
      reportedAt: this.lastReportedAt,
      thresholds: THRESHOLDS,
    }
  }
}

async function main() {
  const redis = await startRedis()
  const kyve = await startKyveSimulator({
    pools: Object.entries(POOL_HEIGHT).map(([id, height]) => ({
      id: Number(id),
      currentKey: String(height),
      paused: true,
    })),
    maxBundleSize: 100,
    uploadInterval: 60,
  })
  const dir = await tempDir('ghostfleet-bench-')
  const stops = []
  try {
    const data = createRedis({ role: 'tracker', url: redis.url })
    const subscriber = createRedis({ role: 'tracker', url: redis.url })
    await waitForReady(data, 10_000)
    await waitForReady(subscriber, 10_000)
    stops.push(
      () => closeRedis(data),
      () => closeRedis(subscriber),
    )
    const keys = keysOf(data)

    // Baseline: the floor of one write plus its wake-up, measured from here.
    const baseline = []
    for (let i = 0; i < 3000; i += 1) {
      const t0 = performance.now()
      await Promise.all([
        data.hset(`bench:{x}:${i % 100}`, 'mode', '"ghost"', 'generation', String(i)),
        data.publish('bench:notify', 'x'),
      ])
      baseline.push(performance.now() - t0)
    }
    const base = summarize(baseline.slice(500))
    log(`baseline HSET+PUBLISH round trip p50 ${ms(base.p50)} p99 ${ms(base.p99)}`)

    // The fleet: 1 sidecar on pool 1, 100 on pool 2, BIG on pool 3, phases spread over the report interval.
    const sidecars = []
    const add = (poolId, count) => {
      for (let i = 0; i < count; i += 1) sidecars.push(new Sidecar(`p${poolId}-${i}`, poolId, 0))
    }
    add(1, 1)
    add(2, 100)
    add(3, BIG)
    sidecars.forEach((s, i) => {
      s.phaseMs = (i * REPORT_MS) / sidecars.length
    })
    const byId = new Map(sidecars.map((s) => [s.id, s]))
    const reportLatencies = []
    const poolLatencies = []
    let poolPhase = null
    const prefix = keys.notify('X').split('X')
    await subscriber.psubscribe(`${prefix[0]}*${prefix[1]}`)
    subscriber.on('pmessage', (_pattern, channel, note) => {
      const id = channel.slice(prefix[0].length, channel.length - prefix[1].length)
      const sidecar = byId.get(id)
      if (sidecar === undefined || sidecar.pending === null) return
      const arrived = performance.now()
      const pending = sidecar.pending
      // Check that this write is the one we wait for (not a refresh) before applying it.
      data.hget(keys.desired(id), 'mode').then((mode) => {
        if (sidecar.pending !== pending || mode !== JSON.stringify(pending.expect)) return
        const [epoch, generation] = note.split(':').map(Number)
        sidecar.mode = pending.expect
        sidecar.appliedEpoch = epoch
        sidecar.appliedGeneration = generation
        sidecar.pending = null
        if (pending.kind === 'report') reportLatencies.push(arrived - pending.t0)
        if (pending.kind === 'pool') poolLatencies.push(arrived - pending.t0)
        if (pending.kind === 'pool' && poolPhase !== null) poolPhase.left -= 1
      })
    })

    // Report loop: every 10 ms, publish the reports that fell due, in phase order.
    let reports = 0
    let reportErrors = 0
    let running = true
    const started = performance.now()
    let lastTick = started
    const reportLoop = (async () => {
      while (running) {
        const now = performance.now()
        const from = (lastTick - started) % REPORT_MS
        const to = (now - started) % REPORT_MS
        const span = now - lastTick
        lastTick = now
        const due = sidecars.filter((s) =>
          span >= REPORT_MS
            ? true
            : from <= to
              ? s.phaseMs > from && s.phaseMs <= to
              : s.phaseMs > from || s.phaseMs <= to,
        )
        await Promise.all(
          due.map((s) =>
            publishReport(data, s.report(), { intervalMs: REPORT_MS }).then(
              () => {
                reports += 1
              },
              () => {
                reportErrors += 1
              },
            ),
          ),
        )
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    stops.push(async () => {
      running = false
      await reportLoop
    })

    // The tracker, as its own process.
    const port = await freePort()
    const configFile = path.join(dir.path, 'tracker.toml')
    await writeFile(
      configFile,
      [
        `pollIntervalSeconds = ${POLL_S}`,
        'leaseTtlMs = 10000',
        'maxPoolAgeSeconds = 600',
        '[defaults]',
        // No budget contention: every crossing may switch at once, so what is measured is the decision path.
        `maxUnavailable = ${BIG + 200}`,
        '[chains]',
        `"kyve-1" = ["${kyve.url}"]`,
      ].join('\n'),
    )
    const tracker = startProcess(
      process.execPath,
      [
        CLI,
        'start',
        '--config',
        configFile,
        '--redis',
        redis.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--id',
        'bench',
        '--refresh-seconds',
        args['refresh-seconds'],
      ],
      { env: { GHOSTFLEET_LOG_LEVEL: 'warn' } },
    )
    const url = `http://127.0.0.1:${port}`
    stops.push(async () => {
      const code = await tracker.stop('SIGTERM', 30_000)
      log(`tracker exited with ${code}`)
    })
    await eventually(
      async () => {
        const body = await (await fetch(`${url}/v1/pools`)).json()
        if (body.tracker.role !== 'leader' || body.tracker.quietUntil !== null)
          throw new Error('not leading yet')
        if (body.pools.length !== 3) throw new Error(`${body.pools.length} pools`)
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'the tracker leading all pools' },
    )
    log(`tracker leading; ${sidecars.length} sidecars reporting every ${REPORT_MS} ms; warming up`)
    // Every sidecar has its first desired state (election rewrite and first reports are behind us).
    await eventually(
      async () => {
        const metrics = await scrape(url)
        if (!(metrics.written >= sidecars.length)) throw new Error(`${metrics.written} states written so far`)
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    )

    // Measurement window: steady reports plus EVENTS_PER_S threshold crossings on the big pool.
    const statsBefore = await commandStats(data)
    const metricsBefore = await scrape(url)
    kyve.resetStats()
    const reportsBefore = reports
    const windowStart = performance.now()
    let maxRss = metricsBefore.rssBytes
    let trackerLoopLagMax = 0
    const benchLoop = monitorEventLoopDelay({ resolution: 5 })
    benchLoop.enable()
    let crossings = 0
    const bigPool = sidecars.filter((s) => s.poolId === 3)
    while (performance.now() - windowStart < WINDOW_S * 1000) {
      const tickStart = performance.now()
      for (let i = 0; i < EVENTS_PER_S / 10; i += 1) {
        const sidecar = bigPool[Math.floor(Math.random() * bigPool.length)]
        if (sidecar.pending !== null) continue
        const expect = sidecar.mode === 'normal' ? 'ghost' : 'normal'
        sidecar.nodeHeight = POOL_HEIGHT[3] + (expect === 'ghost' ? 150 : 10)
        sidecar.pending = { expect, t0: performance.now(), kind: 'report' }
        crossings += 1
        publishReport(data, sidecar.report(), { intervalMs: REPORT_MS }).then(
          () => {
            reports += 1
          },
          () => {
            reportErrors += 1
          },
        )
      }
      if (Math.round((tickStart - windowStart) / 100) % 50 === 0) {
        const sample = await scrape(url)
        maxRss = Math.max(maxRss, sample.rssBytes)
        trackerLoopLagMax = Math.max(trackerLoopLagMax, sample.loopLagMaxSeconds)
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (performance.now() - tickStart))))
    }
    const windowMs = performance.now() - windowStart
    const metricsWindowEnd = await scrape(url)
    const diffCounters = (metric) => {
      const before = metricsBefore.counters(metric)
      return Object.fromEntries(
        Object.entries(metricsWindowEnd.counters(metric)).map(([labels, v]) => [
          labels,
          v - (before[labels] ?? 0),
        ]),
      )
    }
    const writesByOutcome = diffCounters('ghostfleet_tracker_desired_writes_total')
    const decisionsByTrigger = diffCounters('ghostfleet_tracker_decision_latency_seconds_count')
    const commandsByOutcome = diffCounters('ghostfleet_tracker_commands_total')
    const statsAfter = await commandStats(data)
    const metricsAfter = await scrape(url)
    const kyveStats = kyve.stats()
    const windowReports = reports - reportsBefore
    maxRss = Math.max(maxRss, metricsAfter.rssBytes)
    trackerLoopLagMax = Math.max(trackerLoopLagMax, metricsAfter.loopLagMaxSeconds)
    benchLoop.disable()

    // Pool change: the 100 sidecars of pool 2 go ghost (by report), then the pool catches up and all return
    // to normal on one poll answer.
    const pool2 = sidecars.filter((s) => s.poolId === 2)
    for (const s of pool2) {
      s.nodeHeight = POOL_HEIGHT[2] + 150
      s.pending = { expect: 'ghost', t0: performance.now(), kind: 'setup' }
      await publishReport(data, s.report(), { intervalMs: REPORT_MS })
    }
    // All ghost, and every switch seen finished by the tracker (their next reports show the new mode).
    await eventually(
      async () => {
        if (pool2.some((s) => s.pending !== null)) throw new Error('pool 2 not all ghost yet')
        const body = await (await fetch(`${url}/v1/pools`)).json()
        const view = body.pools.find((p) => p.poolId === 2)
        if (view.unavailable.length > 0 || view.byMode.ghost !== pool2.length)
          throw new Error('switches in flight')
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    )
    const poolMetricsBefore = await scrape(url)
    poolPhase = { left: pool2.length }
    const t0 = performance.now()
    for (const s of pool2) s.pending = { expect: 'normal', t0, kind: 'pool' }
    await kyve.setPool(2, { currentKey: String(POOL_HEIGHT[2] + 120) })
    await eventually(
      () => {
        if (poolPhase.left > 0) throw new Error(`${poolPhase.left} of pool 2 not normal yet`)
      },
      { timeoutMs: 60_000 },
    )
    const poolMetricsAfter = await scrape(url)

    // Results.
    const report = summarize(reportLatencies)
    const pool = summarize(poolLatencies)
    const cpu = (metricsAfter.cpuSeconds - metricsBefore.cpuSeconds) / (windowMs / 1000)
    const totalCalls = Object.entries(statsAfter).reduce(
      (sum, [name, calls]) => sum + calls - (statsBefore[name] ?? 0),
      0,
    )
    const perCommand = Object.entries(statsAfter)
      .map(([name, calls]) => [name, (calls - (statsBefore[name] ?? 0)) / windowReports])
      .filter(([, perReport]) => perReport >= 0.005)
      .sort((a, b) => b[1] - a[1])
    const intervals = windowMs / (POLL_S * 1000)
    const kyvePerInterval = Object.fromEntries(
      ['1', '2', '3'].map((id) => [id, (kyveStats.byPool[id]?.byRoute.pool ?? 0) / intervals]),
    )
    const trackerReport = {
      p50: histogramQuantile(metricsBefore.histogram('report'), metricsAfter.histogram('report'), 0.5),
      p99: histogramQuantile(metricsBefore.histogram('report'), metricsAfter.histogram('report'), 0.99),
      mean:
        ((metricsAfter.histogram('report').sum - metricsBefore.histogram('report').sum) /
          (metricsAfter.histogram('report').count - metricsBefore.histogram('report').count)) *
        1000,
    }
    const poolBefore = poolMetricsBefore.histogram('pool')
    const poolAfter = poolMetricsAfter.histogram('pool')
    const poolWrites = poolAfter.count - (Number.isNaN(poolBefore.count) ? 0 : poolBefore.count)
    const trackerPool = {
      p99: histogramQuantile(poolBefore, poolAfter, 0.99),
      mean: ((poolAfter.sum - (Number.isNaN(poolBefore.sum) ? 0 : poolBefore.sum)) / poolWrites) * 1000,
      count: poolWrites,
    }

    const lines = [
      '',
      `ghostfleet-tracker benchmark: ${sidecars.length} sidecars (1 on pool 1, 100 on pool 2, ${BIG} on pool 3), report every ${REPORT_MS / 1000} s, window ${(windowMs / 1000).toFixed(1)} s, poll every ${POLL_S} s, refresh every ${args['refresh-seconds']} s`,
      `  reports in window: ${windowReports} (${(windowReports / (windowMs / 1000)).toFixed(0)}/s), publish errors ${reportErrors}`,
      `  baseline (HSET+PUBLISH round trip, this process): p50 ${ms(base.p50)}, p99 ${ms(base.p99)}`,
      `  report → desired state (notification received), ${report.n} of ${crossings} crossings: p50 ${ms(report.p50)}, p99 ${ms(report.p99)}, max ${ms(report.max)}`,
      `     ratio to baseline: p50 ${(report.p50 / base.p50).toFixed(1)}×, p99 ${(report.p99 / base.p99).toFixed(1)}×`,
      `  tracker's own histogram (report received → write acknowledged): mean ${ms(trackerReport.mean)}, p50 ≤ ${ms(trackerReport.p50)}, p99 ≤ ${ms(trackerReport.p99)} (bucket bounds)`,
      `  pool change → 100 desired states: from the KYVE change (includes the poll wait, ≤ ${POLL_S} s) p50 ${ms(pool.p50)}, p99 ${ms(pool.p99)}; tracker histogram (poll answer → write) mean ${ms(trackerPool.mean)}, p99 ≤ ${ms(trackerPool.p99)} over ${trackerPool.count} writes`,
      `  tracker CPU: ${(cpu * 100).toFixed(1)} % of one core; RSS max ${(maxRss / 2 ** 20).toFixed(0)} MiB; event-loop delay max ${ms(trackerLoopLagMax * 1000)}`,
      `  this benchmark's own event-loop delay (it adds to the latencies seen here): p99 ${ms(benchLoop.percentile(99) / 1e6)}, max ${ms(benchLoop.max / 1e6)}`,
      `  Redis operations per report: ${(totalCalls / windowReports).toFixed(2)} (all clients, incl. the simulated sidecars' own 7 per report and commands inside Lua scripts)`,
      `     ${perCommand.map(([name, perReport]) => `${name} ${perReport.toFixed(3)}`).join(', ')}`,
      `  desired-state writes in the window by outcome: ${JSON.stringify(writesByOutcome)}`,
      `     decisions by trigger: ${JSON.stringify(decisionsByTrigger)}; commands: ${JSON.stringify(commandsByOutcome)}`,
      `  KYVE requests per pool per poll interval: pool 1 (1 sidecar) ${kyvePerInterval['1'].toFixed(2)}, pool 2 (100) ${kyvePerInterval['2'].toFixed(2)}, pool 3 (${BIG}) ${kyvePerInterval['3'].toFixed(2)}`,
      '',
    ]
    process.stdout.write(lines.join('\n'))
    process.stdout.write(
      `${JSON.stringify({
        sidecars: sidecars.length,
        windowSeconds: windowMs / 1000,
        reportsPerSecond: windowReports / (windowMs / 1000),
        baselineMs: base,
        reportLatencyMs: report,
        trackerReportLatencyMs: trackerReport,
        poolChangeLatencyMs: pool,
        trackerPoolLatencyMs: trackerPool,
        trackerCpuCores: cpu,
        trackerEventLoopDelayMaxMs: trackerLoopLagMax * 1000,
        benchEventLoopDelayMs: { p99: benchLoop.percentile(99) / 1e6, max: benchLoop.max / 1e6 },
        trackerMaxRssBytes: maxRss,
        redisOpsPerReport: totalCalls / windowReports,
        redisOpsPerReportByCommand: Object.fromEntries(perCommand),
        kyveRequestsPerPoolPerInterval: kyvePerInterval,
      })}\n`,
    )
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop()
      } catch (error) {
        log(`cleanup: ${error}`)
      }
    }
    await kyve.stop()
    await redis.stop()
    await dir.remove()
  }
}

await main()

// The RPC gateway (issue 13), run by `npm run bench -- gateway` after a build. Targets are printed, never asserted.
//
// A fleet of three sidecars for one pool (redis, a producer node, the simulated KYVE API, a tracker; devnet's
// LocalFleet) runs through the demo's cycle: the pool pauses, the nodes run ahead, go ghost and are pruned one at a
// time by the tracker; the pool catches up and they return to normal. Every CRASH_EVERY_MS one node is SIGKILLed
// (round robin; its sidecar restarts it). Beside sidecar 1, a load generator acting as the protocol node asks for
// `/block` at heights across [pool height, pool height + cache window], each height once through sidecar 1's
// gateway and once straight at node 1, in a random order per pair, one request at a time.
//
// Printed:
//   - failed requests, gateway vs direct (target: 0 through the gateway while a sibling holds the height; the
//     failures through the gateway while some node held the height are counted apart);
//   - added latency of locally routed requests, p50/p99 of the gateway's minus p50/p99 of the direct requests of
//     the same pairs (target ≤ 1 ms p50), during the run and with the fleet calm; as the baseline, what a bare
//     HTTP hop (a pass-through Node proxy in its own process) adds in the same calm pairs, since any gateway is a
//     second hop; and the gateway's own histogram of the time it adds;
//   - throughput, requests/s through the gateway against node 1 alone, measured before the disruptions with
//     CONCURRENCY closed-loop clients, alternating the two twice.
// Last line: `gateway: failed <x>/<n> via gateway, <y>/<m> direct; added latency p50 <a> ms p99 <b> ms`.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { cacheWindowSize } from '@ghostfleet/core'
import {
  FLEET_MAX_BUNDLE_SIZE,
  FLEET_POOL_ID,
  fetchFleetHeights,
  LocalFleet,
  poolCeiling,
} from '@ghostfleet/devnet'
import { eventually, freePort, metricValue, requireRedisServer } from '@ghostfleet/testkit'

const env = process.env
const RUN_SECONDS = Number(env.GF_BENCH_GATEWAY_SECONDS ?? 150)
const THROUGHPUT_SECONDS = Number(env.GF_BENCH_GATEWAY_THROUGHPUT_SECONDS ?? 4)
const CONCURRENCY = 8
/** Sequential pairs measured with the fleet calm, before the disruptions. */
const CALM_PAIRS = Number(env.GF_BENCH_GATEWAY_CALM_PAIRS ?? 1000)
const BLOCK_TIME_MS = 200
/** The pool pauses this long (nodes run 60+ blocks ahead: ghost, then prunes), then runs this long (normal). */
const PAUSE_SECONDS = 30
const CATCH_UP_SECONDS = 20
/** A prune is due every 12 s of ghost mode. */
const PRUNING_INTERVAL_HOURS = 12 / 3600
const CRASH_EVERY_MS = 11_000
/** A protocol node's patience with one request. */
const REQUEST_TIMEOUT_MS = 3_000
const SIDECARS = 3

const say = (line) => process.stdout.write(`${line}\n`)
/** The pool height as the fleet reads it: `current_key`, or `start_key` before the first bundle. */
const poolHeightOf = (kyve) => {
  const pool = kyve.pool(FLEET_POOL_ID)
  return Number(pool.currentKey || pool.startKey || 0)
}
const quantile = (xs, q) => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}
const ms = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a')

/** One `/block` call: ok only for HTTP 200 carrying that very block. */
async function getBlock(base, height) {
  const started = performance.now()
  try {
    const response = await fetch(`${base}/block?height=${height}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    const text = await response.text()
    const elapsed = performance.now() - started
    const route = response.headers.get('x-ghostfleet-route')
    let ok = false
    let why = `HTTP ${response.status}`
    try {
      const body = JSON.parse(text)
      ok = response.status === 200 && body?.result?.block?.header?.height === String(height)
      if (!ok) why = body?.error?.data ?? body?.error?.message ?? why
    } catch {
      why = `HTTP ${response.status}, not JSON`
    }
    return { ok, ms: elapsed, route, why: ok ? null : String(why) }
  } catch (error) {
    return { ok: false, ms: performance.now() - started, route: null, why: error?.cause?.code ?? error?.name }
  }
}

/** Node [base, height] of each sidecar's node, refreshed continuously; null while it does not answer. */
function watchHoldings(sidecars, stopped) {
  const held = new Map(sidecars.map((s) => [s.id, null]))
  const loop = async (s) => {
    while (!stopped()) {
      try {
        const r = await fetch(`${s.rpc}/status`, { signal: AbortSignal.timeout(500) })
        const info = (await r.json()).result.sync_info
        held.set(s.id, { base: Number(info.earliest_block_height), height: Number(info.latest_block_height) })
      } catch {
        held.set(s.id, null)
      }
      await delay(100)
    }
  }
  const done = Promise.all(sidecars.map(loop))
  return { held, done }
}

async function sidecarStatus(s) {
  try {
    const r = await fetch(`${s.http}/status`, { signal: AbortSignal.timeout(1000) })
    return await r.json()
  } catch {
    return null
  }
}

/** Requests/s of CONCURRENCY closed-loop clients asking `base` for `height`, for `seconds`. */
async function throughput(base, height, seconds) {
  const until = performance.now() + seconds * 1000
  let done = 0
  let failed = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const r = await getBlock(base, height)
        if (r.ok) done++
        else failed++
      }
    }),
  )
  return { rps: done / seconds, failed }
}

/** The gateway's own figure: quantiles of ghostfleet_gateway_added_latency_seconds{route="local"} (bucket bounds). */
async function gatewayAddedQuantiles(sidecar) {
  const text = await (await fetch(`${sidecar.http}/metrics`)).text()
  const name = 'ghostfleet_gateway_added_latency_seconds_bucket'
  const bounds = [...text.matchAll(new RegExp(`^${name}\\{[^}]*route="local"[^}]*\\}`, 'gm'))]
    .map((m) => m[0].match(/le="([^"]+)"/)?.[1])
    .filter((le) => le !== undefined)
  const buckets = bounds
    .map((le) => ({
      le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le),
      count: metricValue(text, name, { route: 'local', le }) ?? 0,
    }))
    .sort((a, b) => a.le - b.le)
  if (buckets.length === 0) return null
  const total = buckets.at(-1).count
  const at = (q) => buckets.find((b) => b.count >= q * total)?.le ?? Number.NaN
  return { count: total, p50: at(0.5) * 1000, p99: at(0.99) * 1000 }
}

/** A quantile of the latencies of one side of the ok, locally routed pairs. */
function quantileOf(pairs, side, q) {
  const ok = pairs.filter(
    (p) => p[side]?.ok && p.direct.ok && (side !== 'gateway' || p.gateway.route === 'local'),
  )
  return quantile(
    ok.map((p) => p[side].ms),
    q,
  )
}

/** One height through the gateway and straight at the node, in a random order. */
async function pairAt(own, height, gatewayUp) {
  const pair = { height, at: Date.now(), gateway: null, direct: null, heldBy: [] }
  const gatewayFirst = Math.random() < 0.5
  if (gatewayFirst && gatewayUp) pair.gateway = await getBlock(own.gateway, height)
  pair.direct = await getBlock(own.rpc, height)
  if (!gatewayFirst && gatewayUp) pair.gateway = await getBlock(own.gateway, height)
  return pair
}

/** Added latency of locally routed pairs: p50/p99 of the gateway's minus those of the direct requests. */
function addedLatency(pairs, name = 'gateway') {
  const local = pairs.filter((p) => p.gateway?.ok && p.gateway.route === 'local' && p.direct.ok)
  const gw = local.map((p) => p.gateway.ms)
  const direct = local.map((p) => p.direct.ms)
  const q = (xs, at) => quantile(xs, at)
  return {
    count: local.length,
    p50: q(gw, 0.5) - q(direct, 0.5),
    p99: q(gw, 0.99) - q(direct, 0.99),
    text:
      `p50 ${ms(q(gw, 0.5) - q(direct, 0.5))} ms (${name} ${ms(q(gw, 0.5))} vs direct ${ms(q(direct, 0.5))}), ` +
      `p99 ${ms(q(gw, 0.99) - q(direct, 0.99))} ms (${name} ${ms(q(gw, 0.99))} vs direct ${ms(q(direct, 0.99))})`,
  }
}

/**
 * The baseline for the added latency: a bare HTTP hop to node 1, a Node proxy in a process of its own with a
 * keep-alive agent and nothing else (no parsing, no routing). What the gateway adds beyond it is its own cost.
 */
const BARE_HOP = `
const http = require('node:http')
const target = new URL(process.env.TARGET)
const agent = new http.Agent({ keepAlive: true })
http.createServer((req, res) => {
  const up = http.request(
    { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers, agent },
    (answer) => { res.writeHead(answer.statusCode, answer.headers); answer.pipe(res) },
  )
  up.on('error', () => { res.writeHead(502); res.end() })
  req.pipe(up)
}).listen(Number(process.env.PORT), '127.0.0.1')
`

requireRedisServer()
const dir = await mkdtemp(path.join(os.tmpdir(), 'gf-gateway-bench-'))
const fleet = await LocalFleet.create(dir)
process.once('exit', () => fleet.killNow())
let stop = false
try {
  await fleet.startRedis()
  await fleet.startProducer(BLOCK_TIME_MS)
  const kyve = await fleet.startKyve({ bundleEveryMs: 50, paused: true })
  const keyEnv = { GHOSTFLEET_FLEET_KEY: randomBytes(32).toString('hex') }
  const tracker = await fleet.startTracker({
    id: 'bench-tracker',
    pruningIntervalHours: PRUNING_INTERVAL_HOURS,
    env: keyEnv,
  })
  const sidecars = []
  for (let i = 1; i <= SIDECARS; i++) {
    sidecars.push(
      await fleet.startSidecar({
        id: `gw-${i}`,
        pruningIntervalHours: PRUNING_INTERVAL_HOURS,
        restartBackoffMaxSeconds: 2,
        gateway: true,
        env: keyEnv,
      }),
    )
  }
  const [own] = sidecars
  const window = cacheWindowSize(FLEET_MAX_BUNDLE_SIZE)
  say(
    `fleet: ${SIDECARS} sidecars of pool ${FLEET_POOL_ID}, cache window ${window} blocks; logs in ${fleet.logs}`,
  )

  // Every node synced past a first height, and sidecar 1's gateway answering, before anything is measured.
  await eventually(
    async () => {
      for (const s of sidecars) {
        const r = await getBlock(s.rpc, 20)
        if (!r.ok) throw new Error(`${s.id}: ${r.why}`)
      }
    },
    { timeoutMs: 120_000, intervalMs: 250, description: 'every node to hold block 20' },
  )
  let gatewayUp = true
  try {
    await eventually(
      async () => {
        const r = await getBlock(own.gateway, 20)
        if (!r.ok) throw new Error(r.why)
      },
      { timeoutMs: 20_000, intervalMs: 250, description: `the gateway of ${own.id} at ${own.gateway}` },
    )
  } catch (error) {
    gatewayUp = false
    say(`gateway of ${own.id} does not answer (${error.message}): measuring the direct side only`)
  }

  // Throughput, all nodes up and the pool paused: gateway against the node alone, alternated.
  const fixed = 10
  const node = []
  const gw = []
  for (let round = 0; round < 2; round++) {
    node.push(await throughput(own.rpc, fixed, THROUGHPUT_SECONDS))
    if (gatewayUp) gw.push(await throughput(own.gateway, fixed, THROUGHPUT_SECONDS))
  }
  const nodeRps = node.reduce((a, r) => a + r.rps, 0) / node.length
  const gwRps = gatewayUp ? gw.reduce((a, r) => a + r.rps, 0) / gw.length : Number.NaN

  // Added latency with the fleet calm (pool paused, no command, no crash), as a reference for the run's, and a
  // bare HTTP hop's in the same pairs (its request right after the pair's two).
  const hopUrl = `http://127.0.0.1:${await freePort()}`
  const hop = spawn(process.execPath, ['-e', BARE_HOP], {
    env: { ...env, TARGET: own.rpc, PORT: new URL(hopUrl).port },
    stdio: 'ignore',
  })
  const calm = []
  try {
    await eventually(
      async () => {
        const r = await getBlock(hopUrl, 20)
        if (!r.ok) throw new Error(r.why)
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'the bare hop' },
    )
    for (let k = 0; k < CALM_PAIRS && gatewayUp; k++) {
      const pair = await pairAt(own, poolHeightOf(kyve) + (k % (window + 1)), gatewayUp)
      pair.hop = await getBlock(hopUrl, pair.height)
      calm.push(pair)
    }
  } finally {
    hop.kill('SIGKILL')
  }

  // The disruption run.
  const started = Date.now()
  const end = started + RUN_SECONDS * 1000
  const watch = watchHoldings(sidecars, () => stop)
  let paused = true
  const pacer = (async () => {
    while (!stop) {
      const inCycle = (Date.now() - started) % ((PAUSE_SECONDS + CATCH_UP_SECONDS) * 1000)
      let wantPaused = inCycle < PAUSE_SECONDS * 1000
      if (!wantPaused) {
        const heights = await fetchFleetHeights(tracker.url)
        const ceiling = heights === null ? null : poolCeiling(heights)
        const key = poolHeightOf(kyve)
        wantPaused = ceiling === null || key >= ceiling
      }
      if (wantPaused !== paused) {
        await kyve.setPool(FLEET_POOL_ID, { paused: wantPaused })
        paused = wantPaused
      }
      await delay(200)
    }
  })()
  let crashes = 0
  const crasher = (async () => {
    let next = 0
    while (!stop) {
      await delay(CRASH_EVERY_MS)
      if (stop) break
      const victim = sidecars[next++ % sidecars.length]
      const pid = (await sidecarStatus(victim))?.node?.process?.pid ?? null
      if (pid === null) continue
      try {
        process.kill(pid, 'SIGKILL')
        crashes++
      } catch {
        // The node ended by itself meanwhile (a switch or a prune stopped it): nothing to crash.
      }
    }
  })()

  const pairs = []
  let i = 0
  while (Date.now() < end) {
    const poolHeight = poolHeightOf(kyve)
    const height = poolHeight + (i++ % (window + 1))
    // Who held the height before and after the pair, as the nodes themselves say (sampled every 100 ms): a node
    // in both samples was up throughout, give or take a sample; a node that crashed in between is not counted.
    const holders = () =>
      new Set(
        [...watch.held]
          .filter(([, h]) => h !== null && h.base <= height && height <= h.height)
          .map(([id]) => id),
      )
    const before = holders()
    const pair = await pairAt(own, height, gatewayUp)
    const after = holders()
    pair.heldBy = [...before].filter((id) => after.has(id))
    pairs.push(pair)
  }
  stop = true
  await Promise.all([pacer, crasher, watch.done])

  const commands = await (await fetch(`${tracker.url}/metrics`)).text()
  const done = (kind) =>
    metricValue(commands, 'ghostfleet_tracker_commands_total', { kind, outcome: 'done' }) ?? 0
  const restarts = []
  for (const s of sidecars) restarts.push((await sidecarStatus(s))?.node?.process?.crashRestarts ?? '?')

  const n = gatewayUp ? pairs.length : 0
  const failedGw = pairs.filter((p) => p.gateway !== null && !p.gateway.ok)
  const failedGwHeld = failedGw.filter((p) => p.heldBy.length > 0)
  const failedDirect = pairs.filter((p) => !p.direct.ok)
  const sibling = pairs.filter((p) => p.gateway?.ok && p.gateway.route === 'sibling')
  const added = addedLatency(pairs)
  const calmAdded = addedLatency(calm)
  const hopAdded = addedLatency(
    calm.filter((p) => p.hop.ok).map((p) => ({ ...p, gateway: { ...p.hop, route: 'local' } })),
    'hop',
  )
  const reasons = (list, side) => {
    const counts = new Map()
    for (const p of list) counts.set(p[side].why, (counts.get(p[side].why) ?? 0) + 1)
    return [...counts].map(([why, c]) => `${c}× ${why}`).join('; ') || '-'
  }

  say('')
  say(
    `disruptions in ${RUN_SECONDS} s: ${done('switch')} mode switches and ${done('prune')} prunes by the tracker, ` +
      `${crashes} node crashes injected (crash restarts per sidecar: ${restarts.join(', ')})`,
  )
  say(`requests: ${pairs.length} pairs over heights [pool height, pool height + ${window}]`)
  say(`  direct at node 1:  ${failedDirect.length} failed (${reasons(failedDirect, 'direct')})`)
  if (gatewayUp) {
    say(
      `  via the gateway:   ${failedGw.length} failed, ${failedGwHeld.length} of them while a node held the ` +
        `height before and after (target 0); the rest while every holder was down (${reasons(failedGw, 'gateway')})`,
    )
    say(`  gateway routes:    ${added.count} local (and direct ok), ${sibling.length} sibling`)
    say(`added latency, locally routed, during the run: ${added.text}; target p50 ≤ 1 ms`)
    say(`  the same with the fleet calm (${calmAdded.count} pairs before the run): ${calmAdded.text}`)
    say(
      `  baseline, a bare HTTP hop to node 1 in the same calm pairs: ${hopAdded.text}; the gateway's p50 is ` +
        `${(quantileOf(calm, 'gateway', 0.5) / quantileOf(calm, 'hop', 0.5)).toFixed(2)}x the hop's`,
    )
    const own = await gatewayAddedQuantiles(sidecars[0])
    if (own !== null) {
      say(
        `  the gateway's own histogram (route local, ${own.count} calls): p50 ≤ ${ms(own.p50)} ms, ` +
          `p99 ≤ ${ms(own.p99)} ms (bucket bounds)`,
      )
    }
    say(
      `throughput, ${CONCURRENCY} clients: gateway ${gwRps.toFixed(0)} req/s vs node alone ${nodeRps.toFixed(0)} ` +
        `req/s (${(gwRps / nodeRps).toFixed(2)}x)`,
    )
  } else {
    say(`throughput, ${CONCURRENCY} clients: node alone ${nodeRps.toFixed(0)} req/s; gateway not measured`)
  }
  say(
    `gateway: failed ${gatewayUp ? failedGw.length : 'n/a'}/${n} via gateway, ${failedDirect.length}/${pairs.length} ` +
      `direct; added latency p50 ${ms(added.p50)} ms p99 ${ms(added.p99)} ms`,
  )
} finally {
  stop = true
  await fleet.stop()
  if (env.GF_BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
  else say(`kept ${dir}`)
}

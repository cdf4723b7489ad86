import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { FLEET_THRESHOLDS } from '@ghostfleet/devnet'
import { requireRedisServer } from '@ghostfleet/testkit'
import { unsettled } from './checkers/convergence.js'
import { FaultInjector, type FaultRecord } from './fault-injector.js'
import { Ledger, type Violation } from './ledger.js'
import { killLeftovers } from './leftovers.js'
import { leftoverNetns, removeAllNetnsSync } from './netns-cut.js'
import { PoolDriver, SOAK_POOL_CYCLE } from './pool-driver.js'
import { RedisObserver } from './redis-snapshot.js'
import { formatTable, type SoakReport, summaryLine } from './report.js'
import { type RssSeries, rssKb } from './rss.js'
import { CACHE_WINDOW, Sampler } from './sampler.js'
import { FAULT_KINDS, type FaultKind, planFaults } from './schedule.js'
import { MASTER_NAME } from './sentinel-redis.js'
import { unmountSmallDiskSync } from './small-disk.js'
import { type Member, type RedisMode, SOAK_TIMINGS, SoakFleet } from './soak-fleet.js'

export interface SoakOptions {
  seed: number
  durationSeconds: number
  /** Where the JSON report goes. */
  reportFile: string
  /** Keep the work directory (homes, configs, logs) afterwards; it is always kept when there are violations. */
  keep: boolean
  say: (line: string) => void
  /**
   * How many sidecars (the last ones) get a small disk of their own that the disk-full fault can fill. More than
   * one shows that the sidecar's lock check matches lock holders by inode alone: nodes on different filesystems
   * share inode numbers, and a restarted sidecar takes its neighbours' locks for its own. @default 1
   */
  smallDisks?: number
  /**
   * `sentinel`: the fleet's Redis is a primary and a replica behind three redis-sentinels, and the schedule includes
   * primary failovers with lost writes; `single`: one redis-server. @default 'sentinel' when redis-sentinel is
   * installed
   */
  redis?: RedisMode
}

/** Time after the last fault within which every sidecar must settle where the hysteresis puts it. */
export const CONVERGENCE_BOUND_MS = 90_000
const SAMPLE_EVERY_MS = 1_000
const RSS_EVERY_MS = 5_000

/**
 * Runs one soak: the fleet, the seeded fault schedule, the pool cycles and the checkers; then convergence, a clean
 * stop, the search for processes left behind, and the report.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  requireRedisServer()
  const { seed, say } = options
  const durationMs = options.durationSeconds * 1000
  const dir = await mkdtemp(path.join(os.tmpdir(), `ghostfleet-soak-${seed}-`))
  const startedAt = new Date()
  let t0 = Date.now()
  const ledger = new Ledger(
    seed,
    () => t0,
    (v: Violation) => say(`VIOLATION ${v.checker} at +${v.atMs} ms: ${v.detail}`),
  )
  let stopping = false
  let fleet: SoakFleet | null = null
  const restarting = new Set<string>()
  const onUnexpectedExit = (member: Member, exit: number | string) => {
    if (stopping) return
    ledger.violate('liveness', `${member.id} exited (${exit}) although the schedule did not kill it`)
    // Play systemd: start it again, once per exit (a restart that fails is one more violation, not a loop).
    if (restarting.has(member.id)) return
    restarting.add(member.id)
    void fleet
      ?.killAndRestart(member)
      .catch((error: unknown) =>
        ledger.violate('liveness', `${member.id} did not come back: ${String(error)}`),
      )
      .finally(() => restarting.delete(member.id))
  }
  say(`soak: seed ${seed}, ${options.durationSeconds} s, work dir ${dir}`)
  // Whatever ends this process early (a test runner's timeout, Ctrl-C) must not leave the fleet running or the
  // homes mounted.
  let redisPorts: number[] = []
  const emergencyStop = () => {
    // Again until none is found: a sidecar killed in one pass may have forked a node just before.
    for (let pass = 0; pass < 5 && killLeftovers(dir, redisPorts).length > 0; pass++);
    for (const sidecar of fleet?.sidecars ?? []) if (sidecar.smallDisk) unmountSmallDiskSync(sidecar.home)
    removeAllNetnsSync()
  }
  process.on('exit', emergencyStop)
  const redisMode = options.redis ?? (hasRedisSentinel() ? 'sentinel' : 'single')
  if (redisMode === 'sentinel' && !hasRedisSentinel())
    throw new Error(
      'redis-sentinel is not installed: `apt-get install redis-sentinel`, or run with --redis single',
    )
  if (redisMode === 'single') say('redis mode single: no Sentinel failovers in this run')
  fleet = await SoakFleet.start(
    dir,
    SOAK_TIMINGS,
    onUnexpectedExit,
    say,
    options.smallDisks ?? 1,
    redisMode,
    (ports) => {
      redisPorts = ports
    },
  )
  redisPorts = fleet.redisPorts()
  // The soak's own view of Redis asks Sentinel for the primary, as the product's Sentinel client would.
  const observer = new RedisObserver(
    fleet.sentinel === null
      ? (fleet.local.redis?.url ?? '')
      : { sentinels: fleet.sentinel.sentinels, name: MASTER_NAME },
  )
  const sampler = new Sampler(fleet, ledger, observer)
  const injector = new FaultInjector(fleet, sampler, ledger, say)
  const driver = new PoolDriver(fleet.kyve, fleet.pools, SOAK_POOL_CYCLE)
  const rss: RssSeries[] = [...fleet.sidecars, ...fleet.trackers].map((m) => ({
    id: m.id,
    kind: m.kind,
    points: [],
  }))
  const schedule = planFaults({
    seed,
    durationMs,
    sidecars: fleet.sidecars.length,
    pools: fleet.pools.length,
    warmupMs: Math.min(20_000, durationMs / 6),
    quietMs: Math.min(60_000, durationMs / 3),
    gapMs: [5_000, 15_000],
    exclude: fleet.sentinel === null ? ['redis-failover'] : [],
  })
  say(`schedule: ${schedule.length} faults planned`)
  const records: FaultRecord[] = []
  const notes: string[] = []
  let convergedAfterMs: number | null = null
  t0 = Date.now()
  const elapsed = () => Date.now() - t0

  let sampling = true
  const samplingLoop = (async () => {
    let lastRss = -RSS_EVERY_MS
    while (sampling) {
      const roundStart = Date.now()
      try {
        await sampler.round()
        if (!stopping) await driver.apply(elapsed())
      } catch (error) {
        say(`sampling round failed: ${String(error)}`)
      }
      if (Date.now() - lastRss >= RSS_EVERY_MS) {
        lastRss = Date.now()
        const members = fleet ? [...fleet.sidecars, ...fleet.trackers] : []
        for (const member of members) {
          const kb = await rssKb(member.process.pid)
          if (kb !== null) rss.find((s) => s.id === member.id)?.points.push([elapsed(), kb])
        }
      }
      // The sampling pace, not a wait for anything.
      await delay(Math.max(0, SAMPLE_EVERY_MS - (Date.now() - roundStart)))
    }
  })()

  try {
    const running: Array<Promise<void>> = []
    for (const fault of schedule) {
      await delay(Math.max(0, fault.atMs - elapsed()))
      const at = elapsed()
      running.push(
        injector.inject(fault, at).then(
          (record) => void records.push(record),
          (error: unknown) => {
            say(`fault ${fault.kind} failed: ${String(error)}`)
            records.push({ atMs: at, kind: fault.kind, target: '-', outcome: 'skipped', note: String(error) })
          },
        ),
      )
    }
    await Promise.all(running)
    await delay(Math.max(0, durationMs - elapsed()))
    const lastFaultAt = elapsed()
    await driver.release()
    say(
      `+${(lastFaultAt / 1000).toFixed(1)}s faults over, pools released; waiting for convergence (bound ${CONVERGENCE_BOUND_MS} ms)`,
    )
    const history: UnsettledHistory = new Map()
    convergedAfterMs = await awaitConvergence(sampler, fleet, lastFaultAt, elapsed, history)
    if (convergedAfterMs === null) {
      const waiting = unsettledReasons(sampler, fleet)
      ledger.check(
        'convergence',
        `not converged within ${CONVERGENCE_BOUND_MS} ms of the last fault: ${describeUnsettled(waiting, history)}`,
      )
      // The work directory of a CI run is gone with its machine: what the unsettled sidecars and their nodes last
      // said goes into the output, so a failure can be understood from the log alone.
      for (const line of unsettledLogTails(waiting, fleet)) say(line)
    } else {
      ledger.check('convergence', null)
    }
  } finally {
    stopping = true
    sampling = false
    await samplingLoop
    observer.close()
    await fleet.stop(() => {})
    const left = killLeftovers(dir, redisPorts)
    ledger.check(
      'liveness',
      left.length === 0
        ? null
        : `processes left after the stop: ${left.map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`).join('; ')}`,
    )
    const namespaces = leftoverNetns()
    removeAllNetnsSync()
    ledger.check(
      'liveness',
      namespaces.length === 0 ? null : `network namespaces left after the stop: ${namespaces.join(', ')}`,
    )
    process.off('exit', emergencyStop)
  }

  if (fleet.sentinel !== null)
    notes.push(
      `fencing judged ${sampler.fencing.continuedAcrossFailover} Sentinel failover(s) as one history (no reset)`,
    )
  if (sampler.booksSeen.size === 0)
    notes.push(
      'no node had address book entries in normal mode: the address-book check had nothing to compare',
    )
  const byKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>
  for (const record of records) if (record.outcome === 'injected') byKind[record.kind]++
  records.sort((a, b) => a.atMs - b.atMs)
  const byPool = Object.fromEntries(fleet.pools.map((p) => [String(p), sampler.availability.percent(p)]))
  const report: SoakReport = {
    seed,
    durationSeconds: options.durationSeconds,
    dir,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    faults: {
      injected: records.filter((r) => r.outcome === 'injected').length,
      skipped: records.filter((r) => r.outcome === 'skipped').length,
      byKind,
      log: records,
    },
    checks: { total: ledger.totalChecks(), byChecker: { ...ledger.checks } },
    violations: ledger.violations,
    availability: {
      cacheWindow: CACHE_WINDOW,
      byPool,
      samplesByPool: Object.fromEntries(fleet.pools.map((p) => [String(p), sampler.availability.samples(p)])),
      min: Math.min(...Object.values(byPool)),
    },
    convergence: { boundMs: CONVERGENCE_BOUND_MS, tookMs: convergedAfterMs },
    rss,
    notes,
  }
  await writeFile(options.reportFile, `${JSON.stringify(report, null, 2)}\n`)
  say(formatTable(report))
  say(`report: ${options.reportFile}`)
  if (report.violations.length === 0 && !options.keep) await rm(dir, { recursive: true, force: true })
  say(summaryLine(report))
  return report
}

function hasRedisSentinel(): boolean {
  try {
    execFileSync('redis-sentinel', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** What keeps one sidecar from settling, from one sampler round to the next: each change of reason and when. */
type UnsettledHistory = Map<string, Array<{ atMs: number; why: string }>>

/**
 * Polls the sampler's rounds until every sidecar has settled, or the bound after the last fault passes. Records in
 * `history` each change of what keeps a sidecar from settling, so a violation shows its course and not only the last
 * reason.
 */
async function awaitConvergence(
  sampler: Sampler,
  fleet: SoakFleet,
  lastFaultAt: number,
  elapsed: () => number,
  history: UnsettledHistory,
): Promise<number | null> {
  let seenRound = sampler.rounds
  while (elapsed() - lastFaultAt <= CONVERGENCE_BOUND_MS) {
    if (sampler.rounds > seenRound) {
      seenRound = sampler.rounds
      const reasons = unsettledReasons(sampler, fleet)
      for (const sidecar of fleet.sidecars) {
        const why = reasons.get(sidecar.id) ?? 'settled'
        const course = history.get(sidecar.id) ?? []
        if (course.at(-1)?.why !== why) course.push({ atMs: elapsed(), why })
        history.set(sidecar.id, course)
      }
      if (reasons.size === 0) return elapsed() - lastFaultAt
    }
    await delay(100)
  }
  return null
}

/** Why each sidecar that has not settled has not, by sidecar id. */
function unsettledReasons(sampler: Sampler, fleet: SoakFleet): Map<string, string> {
  const reasons = new Map<string, string>()
  for (const s of fleet.sidecars) {
    const sample = sampler.latest.get(s.id)
    const why = sample ? unsettled(sample, sampler.poolHeight(s.pool), FLEET_THRESHOLDS) : 'never sampled'
    if (why !== null) reasons.set(s.id, why)
  }
  return reasons
}

/** `p1-s1: node backoff (+50.1s activity pruning → +97.3s node backoff)`, for the sidecars still unsettled. */
function describeUnsettled(waiting: Map<string, string>, history: UnsettledHistory): string {
  return [...waiting]
    .map(([id, why]) => {
      const course = (history.get(id) ?? [])
        .slice(-8)
        .map((step) => `+${(step.atMs / 1000).toFixed(1)}s ${step.why}`)
        .join(' → ')
      return `${id}: ${why}${course === '' ? '' : ` (${course})`}`
    })
    .join('; ')
}

const LOG_TAIL_LINES = 25

/** The last lines of each unsettled sidecar's log and of its node's output, headed by the file they come from. */
function unsettledLogTails(waiting: Map<string, string>, fleet: SoakFleet): string[] {
  const lines: string[] = []
  for (const sidecar of fleet.sidecars) {
    if (!waiting.has(sidecar.id)) continue
    for (const file of [sidecar.logFile, fleet.local.logFile(`node-${sidecar.id}`)]) {
      lines.push(`--- last ${LOG_TAIL_LINES} lines of ${file}`)
      lines.push(...tailLines(file, LOG_TAIL_LINES))
    }
  }
  return lines
}

function tailLines(file: string, count: number): string[] {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-count)
  } catch (error) {
    return [`(unreadable: ${error instanceof Error ? error.message : String(error)})`]
  }
}

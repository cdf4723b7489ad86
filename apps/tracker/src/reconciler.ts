/**
 * The leader's decision engine. It turns reports, pool heights and the clock into desired states:
 *
 * - every report re-assesses its sidecar at once (hysteresis, prune due and safe), and every new pool height
 *   re-assesses the pool's sidecars, so reactions take one event, not one timer period;
 * - disruptive changes (a mode switch restarts the node, a prune stops it) are commands that go ahead only
 *   within the pool's availability budget, and hold a slot until the sidecar's reports show them finished
 *   (see `commands.ts` for their life);
 * - everything else is "hold": the desired mode is the mode the sidecar reports, with no prune.
 *
 * The cost of a report does not grow with the pool while nothing is waiting: the budget is planned only while a
 * slot is free and a candidate waits, from the unavailable members, the candidates, and the members' heights for
 * holder coverage of the pool's cache window.
 *
 * Two rules keep the budget honest across a leader change, when the new leader cannot yet see everything:
 * - a quiet period of 3 report intervals after each election, in which no new command starts, so sidecars whose
 *   reports were not in Redis (Redis restarted empty, a report hash expired a moment ago) are seen first;
 * - sidecars silent since before the election whose pool nobody here knows ("orphans") stop new commands in every
 *   pool until they report again or are forgotten, since they may be down in any pool.
 */

import type { BootstrapRecord, FleetReports } from '@ghostfleet/coordination'
import {
  type BootstrapRequest,
  type DesiredState,
  type DisruptionCandidate,
  type DonationReport,
  type SidecarReport,
  safePruneHeight,
} from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { Logger } from '@ghostfleet/telemetry'
import type { BootstrapBook } from './bootstrap-book.js'
import { chooseDonors, type DonorChoice, pruneWaitLimit } from './bootstrap-donors.js'
import { budgetActivity, planBudget } from './budget.js'
import { advanceCommand, appliedAtLeast, type Command, describeCommand, donationOf } from './commands.js'
import type { ResolvedTrackerConfig } from './config.js'
import type { DesiredContent } from './desired-content.js'
import type { DesiredStateWriter, Trigger } from './desired-writer.js'
import type { OrphanSidecar, PoolEntry, SidecarEntry } from './fleet-state.js'
import type { TrackerMetrics } from './metrics.js'
import { type PoolRef, poolKey } from './pool-ref.js'
import { resolvePoolSettings } from './pool-settings.js'
import { poolThresholds } from './pool-thresholds.js'
import { orderReport } from './report-order.js'
import { nextIntervalEstimate, silentAfter } from './report-silence.js'
import {
  assessSidecar,
  compareWants,
  disruptionKind,
  type SidecarAssessment,
  type Want,
} from './sidecar-decision.js'
import { retryDelay, type TrackerTiming } from './timing.js'
import { poolCoverage } from './window-coverage.js'

export interface ReconcilerOptions {
  config: ResolvedTrackerConfig
  timing: TrackerTiming
  writer: DesiredStateWriter
  metrics: TrackerMetrics
  logger: Logger
  now?: () => number
  monotonic?: () => number
  /** A pool got its first sidecar while leading: start polling it. */
  onPoolAdded?: (pool: PoolEntry) => void
  /** A pool lost its last sidecar: stop polling it. */
  onPoolRemoved?: (pool: PoolEntry) => void
  /** Sidecars forgotten after a long silence: remove them from the Redis index. */
  onForget?: (sidecarIds: string[]) => void
  /**
   * A sidecar reports having applied an epoch above the one this leader writes under: the epoch counter went
   * back (Redis lost it), and the sidecar refuses everything this leader writes. The owner campaigns again, so
   * the next election takes an epoch above the fleet's (`epochFloor`).
   */
  onEpochBehindFleet?: (sidecarId: string, appliedEpoch: number) => void
  /** The bootstrap requests of new hosts (donors are chosen and their checkpoints scheduled here). */
  bootstraps: BootstrapBook
}

/** What a new leader starts from. */
export interface LeadershipStart {
  fleet: FleetReports
  /** The desired states the previous leaders stored, by sidecar id (valid ones only). */
  stored: ReadonlyMap<string, DesiredState>
  /** Pool progress shared by the previous leader, by pool key, when still fresh. */
  progress: ReadonlyMap<string, PoolFacts>
  /** The bootstrap requests stored by previous leaders. */
  bootstraps?: readonly BootstrapRecord[]
}

/** The answer to a new bootstrap request. */
export type BootstrapAnswer = { ok: true; record: BootstrapRecord } | { ok: false; reason: string }

const SILENT: SidecarAssessment = { want: null, note: 'silent: state unknown', lag: null, thresholds: null }
const UNHEARD: SidecarAssessment = {
  want: null,
  note: 'waiting for its first report to this leader',
  lag: null,
  thresholds: null,
}

export class Reconciler {
  sidecars = new Map<string, SidecarEntry>()
  readonly pools = new Map<string, PoolEntry>()
  readonly orphans = new Map<string, OrphanSidecar>()
  private readonly options: ReconcilerOptions
  private readonly now: () => number
  private readonly monotonic: () => number
  private leading = false
  private quietUntil = 0
  private quietOver = true
  /** Desired states of previous leaders not yet adopted (sidecars not reporting at the election). */
  private stored = new Map<string, DesiredState>()
  private seededProgress = new Map<string, PoolFacts>()
  private highestAppliedEpoch = 0

  constructor(options: ReconcilerOptions) {
    this.options = options
    this.now = options.now ?? Date.now
    this.monotonic = options.monotonic ?? (() => performance.now())
  }

  isLeading(): boolean {
    return this.leading
  }

  /** Until when new commands wait after the election (epoch ms); 0 when not leading. */
  quietPeriodEnd(): number {
    return this.leading ? this.quietUntil : 0
  }

  /** Why no new command may start in any pool right now, or null. */
  globalHold(now: number = this.now()): string | null {
    if (!this.leading) return 'not leading'
    if (now < this.quietUntil) {
      return `quiet period after the election until ${new Date(this.quietUntil).toISOString()}`
    }
    if (this.orphans.size > 0) {
      const names = [...this.orphans.keys()].slice(0, 5).join(', ')
      return `silent sidecars of unknown pool may be down anywhere: ${names}${this.orphans.size > 5 ? ', …' : ''}`
    }
    return null
  }

  /** The highest epoch any sidecar reported as applied: the floor for the next election. */
  maxAppliedEpoch(): number {
    return this.highestAppliedEpoch
  }

  /**
   * Takes over the fleet after an election: rebuilds sidecars from the reports, adopts the commands the previous
   * leader left unfinished, and submits every desired state under the new epoch (the writer was started on it).
   */
  begin(start: LeadershipStart): void {
    const now = this.now()
    const previous = this.sidecars
    this.sidecars = new Map()
    this.pools.clear()
    this.orphans.clear()
    this.stored = new Map(start.stored)
    this.seededProgress = new Map(start.progress)
    this.leading = true
    this.quietUntil = now + 3 * this.options.timing.defaultReportIntervalMs
    this.quietOver = false
    this.options.bootstraps.load(start.bootstraps ?? [])
    for (const report of start.fleet.reports.values()) {
      this.noteApplied(report)
      const before = previous.get(report.sidecarId)
      const entry = this.newEntry(report, Math.min(now, report.reportedAt), before?.intervalMs)
      // Counted in its pool (the budget sees what it last said it was doing), but nothing is decided or written
      // for it, and no command adopted, until it reports to this leader: see `heardSinceElection`.
      entry.heardSinceElection = false
      this.attach(entry)
    }
    for (const silent of start.fleet.silent) {
      const before = previous.get(silent.sidecarId)
      if (before !== undefined && !this.sidecars.has(silent.sidecarId)) {
        const entry = this.newEntry(before.report, before.receivedAt, before.intervalMs)
        entry.silent = true
        entry.heardSinceElection = false
        this.attach(entry)
      } else if (before === undefined) {
        this.orphans.set(silent.sidecarId, { ...silent })
      }
    }
    for (const entry of this.sidecars.values()) this.reconcile(entry, now)
    this.options.logger.info(
      {
        sidecars: this.sidecars.size,
        pools: this.pools.size,
        orphans: this.orphans.size,
        storedStates: this.stored.size,
        quietUntil: new Date(this.quietUntil).toISOString(),
      },
      'took over the fleet',
    )
  }

  /**
   * Stops deciding (deposed). The picture is kept: it tells this process where silent sidecars served, should it
   * lead again. The owner stops the pollers.
   */
  end(): void {
    this.leading = false
  }

  handleReport(report: SidecarReport, trigger: Trigger): void {
    if (!this.leading) return
    const now = this.now()
    this.noteApplied(report)
    const epoch = this.options.writer.epochInUse()
    if (epoch !== null && report.appliedEpoch > epoch) {
      this.options.onEpochBehindFleet?.(report.sidecarId, report.appliedEpoch)
      return
    }
    let entry = this.sidecars.get(report.sidecarId)
    if (entry !== undefined && orderReport(entry.report, report) === 'stale') {
      // An older or repeated report (a claimed stream entry, at-least-once delivery): nothing new.
      this.options.metrics.report('stale')
      return
    }
    this.options.metrics.report('accepted')
    if (entry !== undefined) entry.heardSinceElection = true
    if (this.orphans.delete(report.sidecarId)) this.quietOver = false
    if (entry === undefined) {
      entry = this.newEntry(report, now, undefined)
      this.attach(entry)
      this.adopt(entry, now)
    } else {
      entry.intervalMs = nextIntervalEstimate(entry.intervalMs, entry.report.reportedAt, report.reportedAt)
      if (entry.silent) this.options.logger.info({ sidecarId: entry.id }, 'sidecar reports again')
      const key = poolKey(report)
      if (key !== entry.poolKey) {
        this.detach(entry)
        if (entry.command !== null) this.finish(entry, now, 'dropped', `the sidecar now serves pool ${key}`)
        this.options.bootstraps.failDonor(entry.id, `the donor ${entry.id} now serves pool ${key}`, now)
        entry.pool = { chainId: report.chainId, poolId: report.poolId }
        entry.poolKey = key
        entry.report = report
        this.attach(entry)
      }
      entry.report = report
      entry.receivedAt = now
      entry.silent = false
      this.adopt(entry, now)
    }
    this.options.bootstraps.follow(report, now)
    this.reconcile(entry, now)
    const pool = this.pools.get(entry.poolKey)
    if (pool !== undefined) this.plan(pool, now, trigger)
    this.submit(entry, trigger)
    this.options.writer.keepAlive(entry.id)
  }

  handlePoolProgress(ref: PoolRef, progress: PoolFacts, trigger: Trigger): void {
    const pool = this.pools.get(poolKey(ref))
    if (pool === undefined || !this.leading) return
    const now = this.now()
    pool.progress = progress
    pool.thresholds = poolThresholds(progress, pool.settings.thresholdOverrides)
    pool.lastPollError = null
    pool.lastPollAt = now
    const members = [...pool.members].map((id) => this.sidecars.get(id)).filter((e) => e !== undefined)
    for (const entry of members) this.reconcile(entry, now)
    this.plan(pool, now, trigger)
    for (const entry of members) this.submit(entry, trigger)
  }

  handlePollError(ref: PoolRef, message: string): void {
    const pool = this.pools.get(poolKey(ref))
    if (pool === undefined) return
    pool.lastPollError = message
    pool.lastPollAt = this.now()
  }

  /** Called once per sweep interval: silence, forgetting, command timeouts, retries, prunes coming due, refresh. */
  sweep(): void {
    if (!this.leading) return
    const now = this.now()
    const trigger: Trigger = { kind: 'sweep', at: this.monotonic() }
    const { timing, logger } = this.options
    const touched = new Set<PoolEntry>()
    const forgotten: string[] = []
    for (const entry of this.sidecars.values()) {
      if (entry.silent) {
        if (now - entry.receivedAt > timing.forgetSilentAfterMs) forgotten.push(entry.id)
        continue
      }
      if (now > silentAfter(entry.receivedAt, entry.intervalMs)) {
        entry.silent = true
        logger.warn(
          { sidecarId: entry.id, pool: entry.poolKey, lastReportAgeMs: now - entry.receivedAt },
          'sidecar went silent: counted as unavailable until it reports again',
        )
      } else if (now < entry.nextCheckAt) {
        continue
      }
      this.reconcile(entry, now)
      this.submit(entry, trigger)
      const pool = this.pools.get(entry.poolKey)
      if (pool !== undefined) touched.add(pool)
    }
    for (const id of forgotten) {
      const entry = this.sidecars.get(id)
      if (entry === undefined) continue
      if (entry.command !== null)
        this.finish(entry, now, 'dropped', 'the sidecar was forgotten after a long silence')
      this.options.bootstraps.failDonor(id, `the donor ${id} was forgotten after a long silence`, now)
      const pool = this.pools.get(entry.poolKey)
      this.detach(entry)
      this.sidecars.delete(id)
      if (pool !== undefined && this.pools.has(pool.key)) touched.add(pool)
      logger.warn({ sidecarId: id, pool: entry.poolKey }, 'forgot a sidecar silent for too long')
    }
    for (const orphan of this.orphans.values()) {
      // lastReportAt is the sidecar's clock; skew only moves this by seconds against a limit of minutes.
      if (now - orphan.lastReportAt > timing.forgetSilentAfterMs) {
        this.orphans.delete(orphan.sidecarId)
        forgotten.push(orphan.sidecarId)
        logger.warn({ sidecarId: orphan.sidecarId }, 'forgot a sidecar silent since before the election')
      }
    }
    if (forgotten.length > 0) {
      // Everything about them: no more writes, refreshes or keep-alives, so their desired hashes expire.
      for (const id of forgotten) this.stored.delete(id)
      this.options.writer.forget(forgotten)
      this.options.onForget?.(forgotten)
    }
    if (!this.quietOver && now >= this.quietUntil && this.orphans.size === 0) {
      // The quiet period just ended (or the last orphan resolved): every pool may plan again.
      this.quietOver = true
      for (const pool of this.pools.values()) touched.add(pool)
    }
    for (const record of this.options.bootstraps.expire(now)) this.afterBootstrapEnd(record, now, trigger)
    for (const ref of this.options.bootstraps.waitingPools(now)) {
      const pool = this.pools.get(poolKey(ref))
      if (pool !== undefined) touched.add(pool)
    }
    for (const pool of touched) this.plan(pool, now, trigger)
    if (timing.refreshIntervalMs > 0) this.options.writer.refresh(timing.refreshIntervalMs)
  }

  /**
   * A new host asks for a donor. Refused (with why) when no sibling could donate even once free: none reports,
   * none serving with a peer listener, none holding the window. Otherwise the request is recorded (a repeated
   * request of the same host for the same pool gets its live one back) and the pool is planned at once.
   */
  requestBootstrap(request: BootstrapRequest, trigger: Trigger): BootstrapAnswer {
    const now = this.now()
    const hold = this.globalHold(now)
    if (hold === 'not leading') return { ok: false, reason: 'this tracker is not leading' }
    const existing = this.options.bootstraps.liveRequestOf(request)
    if (existing !== undefined) return { ok: true, record: existing }
    const pool = this.pools.get(poolKey(request))
    if (pool === undefined) {
      return {
        ok: false,
        reason: `no sidecar of pool ${request.poolId} on ${request.chainId} reports to this tracker`,
      }
    }
    const choice = this.donorsFor(pool, request.requestedBy, now, true)
    if (!choice.ok) return { ok: false, reason: choice.reason }
    const record = this.options.bootstraps.create(request, now)
    this.options.logger.info(
      {
        bootstrapId: record.bootstrapId,
        pool: pool.key,
        requestedBy: request.requestedBy,
        donors: choice.donors,
      },
      'bootstrap requested',
    )
    this.plan(pool, now, trigger)
    return { ok: true, record: this.options.bootstraps.get(record.bootstrapId) ?? record }
  }

  private donorsFor(
    pool: PoolEntry,
    requestedBy: string,
    now: number,
    includeBusy: boolean,
    waitForPruneUntil: number | null = null,
  ): DonorChoice {
    return chooseDonors({
      members: this.membersOf(pool).map((entry) => ({
        report: entry.report,
        // Not heard from under this term: its report may be Redis's old copy, not what it does now.
        silent: entry.silent || !entry.heardSinceElection,
        busy: entry.command !== null || this.options.bootstraps.isDonating(entry.id),
        pruneWanted: entry.assessment?.want?.kind === 'prune',
        failedBefore: this.options.bootstraps.failedFor(entry.id, requestedBy),
        pruneDueAt: this.pruneDueAt(entry, pool, now),
      })),
      waitForPruneUntil,
      progress: pool.progress,
      now,
      maxPoolAgeMs: this.options.config.maxPoolAgeMs,
      margin: pool.settings.margin,
      requestedBy,
      includeBusy,
    })
  }

  /**
   * When a ghost sidecar's next prune comes due (as `nextCheck` counts it); null in normal mode, never pruned, or
   * when a prune would have nothing to delete now (its base is at the safe height): no stop to wait for.
   */
  private pruneDueAt(entry: SidecarEntry, pool: PoolEntry, now: number): number | null {
    const { report } = entry
    if (report.mode !== 'ghost' || pool.progress === null) return null
    const at = Math.max(report.lastPrune?.at ?? 0, entry.pruneDoneAt ?? 0)
    if (at === 0) return null
    const prune = safePruneHeight({
      pool: { height: pool.progress.poolHeightKey, fetchedAt: pool.progress.fetchedAt },
      now,
      maxPoolAgeMs: this.options.config.maxPoolAgeMs,
      nodeHeight: report.nodeHeight,
      nodeBase: report.nodeBase,
      margin: pool.settings.margin,
    })
    return prune.prune ? at + pool.settings.pruningIntervalMs : null
  }

  /** A request became final (expired): its donor's command, if any, ends, and its desired state drops `donate`. */
  private afterBootstrapEnd(record: BootstrapRecord, now: number, trigger: Trigger): void {
    if (record.donor === null) return
    const donor = this.sidecars.get(record.donor)
    if (donor === undefined) return
    if (donor.command?.kind === 'checkpoint' && donor.command.bootstrapId === record.bootstrapId) {
      this.finish(donor, now, 'dropped', `bootstrap ${record.bootstrapId} ${record.state}`)
      this.reconcile(donor, now)
    }
    this.submit(donor, trigger)
  }

  /** Records that the write carrying a command was accepted: the token the sidecar's reports are compared with. */
  noteWritten(state: DesiredState): void {
    const command = this.sidecars.get(state.sidecarId)?.command
    if (command == null || command.token !== null) return
    const carries =
      command.kind === 'switch'
        ? state.mode === command.mode
        : command.kind === 'checkpoint'
          ? state.donate?.bootstrapId === command.bootstrapId
          : state.pruneToHeight === command.height
    if (carries) command.token = { epoch: state.epoch, generation: state.generation }
  }

  private noteApplied(report: SidecarReport): void {
    if (report.appliedEpoch > this.highestAppliedEpoch) this.highestAppliedEpoch = report.appliedEpoch
  }

  private newEntry(report: SidecarReport, receivedAt: number, intervalMs: number | undefined): SidecarEntry {
    return {
      id: report.sidecarId,
      pool: { chainId: report.chainId, poolId: report.poolId },
      poolKey: poolKey(report),
      report,
      receivedAt,
      intervalMs: intervalMs ?? this.options.timing.defaultReportIntervalMs,
      silent: false,
      command: null,
      switchRetryAt: 0,
      pruneRetryAt: 0,
      switchFailures: 0,
      pruneFailures: 0,
      pruneDoneAt: null,
      assessment: null,
      activity: 'unknown',
      lastOutcome: null,
      nextCheckAt: 0,
      heardSinceElection: true,
    }
  }

  private attach(entry: SidecarEntry): void {
    this.sidecars.set(entry.id, entry)
    let pool = this.pools.get(entry.poolKey)
    if (pool === undefined) {
      const settings = resolvePoolSettings(this.options.config, entry.pool)
      const progress = this.seededProgress.get(entry.poolKey) ?? null
      pool = {
        ref: { ...entry.pool },
        key: entry.poolKey,
        settings,
        progress,
        thresholds: poolThresholds(progress, settings.thresholdOverrides),
        members: new Set(),
        unavailable: new Map(),
        wanting: new Set(),
        lastPollError: null,
        lastPollAt: null,
      }
      this.pools.set(pool.key, pool)
      if (this.leading) this.options.onPoolAdded?.(pool)
    }
    pool.members.add(entry.id)
  }

  private detach(entry: SidecarEntry): void {
    const pool = this.pools.get(entry.poolKey)
    if (pool === undefined) return
    pool.members.delete(entry.id)
    pool.unavailable.delete(entry.id)
    pool.wanting.delete(entry.id)
    if (pool.members.size === 0) {
      this.pools.delete(pool.key)
      this.options.onPoolRemoved?.(pool)
    }
  }

  /**
   * Takes over a command a previous leader gave this sidecar and that is not finished, so it keeps its budget
   * slot and its prune height. A command the sidecar already applied and is no longer busy with is history
   * (done, or refused by the sidecar): not adopted.
   */
  private adopt(entry: SidecarEntry, now: number): void {
    const state = this.stored.get(entry.id)
    if (state === undefined) return
    this.stored.delete(entry.id)
    if (entry.command !== null) return
    const report = entry.report
    const token = { epoch: state.epoch, generation: state.generation }
    const applied = appliedAtLeast(report, token)
    const busy = report.activity !== 'serving'
    if (applied && !busy) return
    const base = {
      issuedAt: Math.min(now, state.issuedAt),
      token,
      pickedUpAt: applied || busy ? now : null,
      reason: state.reason,
    }
    let command: Command | null = null
    if (state.mode !== report.mode) {
      command = { kind: 'switch', mode: state.mode, ...base }
    } else if (state.pruneToHeight !== null) {
      const height = state.pruneToHeight
      const done =
        (report.lastPrune !== null && report.lastPrune.height >= height) || report.nodeBase >= height
      if (!done) {
        command = {
          kind: 'prune',
          height,
          basedOnPoolHeight: state.basedOnPoolHeight,
          poolFetchedAt: state.poolFetchedAt,
          ...base,
        }
      }
    } else if (state.donate != null) {
      // A checkpoint the donor has not reported past `taking` keeps its slot, as long as its request lives.
      const bootstrapId = state.donate.bootstrapId
      const donation: DonationReport | undefined = donationOf(report, bootstrapId)
      const request = this.options.bootstraps.get(bootstrapId)
      const live = request !== undefined && (request.state === 'pending' || request.state === 'taking')
      if (live && (donation === undefined || donation.state === 'taking')) {
        command = { kind: 'checkpoint', bootstrapId, ...base }
      }
    }
    if (command === null) return
    entry.command = command
    this.options.logger.info(
      { sidecarId: entry.id, pool: entry.poolKey, command: describeCommand(command), fromEpoch: state.epoch },
      'adopted an unfinished command of the previous leader',
    )
  }

  /** Re-evaluates one sidecar: its command's progress, what it wants, how it counts against the budget. */
  private reconcile(entry: SidecarEntry, now: number): void {
    const { timing } = this.options
    if (entry.command !== null) {
      const progress = advanceCommand(entry.command, entry.silent ? null : entry.report, now, timing)
      if (progress.state === 'done') this.finish(entry, now, 'done', 'the report shows it finished')
      else if (progress.state === 'withdrawn') this.finish(entry, now, progress.outcome, progress.detail)
    }
    const pool = this.pools.get(entry.poolKey)
    if (pool === undefined) return
    entry.assessment = entry.silent
      ? SILENT
      : !entry.heardSinceElection
        ? UNHEARD
        : assessSidecar({
            report: entry.report,
            command: entry.command,
            progress: pool.progress,
            poolThresholds: pool.thresholds,
            settings: pool.settings,
            now,
            maxPoolAgeMs: this.options.config.maxPoolAgeMs,
            switchRetryAt: entry.switchRetryAt,
            pruneRetryAt: entry.pruneRetryAt,
            pruneDoneAt: entry.pruneDoneAt,
          })
    this.updateBudget(pool, entry)
    if (entry.assessment.want !== null) pool.wanting.add(entry.id)
    else pool.wanting.delete(entry.id)
    entry.nextCheckAt = this.nextCheck(entry, pool, now)
  }

  private updateBudget(pool: PoolEntry, entry: SidecarEntry): void {
    // Until it reports to this leader its state is unknown, as a silent sidecar's is (counted as unavailable).
    entry.activity = budgetActivity(entry.report, entry.silent || !entry.heardSinceElection, entry.command)
    if (entry.activity === 'serving') pool.unavailable.delete(entry.id)
    else pool.unavailable.set(entry.id, entry.activity)
  }

  /** When this sidecar next needs a look without a new report. */
  private nextCheck(entry: SidecarEntry, pool: PoolEntry, now: number): number {
    // Commands are few and their timeouts matter: look at them every sweep.
    if (entry.command !== null) return now
    let next = Number.POSITIVE_INFINITY
    if (entry.switchRetryAt > now) next = Math.min(next, entry.switchRetryAt)
    if (entry.pruneRetryAt > now) next = Math.min(next, entry.pruneRetryAt)
    if (entry.report.mode === 'ghost') {
      const at = Math.max(entry.report.lastPrune?.at ?? 0, entry.pruneDoneAt ?? 0)
      const due = at + pool.settings.pruningIntervalMs
      if (at > 0 && due > now) next = Math.min(next, due)
    }
    return next
  }

  private finish(
    entry: SidecarEntry,
    now: number,
    outcome: 'done' | 'timeout' | 'refused' | 'dropped',
    detail: string,
  ): void {
    const command = entry.command
    if (command === null) return
    entry.command = null
    const { metrics, logger, timing } = this.options
    metrics.command(command.kind, outcome)
    entry.lastOutcome = { command: describeCommand(command), outcome, at: now, detail }
    const fields = {
      sidecarId: entry.id,
      pool: entry.poolKey,
      command: describeCommand(command),
      outcome,
      detail,
      durationMs: now - command.issuedAt,
    }
    if (command.kind === 'checkpoint') {
      // No retry of its own: the request fails with why, and the new host may ask again (another donor).
      if (outcome !== 'done') {
        this.options.bootstraps.failDonation(
          command.bootstrapId,
          `the donor ${entry.id} did not take the checkpoint (${outcome}): ${detail}`,
          now,
        )
      }
      logger[outcome === 'done' ? 'info' : 'warn'](
        fields,
        outcome === 'done' ? 'command finished' : 'command ended',
      )
      return
    }
    if (outcome === 'done') {
      if (command.kind === 'prune') {
        entry.pruneDoneAt = now
        entry.pruneFailures = 0
      } else {
        entry.switchFailures = 0
      }
      logger.info(fields, 'command finished')
      return
    }
    if (outcome === 'dropped') {
      logger.warn(fields, 'command dropped')
      return
    }
    if (command.kind === 'prune') {
      entry.pruneFailures += 1
      entry.pruneRetryAt = now + retryDelay(timing, entry.pruneFailures)
    } else {
      entry.switchFailures += 1
      entry.switchRetryAt = now + retryDelay(timing, entry.switchFailures)
    }
    logger.warn(fields, 'command withdrawn; its budget slot is free again')
  }

  /**
   * Lets the best candidates of a pool start, as far as its budget allows. On a stale pool height only returns
   * to normal may start (the stale-pool valve, `assessSidecar`); a want assessed before the height went stale
   * waits for a fresh one.
   */
  private plan(pool: PoolEntry, now: number, trigger: Trigger): void {
    const book = this.options.bootstraps
    const waiting = book.waiting(pool.ref, now)
    if ((pool.wanting.size === 0 && waiting.length === 0) || this.globalHold(now) !== null) return
    this.supersedePrunes(pool, now, trigger)
    if (pool.wanting.size === 0 && waiting.length === 0) return
    if (pool.unavailable.size >= pool.settings.maxUnavailable) {
      const who = [...pool.unavailable.keys()].slice(0, 5).join(', ')
      for (const request of waiting) {
        book.note(
          request.bootstrapId,
          `waiting: availability budget in use (${pool.unavailable.size} of ${pool.settings.maxUnavailable}: ${who})`,
          now,
        )
      }
      return
    }
    const progress = pool.progress
    if (progress === null) return
    const stale = now - progress.fetchedAt > this.options.config.maxPoolAgeMs
    const candidates: Array<{ id: string; want: Want }> = []
    for (const id of pool.wanting) {
      const want = this.sidecars.get(id)?.assessment?.want
      if (want == null) continue
      if (stale && disruptionKind(want) !== 'return-to-normal') continue
      candidates.push({ id, want })
    }
    // Donors for the requests waiting, oldest request first, one donor each. A donor that wants a prune takes the
    // checkpoint in the prune's stop (its prune is the candidate); any other takes a stop of its own.
    const requestOf = new Map<string, BootstrapRecord>()
    const checkpoints: DisruptionCandidate[] = []
    for (const request of waiting) {
      const choice = this.donorsFor(pool, request.requestedBy, now, false, pruneWaitLimit(request, now))
      if (!choice.ok) {
        book.note(request.bootstrapId, `waiting: ${choice.reason}`, now)
        continue
      }
      if (choice.waitFor !== undefined) {
        const { donor, dueAt } = choice.waitFor
        const at = new Date(dueAt).toISOString()
        book.note(
          request.bootstrapId,
          `waiting for donor ${donor}: its prune is due at ${at} (one stop for both)`,
          now,
        )
        continue
      }
      const donor = choice.donors.find((id) => !requestOf.has(id))
      if (donor === undefined) continue
      requestOf.set(donor, request)
      if (!candidates.some((c) => c.id === donor && c.want.kind === 'prune')) {
        checkpoints.push({ id: donor, kind: 'checkpoint' })
      }
    }
    if (candidates.length === 0 && checkpoints.length === 0) return
    candidates.sort(compareWants)
    const budget = planBudget(
      pool.unavailable,
      [
        // Bootstraps are rare and a host waits on them; returns to normal still go first (planDisruptions).
        ...checkpoints,
        ...candidates.map((c) => ({
          id: c.id,
          kind: disruptionKind(c.want),
          ...(c.want.kind === 'prune' ? { pruneTo: c.want.height } : {}),
        })),
      ],
      pool.settings.maxUnavailable,
      pool.members.size < 2 ? null : poolCoverage(progress, this.membersOf(pool), pool.unavailable),
    )
    const wants = new Map(candidates.map((c) => [c.id, c.want]))
    for (const id of budget.allowed) {
      const entry = this.sidecars.get(id)
      if (entry === undefined) continue
      const want = wants.get(id)
      const request = requestOf.get(id)
      if (request !== undefined) {
        const peerUrl = entry.report.peerUrl
        if (peerUrl === undefined) continue
        const how =
          want?.kind === 'prune'
            ? `donor ${id} takes the checkpoint with its prune to ${want.height}`
            : `donor ${id} stops for the checkpoint`
        book.grant(request.bootstrapId, id, peerUrl, how, now)
        this.options.logger.info(
          { bootstrapId: request.bootstrapId, pool: pool.key, donor: id, requestedBy: request.requestedBy },
          how,
        )
      }
      if (want !== undefined && (request === undefined || want.kind === 'prune')) {
        this.issue(pool, entry, want, now, trigger)
      } else if (request !== undefined) {
        this.issueCheckpoint(pool, entry, request, now, trigger)
      }
    }
    for (const [id, reason] of budget.deferred) {
      const request = requestOf.get(id)
      if (request !== undefined) book.note(request.bootstrapId, `waiting for donor ${id}: ${reason}`, now)
    }
  }

  private issueCheckpoint(
    pool: PoolEntry,
    entry: SidecarEntry,
    request: BootstrapRecord,
    now: number,
    trigger: Trigger,
  ): void {
    const reason = `checkpoint for ${request.requestedBy} (bootstrap ${request.bootstrapId})`
    entry.command = {
      kind: 'checkpoint',
      bootstrapId: request.bootstrapId,
      issuedAt: now,
      token: null,
      pickedUpAt: null,
      reason,
    }
    // A want it had (a switch) waits for the checkpoint: assessed again once the command is done.
    pool.wanting.delete(entry.id)
    if (entry.assessment !== null) {
      entry.assessment = { ...entry.assessment, want: null, note: `in progress: ${reason}` }
    }
    this.updateBudget(pool, entry)
    entry.nextCheckAt = now
    this.options.metrics.command('checkpoint', 'issued')
    this.options.logger.info(
      {
        sidecarId: entry.id,
        pool: pool.key,
        command: describeCommand(entry.command),
        unavailable: pool.unavailable.size,
        maxUnavailable: pool.settings.maxUnavailable,
      },
      'checkpoint',
    )
    this.submit(entry, trigger)
  }

  /** The pool's sidecars as the coverage check reads them (it needs every member's heights, not only the down). */
  private membersOf(pool: PoolEntry): SidecarEntry[] {
    const members: SidecarEntry[] = []
    for (const id of pool.members) {
      const entry = this.sidecars.get(id)
      if (entry !== undefined) members.push(entry)
    }
    return members
  }

  /**
   * Replaces with their return to normal the prunes that sidecars are not running (the only wants a sidecar
   * with a command is assessed to have, `supersedableByReturn`). The switch takes over the prune's budget slot:
   * the same sidecar, so no more of the pool is disrupted than before.
   */
  private supersedePrunes(pool: PoolEntry, now: number, trigger: Trigger): void {
    for (const id of [...pool.wanting]) {
      const entry = this.sidecars.get(id)
      const want = entry?.assessment?.want
      if (entry === undefined || want == null || entry.command === null) continue
      this.finish(entry, now, 'dropped', `superseded by a return to normal: ${want.reason}`)
      this.issue(pool, entry, want, now, trigger)
    }
  }

  private issue(pool: PoolEntry, entry: SidecarEntry, want: Want, now: number, trigger: Trigger): void {
    const base = { issuedAt: now, token: null, pickedUpAt: null, reason: want.reason }
    const command: Command =
      want.kind === 'switch'
        ? { kind: 'switch', mode: want.mode, ...base }
        : {
            kind: 'prune',
            height: want.height,
            basedOnPoolHeight: want.basedOnPoolHeight,
            poolFetchedAt: want.poolFetchedAt,
            ...base,
          }
    entry.command = command
    pool.wanting.delete(entry.id)
    if (entry.assessment !== null) {
      entry.assessment = { ...entry.assessment, want: null, note: `in progress: ${want.reason}` }
    }
    this.updateBudget(pool, entry)
    entry.nextCheckAt = now
    this.options.metrics.command(command.kind, 'issued')
    this.options.logger.info(
      {
        sidecarId: entry.id,
        pool: pool.key,
        command: describeCommand(command),
        reason: want.reason,
        unavailable: pool.unavailable.size,
        maxUnavailable: pool.settings.maxUnavailable,
      },
      command.kind === 'switch' ? 'mode switch' : 'prune',
    )
    this.submit(entry, trigger)
  }

  private submit(entry: SidecarEntry, trigger: Trigger): void {
    // Only after the sidecar's first report to this leader (`heardSinceElection`); that report also adopted, and
    // so consumed, whatever state the previous leader had stored for it.
    if (!this.leading || !entry.heardSinceElection) return
    this.options.writer.submit(entry.id, this.contentFor(entry), trigger, entry.report.appliedGeneration)
  }

  /**
   * The desired state of one sidecar: its command, else "hold the mode you report"; with `donate` while it is
   * the donor of a bootstrap request that is not final.
   */
  contentFor(entry: SidecarEntry): DesiredContent {
    const donate = this.options.bootstraps.donationFor(entry.id, this.now())
    const content = this.commandContent(entry)
    return donate === null ? content : { ...content, donate }
  }

  private commandContent(entry: SidecarEntry): DesiredContent {
    const progress = this.pools.get(entry.poolKey)?.progress ?? null
    const basedOnPoolHeight = progress?.poolHeight ?? 0
    const poolFetchedAt = progress?.fetchedAt ?? 0
    const command = entry.command
    if (command?.kind === 'switch') {
      return {
        mode: command.mode,
        pruneToHeight: null,
        basedOnPoolHeight,
        poolFetchedAt,
        reason: command.reason,
      }
    }
    if (command?.kind === 'prune') {
      return {
        mode: entry.report.mode,
        pruneToHeight: command.height,
        basedOnPoolHeight: command.basedOnPoolHeight,
        poolFetchedAt: command.poolFetchedAt,
        reason: command.reason,
      }
    }
    return {
      mode: entry.report.mode,
      pruneToHeight: null,
      basedOnPoolHeight,
      poolFetchedAt,
      reason: command?.reason ?? entry.assessment?.note ?? 'holding the reported mode',
    }
  }
}

import type { NodeRpcClient } from '@ghostfleet/cometbft'
import type { DonationReport, DonationRequest, MemberActivity, Thresholds } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import type { SidecarState } from '../state/sidecar-state.js'
import type { StateKeeper } from '../state/state-keeper.js'
import type { NodeExit } from '../supervisor/node-process.js'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'
import { ConditionLog } from './condition-log.js'
import { DataDirSampler } from './data-dir-sampler.js'
import type { Decision, DecisionSource } from './decision-source.js'
import type { CheckpointsStatus, DonationPort } from './donation-port.js'
import { ErrorRing, type RecordedError } from './error-ring.js'
import { GhostEntryBackoff } from './ghost-entry-backoff.js'
import { Heartbeat } from './heartbeat.js'
import { switchMode } from './mode-switch.js'
import type { AddressBookKeeper, NodeLifecycle } from './node-lifecycle.js'
import { type NodeObservation, observeNode } from './node-observer.js'
import { NodeRestarts } from './node-restarts.js'
import { whileNodeStopped } from './node-stopped.js'
import type { PoolRefresher, PoolRefresherStatus } from './pool-refresher.js'
import { shownPool } from './pool-snapshot.js'
import { guardPruneHeight } from './prune-guard.js'
import { type PruneResultLike, type PruneRun, runPrune } from './prune-operation.js'
import { nextPruneDueAt, retryAfterFailureMs } from './prune-schedule.js'
import { PruneVerification } from './prune-verification.js'
import { TickLoop } from './tick-loop.js'
import { publishTickMetrics } from './tick-metrics.js'

export type { RecordedError } from './error-ring.js'

/**
 * The supervision loop. Every `intervalMs` (measured from the end of the previous tick, so ticks never
 * overlap):
 *   1. a home that vanished is a local fatal error: stop the node, exit non-zero;
 *   2. a node that should run but does not (its spawn failed) is started again;
 *   3. the pool view is refreshed (one KYVE call at most in flight) and given up to one interval to answer; the
 *      resulting snapshot (`pool-snapshot.ts`) is what this tick decides on;
 *   4. the node is observed (`/abci_info`, `/status`), a pending prune verification is settled;
 *   5. the decision source decides (mode, prune height or refusal) from the node and the snapshot;
 *   6. the decision is carried out: a mode switch (`mode-switch.ts`), or a prune in ghost mode after the guard
 *      re-checked its height against the decision's own pool answer (`prune-guard.ts`, `prune-operation.ts`).
 * Remote failures never end the loop: they hold the mode (the decision source says so), are logged when the
 * condition changes, counted, and shown in /status and /readyz.
 */

/** What the sidecar is busy with (`starting` until the first tick, `stopped` after shutdown). */
export type Activity = 'starting' | 'idle' | 'switching' | 'pruning' | 'donating' | 'stopping' | 'stopped'

export interface ControllerOptions {
  intervalMs: number
  maxPoolAgeMs: number
  thresholds: Thresholds
  pruning: {
    enabled: boolean
    intervalMs: number
    margin: number
    /** Why pruning is off (for /status), null when it is on. */
    disabledReason?: string | null
  }
  /** How often the data directory is measured (it is a walk over many files). */
  dataSizeEveryMs: number
}

export interface ControllerDeps {
  node: NodeLifecycle
  rpc: NodeRpcClient
  pool: Pick<PoolRefresher, 'take' | 'snapshot' | 'status'>
  decisions: DecisionSource
  addressBook: AddressBookKeeper
  state: StateKeeper
  metrics: SidecarMetrics
  log: Logger
  now: () => number
  waitUntilUnlocked: () => Promise<void>
  prune: (untilHeight: number, signal: AbortSignal) => Promise<PruneResultLike>
  dataDirBytes: () => Promise<number>
  /** A problem with the node home that makes going on pointless (it vanished), or null. */
  checkHome: () => Promise<string | null>
  /** A local fatal error: the caller shuts down and exits non-zero. */
  onFatal: (error: Error) => void
  /** The donor side of bootstrapping (fleet mode with a fleet key and a peer listener); absent: no donations. */
  donor?: DonationPort
}

/** Everything /status, /readyz and the metrics show, in one consistent snapshot. */
export interface ControllerSnapshot {
  activity: Activity
  state: SidecarState
  node: NodeObservation | null
  nodeProcess: { state: string; pid: number | null; uptimeMs: number; crashRestarts: number }
  decision: Decision | null
  lastTickAt: number | null
  pool: PoolRefresherStatus
  thresholds: Thresholds
  pruning: {
    enabled: boolean
    /** Why pruning is off, null when it is on. */
    disabledReason: string | null
    intervalMs: number
    nextDueAt: number | null
    inProgress: { height: number; since: number } | null
    lastRun: PruneRun | null
    pendingVerification: { height: number; since: number } | null
  }
  dataDir: { bytes: number | null; measuredAt: number | null }
  errors: RecordedError[]
  /** Donation states for the fleet report (absent without a donor). */
  donations?: DonationReport[]
  /** Checkpoints for /status (absent without a donor). */
  checkpoints?: CheckpointsStatus
  now: number
}

export class Controller {
  private activity: Activity = 'starting'
  private readonly loop: TickLoop
  private readonly restarts: NodeRestarts
  private stopping: Promise<void> | null = null
  private readonly abort = new AbortController()
  private lastNode: NodeObservation | null = null
  private lastDecision: Decision | null = null
  private lastTickAt: number | null = null
  private lastPruneRun: PruneRun | null = null
  private pruneInProgress: { height: number; since: number } | null = null
  private readonly errors: ErrorRing
  private readonly ghostEntry = new GhostEntryBackoff()
  private readonly conditions: ConditionLog
  private readonly dataDir: DataDirSampler
  private readonly verification: PruneVerification
  private readonly heartbeat: Heartbeat

  constructor(
    private readonly options: ControllerOptions,
    private readonly deps: ControllerDeps,
  ) {
    this.errors = new ErrorRing(deps.now)
    this.conditions = new ConditionLog(deps.log)
    this.verification = new PruneVerification({ metrics: deps.metrics, log: deps.log, errors: this.errors })
    this.heartbeat = new Heartbeat(deps.log)
    this.restarts = new NodeRestarts({ ...deps, errors: this.errors, conditions: this.conditions })
    this.loop = new TickLoop(
      () => this.tick().catch((error) => this.errors.record('tick', error)),
      options.intervalMs,
    )
    this.dataDir = new DataDirSampler({
      measure: deps.dataDirBytes,
      everyMs: options.dataSizeEveryMs,
      now: deps.now,
      onBytes: (bytes) => deps.metrics.dataDirBytes.set(bytes),
      onError: (error) => deps.log.debug({ err: error }, 'could not measure the data directory'),
    })
    deps.metrics.setMode(deps.state.get().mode)
    deps.metrics.thresholdMax.set(options.thresholds.heightDifferenceMax)
    deps.metrics.thresholdMin.set(options.thresholds.heightDifferenceMin)
  }

  /** Aborts when shutdown begins (waits and prunes watch it). */
  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** Launches the node (in the persisted mode) and starts ticking. */
  async start(): Promise<void> {
    try {
      await this.deps.node.start()
    } catch (error) {
      // Not fatal: the binary may come back (an upgrade in progress); every tick tries again.
      this.errors.record('node-start', error)
    }
    this.loop.start()
  }

  /**
   * Stops the loop, abandons an in-flight prune at its next batch boundary, stops the node (SIGTERM, grace,
   * SIGKILL) and waits for the state to be saved. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort()
      await this.loop.stop()
      this.activity = 'stopping'
      try {
        await this.deps.node.stop()
      } finally {
        await this.deps.state.flush()
        this.activity = 'stopped'
      }
    })()
    return this.stopping
  }

  /** Wire `NodeProcess`'s onExit here: crashes are counted and logged with the restart delay. */
  nodeExited(exit: NodeExit): void {
    this.restarts.exited(exit)
  }

  /** Wire `NodeProcess`'s onStart here: the pid is persisted so a restarted sidecar can find an orphan. */
  nodeStarted(pid: number): void {
    this.restarts.started(pid)
  }

  snapshot(): ControllerSnapshot {
    const now = this.deps.now()
    const state = this.deps.state.get()
    return {
      activity: this.activity,
      state,
      node: this.lastNode,
      nodeProcess: {
        state: this.deps.node.state(),
        pid: this.deps.node.pid(),
        uptimeMs: this.deps.node.uptimeMs(now),
        crashRestarts: this.deps.node.restartCount(),
      },
      decision: this.lastDecision,
      lastTickAt: this.lastTickAt,
      pool: this.deps.pool.status(),
      thresholds: this.options.thresholds,
      pruning: {
        enabled: this.options.pruning.enabled,
        disabledReason: this.options.pruning.enabled ? null : (this.options.pruning.disabledReason ?? null),
        intervalMs: this.options.pruning.intervalMs,
        nextDueAt: this.options.pruning.enabled ? this.pruneDueAt(state) : null,
        inProgress: this.pruneInProgress,
        lastRun: this.lastPruneRun,
        pendingVerification: this.verification.pending(),
      },
      dataDir: this.dataDir.reading(),
      errors: this.errors.list(),
      ...(this.deps.donor === undefined
        ? {}
        : { donations: this.deps.donor.reports(), checkpoints: this.deps.donor.status() }),
      now,
    }
  }

  /** For fleet reports: the availability-budget activity. */
  memberActivity(): MemberActivity {
    if (this.activity === 'pruning') return 'pruning'
    if (this.activity === 'switching' || this.activity === 'donating' || this.deps.node.state() !== 'running')
      return 'restarting'
    return 'serving'
  }

  /**
   * Runs the next tick now instead of at its scheduled time (fleet mode: the tracker wrote a new desired state);
   * during a tick, right after it. Ticks still never overlap.
   */
  runSoon(): void {
    this.loop.runSoon()
  }

  private pruneDueAt(state: SidecarState): number {
    const intervalMs = this.options.pruning.intervalMs
    return nextPruneDueAt({
      intervalMs,
      lastPruneAt: state.lastPrune?.at ?? null,
      lastAttemptAt: state.lastPruneAttemptAt,
      clockStartedAt: state.pruneClockStartedAt ?? this.deps.now(),
      retryAfterFailureMs: retryAfterFailureMs(intervalMs),
    })
  }

  private async tick(): Promise<void> {
    const { deps } = this
    if (this.abort.signal.aborted) return
    if (this.activity === 'starting') this.activity = 'idle'

    const homeProblem = await deps.checkHome()
    if (homeProblem !== null) {
      deps.onFatal(new Error(homeProblem))
      return
    }

    await this.restarts.restartIfStopped()

    const pool = (await deps.pool.take(this.options.intervalMs)) ?? deps.pool.snapshot()
    const node = await observeNode(deps.rpc, deps.now, (method, outcome) =>
      deps.metrics.nodeRpcRequests.inc({ method, outcome }),
    )
    if (this.abort.signal.aborted) return
    this.lastNode = node
    this.lastTickAt = deps.now()
    publishTickMetrics(deps.metrics, {
      node,
      pool: shownPool(pool),
      poolStatus: deps.pool.status(),
      heightDifference: {
        max: this.options.thresholds.heightDifferenceMax,
        min: this.options.thresholds.heightDifferenceMin,
      },
      nextPruneDueAt: this.options.pruning.enabled ? this.pruneDueAt(deps.state.get()) : null,
      now: deps.now(),
    })
    this.reportNode(node)
    this.reportPool()
    this.verification.check(node)
    this.dataDir.sample()

    const state = deps.state.get()
    const now = deps.now()
    const pruneDue = this.options.pruning.enabled && now >= this.pruneDueAt(state)
    const decision = await deps.decisions.decide({ now, mode: state.mode, node, pool, pruneDue })
    this.lastDecision = decision
    if (decision.diff !== null) deps.metrics.heightDifference.set(decision.diff)
    if (this.abort.signal.aborted) return

    if (decision.mode !== state.mode) {
      if (decision.mode === 'ghost' && now < this.ghostEntry.notBefore()) {
        this.conditions.report(
          'ghost-entry',
          'warn',
          `ghost mode is due (${decision.reason}) but the last attempt could not stash the address book; retrying ` +
            `after ${new Date(this.ghostEntry.notBefore()).toISOString()}`,
        )
        return
      }
      // A donation asked for meanwhile waits for the next tick (the desired state still carries it).
      await this.carryOutSwitch(decision)
      return
    }
    const donation = deps.donor?.due(decision.donate, now) ?? null
    const fields = {
      mode: decision.mode,
      node: node.reachable ? node.appHeight : null,
      base: node.reachable ? node.base : null,
      pool: shownPool(decision.pool)?.poolHeight ?? null,
      diff: decision.diff,
    }
    this.heartbeat.beat(deps.now(), fields, decision.reason)
    if (decision.pruneToHeight !== null && state.mode === 'ghost') {
      const verdict = guardPruneHeight({
        requested: decision.pruneToHeight,
        pool: decision.pool.own,
        node,
        now: deps.now(),
        maxPoolAgeMs: this.options.maxPoolAgeMs,
        margin: this.options.pruning.margin,
      })
      // A donation asked for in the same desired state shares the prune's stop: one restart, not two.
      if (verdict.allowed) await this.carryOutPrune(verdict.height, decision, donation)
      else {
        this.refusePrune(verdict.reason, verdict.detail)
        if (donation !== null) await this.carryOutDonation(donation)
      }
      return
    }
    if (decision.pruneRefusal !== null)
      this.refusePrune(decision.pruneRefusal.reason, decision.pruneRefusal.detail)
    else this.conditions.clear('prune-refusal')
    if (donation !== null) await this.carryOutDonation(donation)
  }

  /**
   * A checkpoint for a bootstrapping host: the node stops (the prune's lock checks), the checkpoint is taken (links
   * and small copies), the node starts again; the donor seals it in the background while the node serves.
   */
  private async carryOutDonation(request: DonationRequest): Promise<void> {
    const { deps } = this
    const donor = deps.donor
    if (donor === undefined) return
    this.activity = 'donating'
    donor.begin(request)
    deps.log.info(
      { bootstrapId: request.bootstrapId, requestedBy: request.requestedBy },
      `donating a checkpoint to ${request.requestedBy}: stopping the node to take it`,
    )
    try {
      const run = await whileNodeStopped({ ...deps, signal: this.abort.signal }, () => donor.take(request))
      deps.metrics.nodeRestarts.inc({ reason: 'donation' })
      donor.restarted(request, { failure: run.error, startError: run.startError, downtimeMs: run.downtimeMs })
      if (run.error !== null) this.errors.record('donation', run.error)
      if (run.startError !== null) this.errors.record('node-start', run.startError)
      deps.log.info(
        { bootstrapId: request.bootstrapId, downtimeMs: run.downtimeMs, failed: run.error?.message },
        run.error === null
          ? `checkpoint taken in a ${run.downtimeMs} ms stop; node started again, sealing in the background`
          : 'the donation failed; the node was started again',
      )
      this.dataDir.invalidate()
    } finally {
      if (this.activity === 'donating') this.activity = 'idle'
    }
  }

  private async carryOutSwitch(decision: Decision): Promise<void> {
    const { deps } = this
    this.activity = 'switching'
    deps.log.info(
      { from: deps.state.get().mode, to: decision.mode, diff: decision.diff, decidedBy: decision.decidedBy },
      `switching to ${decision.mode} mode: ${decision.reason}`,
    )
    try {
      const result = await switchMode({ ...deps, signal: this.abort.signal }, decision.mode, decision.reason)
      deps.metrics.nodeRestarts.inc({ reason: 'mode_switch' })
      deps.metrics.setMode(result.to)
      if (result.reverted) this.ghostEntry.failed(deps.now())
      else {
        deps.metrics.modeSwitches.inc({ to: result.to })
        if (result.to === 'ghost') this.ghostEntry.succeeded()
        this.conditions.clear('ghost-entry')
      }
      if (result.addressBook.ok) {
        deps.log.info({ mode: result.to }, result.addressBook.detail)
      } else {
        this.errors.record('address-book', result.addressBook.error)
        deps.log.error(
          { err: result.addressBook.error, mode: result.to },
          result.reverted
            ? 'could not stash the address book, so the node stays in normal mode (a ghost node would overwrite ' +
                'the book); nothing was changed on disk — inspect the files named above'
            : 'could not restore the address book; nothing was changed on disk, the stash is kept and the node ' +
                'starts in normal mode with its seeds — inspect the files named above',
        )
      }
      if (result.startError) this.errors.record('node-start', result.startError)
      deps.log.info({ mode: result.to, durationMs: result.durationMs }, `now in ${result.to} mode`)
    } catch (error) {
      // Persisting the intent or stopping the node failed: nothing was switched; the next tick decides again.
      this.errors.record('mode-switch', error)
      deps.log.error({ err: error }, 'mode switch failed; holding, retrying next tick')
    } finally {
      if (this.activity === 'switching') this.activity = 'idle'
    }
  }

  private async carryOutPrune(
    height: number,
    decision: Decision,
    donation: DonationRequest | null,
  ): Promise<void> {
    const { deps } = this
    const donor = donation === null ? undefined : deps.donor
    let taken: { error: Error | null } | null = null
    const whileStopped =
      donor === undefined || donation === null
        ? undefined
        : async () => {
            try {
              await donor.take(donation)
              taken = { error: null }
            } catch (error) {
              taken = { error: error instanceof Error ? error : new Error(String(error)) }
            }
          }
    if (donor !== undefined && donation !== null) donor.begin(donation)
    this.conditions.clear('prune-refusal')
    this.activity = 'pruning'
    this.pruneInProgress = { height, since: deps.now() }
    const base = this.lastNode?.reachable ? this.lastNode.base : null
    deps.log.info(
      {
        untilHeight: height,
        base,
        pool: shownPool(decision.pool)?.poolHeight,
        decidedBy: decision.decidedBy,
      },
      `pruning: stopping the node to prune everything below height ${height}`,
    )
    try {
      const run = await runPrune(
        { ...deps, signal: this.abort.signal, ...(whileStopped === undefined ? {} : { whileStopped }) },
        height,
      )
      this.lastPruneRun = run
      if (donor !== undefined && donation !== null) {
        const done = taken as { error: Error | null } | null
        const failure =
          done?.error ??
          (done === null
            ? new Error(
                `the checkpoint was not taken: the stop for the prune to ${height} failed before the databases ` +
                  `were free (${run.outcome === 'failed' ? run.error.message : 'shutdown'})`,
              )
            : null)
        donor.restarted(donation, { failure, startError: run.startError, downtimeMs: run.durationMs })
        if (failure !== null) this.errors.record('donation', failure)
      }
      deps.metrics.nodeRestarts.inc({ reason: 'prune' })
      deps.metrics.prunes.inc({ outcome: run.outcome })
      deps.metrics.pruneDuration.observe(run.durationMs / 1000)
      if (run.outcome === 'failed') {
        this.errors.record('prune', run.error)
        deps.log.error(
          { err: run.error, untilHeight: height, durationMs: run.durationMs },
          'prune failed; the node was started again, the prune is retried later',
        )
      } else {
        const r = run.result
        deps.metrics.prunedBlocks.inc(r.blocksPruned)
        deps.metrics.lastPruneTimestamp.set(deps.now() / 1000)
        deps.log.info(
          {
            fromBase: r.fromBase,
            toBase: r.toBase,
            blocks: r.blocksPruned,
            bytesBefore: r.bytesBefore,
            bytesAfter: r.bytesAfter,
            pruneMs: Math.round(r.durationMs),
            totalMs: run.durationMs,
          },
          run.outcome === 'noop'
            ? `prune to ${height}: nothing to do`
            : `pruned blocks ${r.fromBase}..${r.toBase - 1} (${r.blocksPruned} blocks, ` +
                `${r.bytesBefore} → ${r.bytesAfter} bytes) in ${Math.round(r.durationMs)} ms; node restarted`,
        )
        this.verification.expect(height, deps.now())
        this.dataDir.invalidate()
      }
      if (run.startError) this.errors.record('node-start', run.startError)
    } catch (error) {
      this.errors.record('prune', error)
      deps.log.error({ err: error }, 'prune could not start; retrying later')
      // The node was not stopped: the donation that was to share the stop fails, saying why.
      if (donor !== undefined && donation !== null && taken === null) {
        const failure = new Error(
          `the checkpoint was not taken: the prune to ${height} it was to share a stop with could not start ` +
            `(${error instanceof Error ? error.message : String(error)})`,
        )
        donor.restarted(donation, { failure, startError: null, downtimeMs: 0 })
        this.errors.record('donation', failure)
      }
    } finally {
      this.pruneInProgress = null
      if (this.activity === 'pruning') this.activity = 'idle'
    }
  }

  private refusePrune(reason: string, detail: string): void {
    this.deps.metrics.pruneRefusals.inc({ reason })
    // Logged once per reason (the detail carries ages and heights that change every tick); counted every tick.
    this.conditions.report(
      'prune-refusal',
      'warn',
      `prune due but not safe (${reason}): ${detail}; retrying next tick`,
      {
        repeatLevel: 'debug',
        key: reason,
      },
    )
  }

  private reportNode(node: NodeObservation): void {
    if (node.reachable) {
      this.conditions.clear('node', 'node answers again')
      return
    }
    // Right after a (re)start an unreachable node is expected; the condition is reported all the same, once.
    this.conditions.report('node', 'warn', `node RPC ${node.kind}: ${node.error}; holding the mode`)
  }

  private reportPool(): void {
    const status = this.deps.pool.status()
    if (status.consecutiveFailures === 0) {
      this.conditions.clear('kyve', 'KYVE API answers again')
      return
    }
    this.conditions.report(
      'kyve',
      'warn',
      `KYVE API failing: ${status.lastError}; using the last good pool height while it is fresh, holding the ` +
        'mode, retrying with backoff (details in /status)',
      { key: 'failing' },
    )
    if (status.lastError !== null && status.lastFailureAt !== null)
      this.errors.recordOnce({ at: status.lastFailureAt, where: 'kyve', message: status.lastError })
  }
}

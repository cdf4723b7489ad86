import {
  compareFencingTokens,
  FencedDesiredStateError,
  type FencingToken,
  type FleetKey,
  InvalidDesiredStateError,
  type RedisClient,
  readDesiredState,
  readLeader,
  waitForReady,
} from '@ghostfleet/coordination'
import type { DesiredState, NodeMode } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import { ConditionLog } from '../control/condition-log.js'
import type { DecidedBy, Decision, DecisionInput, DecisionSource } from '../control/decision-source.js'
import { type PoolSnapshot, shownPool } from '../control/pool-snapshot.js'
import type { SidecarState } from '../state/sidecar-state.js'
import type { StateKeeper } from '../state/state-keeper.js'
import { judgeAuthority, judgeDesiredState, olderThanApplied } from './desired-state-judge.js'
import type { DesiredRefusalReason, FleetMetrics } from './fleet-metrics.js'
import type { FleetPoolSource } from './fleet-pool-source.js'

/**
 * Fleet mode's {@link DecisionSource}: the tracker decides, through the desired state it writes to Redis, and the
 * sidecar decides on its own ({@link TrackerDecisionSourceOptions.local}, its own KYVE polling) only while the
 * tracker is out of reach.
 *
 * **Level-triggered.** Every control-loop tick reads the desired state again (`readDesiredState`); a wake-up from
 * `subscribeDesiredState` only brings the tick forward. Nothing depends on a message arriving.
 *
 * **What is applied.** A desired state is acted on only if all of these hold, and is otherwise refused, counted
 * (`ghostfleet_fleet_desired_states_total{outcome="refused-<reason>"}`), logged once and shown in /status:
 * - it decodes, passes the wire schema and names this sidecar (`malformed`, `wrong-sidecar`);
 * - with a fleet key, its HMAC verifies (`unsigned`, `bad-signature`);
 * - its epoch is not older than the current leader epoch (`stale-epoch`: a deposed tracker wrote it);
 * - its (epoch, generation) is not older than the token this sidecar applied last and persisted in state.json
 *   (`stale-epoch`/`stale-generation`: a rolled-back Redis, a replay). An equal token was applied already: it
 *   is not acted on again (`duplicate`), the sidecar holds its mode;
 * - a prune height is acted on only above the node's base (at or below it the prune is done: nothing to do), with
 *   pruning enabled here (`pruning-disabled`), and only if it is not above the safe height this sidecar computes
 *   from **its own** KYVE answer, asked for on the spot (`above-own-safe-height`, or the guard's other reasons).
 *   The controller then re-checks it once more (`prune-guard.ts`) before touching the disk.
 * An applied token is persisted before the controller acts on it, so a restarted sidecar never repeats it.
 *
 * **Is the tracker alive?** A desired state proves only that a tracker was alive once. The sidecar counts as
 * *contact* an acceptable state that either (a) carries a token it has not seen before with an `issuedAt` within
 * `trackerTimeoutMs` of its own clock (the tracker re-issues unchanged states every 30 s by default), or (b) was
 * issued under the epoch of the tracker that holds the leader lease right now (`readLeader`; a tracker run with
 * `--refresh-seconds 0` is still alive). Clocks only matter for (a), and only to the degree of the timeout.
 *
 * **Fallback and hand-back.** Without contact for `trackerTimeoutMs` (tracker dead, Redis unreachable, nothing
 * written for this sidecar, only refused states), the local source decides and reports `decidedBy: "local"`;
 * the pool source switches to the sidecar's own KYVE client. Before that, the sidecar holds its mode (a Redis
 * blip must not send a whole fleet to KYVE at once, nor let it switch modes outside the tracker's budget).
 * At start the same grace applies. Contact again hands control back at once. Each handover is logged once and
 * counted.
 */
export interface TrackerDecisionSourceOptions {
  redis: RedisClient
  sidecarId: string
  /** Verify signatures with this key; null: not checked. */
  fleetKey: FleetKey | null
  trackerTimeoutMs: number
  /** The standalone decider, fed only with the sidecar's own KYVE answers. */
  local: DecisionSource
  /**
   * Refreshes the pool view through the sidecar's own KYVE client, waiting at most `waitMs`; null when it did
   * not answer in time.
   */
  takeOwnPool(waitMs: number): Promise<PoolSnapshot | null>
  poolSource: Pick<FleetPoolSource, 'setOwnOnly'>
  state: Pick<StateKeeper, 'get' | 'update'>
  metrics: FleetMetrics
  log: Logger
  maxPoolAgeMs: number
  pruning: { enabled: boolean; margin: number }
  /** How long a decision may wait for the sidecar's own KYVE answer (the supervision interval). */
  ownViewWaitMs: number
  now?: () => number
}

/** What /status shows about the tracker link. */
export interface TrackerLinkStatus {
  decidedBy: DecidedBy
  decidedBySince: number
  lastContactAt: number | null
  trackerTimeoutMs: number
  leader: { holder: string; epoch: number } | null
  desired: {
    epoch: number
    generation: number
    mode: NodeMode
    pruneToHeight: number | null
    issuedAt: number
    reason: string
  } | null
  lastApplied: { at: number; epoch: number; generation: number; action: string } | null
  lastRefusal: {
    at: number
    reason: DesiredRefusalReason
    detail: string
    epoch: number | null
    generation: number | null
  } | null
  lastReadProblem: string | null
}

type Read =
  | { kind: 'state'; ds: DesiredState }
  | { kind: 'absent' }
  | { kind: 'refused'; reason: DesiredRefusalReason; detail: string; token: FencingToken | null }
  | { kind: 'unreadable'; detail: string }

const appliedToken = (state: SidecarState): FencingToken => ({
  epoch: state.appliedEpoch,
  generation: state.appliedGeneration,
})

export class TrackerDecisionSource implements DecisionSource {
  private authority: DecidedBy = 'tracker'
  private authoritySince: number
  private readonly startedAt: number
  private lastContactAt: number | null = null
  private lastSeen: FencingToken | null = null
  private leader: TrackerLinkStatus['leader'] = null
  private desired: TrackerLinkStatus['desired'] = null
  private lastApplied: TrackerLinkStatus['lastApplied'] = null
  private lastRefusal: TrackerLinkStatus['lastRefusal'] = null
  private readonly conditions: ConditionLog
  private lastReadProblem: string | null = null
  private everRead = false
  private readonly now: () => number

  constructor(private readonly options: TrackerDecisionSourceOptions) {
    this.now = options.now ?? Date.now
    this.conditions = new ConditionLog(options.log)
    this.startedAt = this.now()
    this.authoritySince = this.startedAt
    options.metrics.setDecidedBy('tracker')
    options.poolSource.setOwnOnly(false)
    const state = options.state.get()
    options.metrics.appliedEpoch.set(state.appliedEpoch)
    options.metrics.appliedGeneration.set(state.appliedGeneration)
  }

  /** Who decides right now. */
  get name(): DecidedBy {
    return this.authority
  }

  status(): TrackerLinkStatus {
    return {
      decidedBy: this.authority,
      decidedBySince: this.authoritySince,
      lastContactAt: this.lastContactAt,
      trackerTimeoutMs: this.options.trackerTimeoutMs,
      leader: this.leader,
      desired: this.desired,
      lastApplied: this.lastApplied,
      lastRefusal: this.lastRefusal,
      lastReadProblem: this.lastReadProblem,
    }
  }

  async decide(input: DecisionInput): Promise<Decision> {
    const { now } = input
    const state = this.options.state.get()
    const read = await this.read()
    let accepted: DesiredState | null = null
    let problem: string
    switch (read.kind) {
      case 'state': {
        const older = olderThanApplied(read.ds, appliedToken(state))
        if (older !== null) {
          problem = older.detail
          this.refuse(older.reason, older.detail, read.ds, now)
          break
        }
        accepted = read.ds
        this.desired = {
          epoch: read.ds.epoch,
          generation: read.ds.generation,
          mode: read.ds.mode,
          pruneToHeight: read.ds.pruneToHeight,
          issuedAt: read.ds.issuedAt,
          reason: read.ds.reason,
        }
        problem = 'the tracker shows no sign of life (no new desired state, no leader lease of its epoch)'
        if (await this.isContact(read.ds, now)) this.contact(now)
        break
      }
      case 'absent':
        problem = 'no desired state for this sidecar in Redis yet'
        this.options.metrics.desiredStates.inc({ outcome: 'absent' })
        break
      case 'refused':
        problem = read.detail
        this.refuse(read.reason, read.detail, read.token, now)
        break
      case 'unreadable':
        problem = `Redis: ${read.detail}`
        this.options.metrics.desiredStates.inc({ outcome: 'unreadable' })
        break
    }
    this.lastReadProblem = read.kind === 'state' && accepted !== null ? null : problem

    const timeout = this.options.trackerTimeoutMs
    const authority = judgeAuthority({
      now,
      lastContactAt: this.lastContactAt,
      startedAt: this.startedAt,
      current: this.authority,
      trackerTimeoutMs: timeout,
    })
    if (authority === 'tracker') {
      this.handTo('tracker', now, 'the tracker is back: following its desired state')
      // A donation request rides along whatever the verdict on mode and prune: the controller carries it out once.
      if (accepted !== null)
        return { ...(await this.follow(accepted, input, state)), donate: accepted.donate ?? null }
      return this.hold(
        input,
        `${problem}; holding ${state.mode} mode, deciding locally if this lasts ` +
          `${Math.round(timeout / 1000)} s`,
      )
    }
    if (accepted !== null) this.options.metrics.desiredStates.inc({ outcome: 'silent' })
    if (authority === 'waiting') {
      return this.hold(input, `waiting for the tracker (${problem}); holding ${state.mode} mode`)
    }
    const since = this.lastContactAt ?? this.startedAt
    this.handTo(
      'local',
      now,
      `no live tracker for ${Math.round((now - since) / 1000)} s (${problem}): deciding locally from this ` +
        "sidecar's own KYVE polling",
    )
    return await this.decideLocally(input)
  }

  private async read(): Promise<Read> {
    const { redis } = this.options
    if (!this.everRead && redis.status !== 'ready') {
      // Right after start the connection is still being made; a fail-fast command would fail for nothing.
      await waitForReady(redis, Math.min(2_000, this.options.ownViewWaitMs))
    }
    this.everRead = true
    try {
      const ds = await readDesiredState(redis, this.options.sidecarId, {
        fleetKey: this.options.fleetKey,
        fenceByLeaderEpoch: true,
      })
      return ds === null ? { kind: 'absent' } : { kind: 'state', ds }
    } catch (error) {
      if (error instanceof InvalidDesiredStateError) {
        const token =
          error instanceof FencedDesiredStateError ? { epoch: error.stateEpoch, generation: 0 } : null
        return { kind: 'refused', reason: error.code, detail: error.message, token }
      }
      return { kind: 'unreadable', detail: error instanceof Error ? error.message : String(error) }
    }
  }

  /** Whether this acceptable state shows a live tracker (see the class comment). */
  private async isContact(ds: DesiredState, now: number): Promise<boolean> {
    const token = { epoch: ds.epoch, generation: ds.generation }
    const changed = this.lastSeen === null || compareFencingTokens(token, this.lastSeen) !== 0
    this.lastSeen = token
    if (changed && now - ds.issuedAt <= this.options.trackerTimeoutMs) return true
    try {
      const leader = await readLeader(this.options.redis)
      this.leader = leader === null ? null : { holder: leader.holder, epoch: leader.epoch }
      return leader !== null && leader.epoch === ds.epoch
    } catch {
      return false
    }
  }

  private contact(now: number): void {
    this.lastContactAt = now
    this.options.metrics.lastTrackerContact.set(now / 1000)
  }

  /** Acts on an acceptable desired state (the tracker is live), as {@link judgeDesiredState} says. */
  private async follow(ds: DesiredState, input: DecisionInput, state: SidecarState): Promise<Decision> {
    const facts = {
      ds,
      applied: appliedToken(state),
      mode: state.mode,
      node: input.node,
      now: input.now,
      pruning: this.options.pruning,
      maxPoolAgeMs: this.options.maxPoolAgeMs,
    }
    let verdict = judgeDesiredState(facts)
    let pool = input.pool
    if (verdict.kind === 'needs-own-pool') {
      pool = await this.ownView(pool)
      verdict = judgeDesiredState({ ...facts, now: this.now(), ownPool: pool.own })
    }
    const judged = { ...input, pool }
    switch (verdict.kind) {
      case 'needs-own-pool':
        throw new Error('judgeDesiredState asked for the own pool answer twice')
      case 'hold':
        if (verdict.duplicate) this.options.metrics.desiredStates.inc({ outcome: 'duplicate' })
        return this.hold(judged, verdict.reason)
      case 'apply':
        if (!(await this.persist(ds, input.now, verdict.action))) return this.hold(judged, verdict.unrecorded)
        return this.decision(judged, verdict.mode, verdict.pruneToHeight, verdict.reason)
      case 'refuse': {
        await this.persist(ds, input.now, null)
        this.refuse(verdict.reason, verdict.detail, ds, input.now)
        if (verdict.pruneRefusal === null) return this.hold(judged, verdict.detail)
        const refusal = { reason: verdict.pruneRefusal, detail: verdict.detail }
        return { ...this.decision(judged, 'ghost', null, verdict.detail), pruneRefusal: refusal }
      }
    }
  }

  private async decideLocally(input: DecisionInput): Promise<Decision> {
    const decision = await this.options.local.decide({ ...input, pool: await this.ownView(input.pool) })
    return { ...decision, decidedBy: 'local' }
  }

  /**
   * The pool with a current answer of the sidecar's own KYVE client: `pool` itself when its latest answer is
   * the sidecar's own, else after asking KYVE (at most twice, within the wait budget).
   */
  private async ownView(pool: PoolSnapshot): Promise<PoolSnapshot> {
    let view = pool
    for (let attempt = 0; attempt < 2; attempt++) {
      if (view.own !== null && view.published === null) return view
      const taken = await this.options.takeOwnPool(this.options.ownViewWaitMs)
      if (taken === null) break
      view = taken
    }
    return view
  }

  /** Records `ds` as applied in state.json (before anything is done about it). */
  private async persist(ds: DesiredState, now: number, action: string | null): Promise<boolean> {
    try {
      await this.options.state.update({ appliedEpoch: ds.epoch, appliedGeneration: ds.generation })
    } catch (error) {
      this.options.log.error(
        { err: error, epoch: ds.epoch, generation: ds.generation },
        'could not persist the applied desired state; not acting on it, retrying next tick',
      )
      return false
    }
    this.options.metrics.appliedEpoch.set(ds.epoch)
    this.options.metrics.appliedGeneration.set(ds.generation)
    if (action !== null) {
      this.options.metrics.desiredStates.inc({ outcome: 'applied' })
      this.lastApplied = { at: now, epoch: ds.epoch, generation: ds.generation, action }
      this.options.log.debug({ epoch: ds.epoch, generation: ds.generation, action }, 'desired state applied')
    }
    return true
  }

  private refuse(
    reason: DesiredRefusalReason,
    detail: string,
    token: FencingToken | null,
    now: number,
  ): void {
    this.options.metrics.desiredStates.inc({ outcome: `refused-${reason}` })
    const epoch = token?.epoch ?? null
    const generation = token === null || token.generation === 0 ? null : token.generation
    this.lastRefusal = { at: now, reason, detail, epoch, generation }
    this.conditions.report(
      'desired-refusal',
      'warn',
      `desired state refused (${reason}): ${detail}; not applied`,
      {
        key: `${reason}|${epoch}/${generation}|${detail}`,
        fields: { reason, epoch, generation, sidecarId: this.options.sidecarId },
      },
    )
  }

  private handTo(to: DecidedBy, now: number, why: string): void {
    if (this.authority === to) return
    this.authority = to
    this.authoritySince = now
    this.options.poolSource.setOwnOnly(to === 'local')
    this.options.metrics.setDecidedBy(to)
    this.options.metrics.handovers.inc({ to })
    if (to === 'local') this.options.log.warn({ decidedBy: to }, why)
    else this.options.log.info({ decidedBy: to }, why)
  }

  private hold(input: DecisionInput, reason: string): Decision {
    return this.decision(input, input.mode, null, reason)
  }

  private decision(
    input: DecisionInput,
    mode: NodeMode,
    pruneToHeight: number | null,
    reason: string,
  ): Decision {
    const pool = shownPool(input.pool)
    const diff =
      input.node.reachable && pool !== null && pool.poolHeight !== null
        ? input.node.appHeight - pool.poolHeight
        : null
    return { mode, pruneToHeight, reason, decidedBy: 'tracker', diff, pruneRefusal: null, pool: input.pool }
  }
}

/**
 * A simulated sidecar for tracker tests: it publishes reports with `publishReport` and reads its desired state
 * with `readDesiredState`, as the real sidecar's fleet mode does, and applies what it reads in a simplified way
 * (a mode switch restarts for one tick; a prune either finishes at once or is held until the test releases it).
 * It applies a prune only when the height is above its base, as the real sidecar must.
 */

import { randomUUID } from 'node:crypto'
import {
  compareFencingTokens,
  type FleetKey,
  publishReport,
  type RedisClient,
  readDesiredState,
} from '@ghostfleet/coordination'
import type { DesiredState, DonationReport, NodeMode, SidecarReport, Thresholds } from '@ghostfleet/core'

export const TEST_THRESHOLDS: Thresholds = {
  heightDifferenceMax: 100,
  heightDifferenceMin: 50,
  keepRecent: 150,
}

export interface SimSidecarOptions {
  id: string
  chainId?: string
  poolId: number
  mode?: NodeMode
  nodeHeight: number
  nodeBase?: number
  thresholds?: Thresholds | null
  /** Hold prunes in "pruning" until `finishPrune()`. @default false */
  holdPrunes?: boolean
  /** Applies prune commands but never prunes (as a sidecar whose node is behind the pool refuses them). */
  refusePrunes?: boolean
  reportIntervalMs?: number
  fleetKey?: FleetKey | null
  /** Report as a release before report sequence numbers: no `bootId`/`seq`. @default false */
  legacyReports?: boolean
  /** The peer listener URL it reports (siblings and bootstrapping hosts use it). @default none */
  peerUrl?: string
}

export class SimSidecar {
  readonly id: string
  readonly chainId: string
  readonly poolId: number
  mode: NodeMode
  nodeHeight: number
  nodeBase: number
  activity: SidecarReport['activity'] = 'serving'
  nodeReachable = true
  catchingUp = false
  peerUrl: string | undefined
  /** The donations it reports (a test plays the donor's part: taking, sealing, ready, failed). */
  donations: DonationReport[] = []
  appliedEpoch = 0
  appliedGeneration = 0
  lastPrune: SidecarReport['lastPrune'] = null
  thresholds: Thresholds | null
  holdPrunes: boolean
  refusePrunes: boolean
  /** Every prune this sidecar carried out (height). */
  readonly prunes: number[] = []
  /** Mode switches it carried out. */
  readonly switches: NodeMode[] = []
  /** The last desired state it read, and the last read error. */
  lastDesired: DesiredState | null = null
  lastError: unknown = null
  private pendingPrune: number | null = null
  private restartingTo: NodeMode | null = null
  private lastReportedAt = 0
  private readonly reportIntervalMs: number
  private readonly fleetKey: FleetKey | null
  private readonly legacyReports: boolean
  /** This "process run" of the sidecar and its report counter; `restart()` starts a new one. */
  bootId: string = randomUUID()
  seq = 0
  /**
   * The host's wall clock for `reportedAt`, when a test steps it; by default reports are stamped with a clock
   * that never goes back.
   */
  wallClock: (() => number) | null = null

  constructor(
    private readonly redis: RedisClient,
    options: SimSidecarOptions,
  ) {
    this.id = options.id
    this.chainId = options.chainId ?? 'kyve-1'
    this.poolId = options.poolId
    this.mode = options.mode ?? 'normal'
    this.nodeHeight = options.nodeHeight
    this.nodeBase = options.nodeBase ?? 1
    this.thresholds = options.thresholds === undefined ? TEST_THRESHOLDS : options.thresholds
    this.holdPrunes = options.holdPrunes ?? false
    this.refusePrunes = options.refusePrunes ?? false
    this.reportIntervalMs = options.reportIntervalMs ?? 1000
    this.fleetKey = options.fleetKey ?? null
    this.legacyReports = options.legacyReports ?? false
    this.peerUrl = options.peerUrl
  }

  /** The sidecar process restarts: a new boot id, reports numbered from 1 again. */
  restart(): void {
    this.bootId = randomUUID()
    this.seq = 0
  }

  toReport(): SidecarReport {
    const reportedAt = this.wallClock?.() ?? Math.max(Date.now(), this.lastReportedAt + 1)
    this.lastReportedAt = reportedAt
    this.seq += 1
    return {
      v: 1,
      sidecarId: this.id,
      chainId: this.chainId,
      poolId: this.poolId,
      mode: this.mode,
      nodeHeight: this.nodeHeight,
      nodeBase: this.nodeBase,
      nodeReachable: this.nodeReachable,
      catchingUp: this.catchingUp,
      activity: this.activity,
      dataBytes: 1_000_000,
      appliedEpoch: this.appliedEpoch,
      appliedGeneration: this.appliedGeneration,
      lastPrune: this.lastPrune,
      decidedBy: 'tracker',
      version: 'test',
      reportedAt,
      ...(this.thresholds === null ? {} : { thresholds: this.thresholds }),
      ...(this.legacyReports ? {} : { bootId: this.bootId, seq: this.seq }),
      ...(this.peerUrl === undefined ? {} : { peerUrl: this.peerUrl }),
      ...(this.donations.length === 0 ? {} : { donations: this.donations }),
    }
  }

  async report(): Promise<void> {
    await publishReport(this.redis, this.toReport(), { intervalMs: this.reportIntervalMs })
  }

  async readDesired(): Promise<DesiredState | null> {
    return await readDesiredState(this.redis, this.id, { fleetKey: this.fleetKey })
  }

  /**
   * One control-loop tick: finish a restart, read and apply the desired state, report. A desired state that
   * cannot be read or is refused is not applied, but the sidecar reports anyway, as the real one does. Errors
   * are kept in `lastError`.
   */
  async tick(): Promise<void> {
    if (this.restartingTo !== null) {
      this.mode = this.restartingTo
      this.switches.push(this.restartingTo)
      this.restartingTo = null
      this.activity = 'serving'
    }
    let error: unknown = null
    try {
      const desired = await this.readDesired()
      this.lastDesired = desired
      if (desired !== null) this.apply(desired)
    } catch (readError) {
      error = readError
    }
    try {
      await this.report()
    } catch (reportError) {
      error ??= reportError
    }
    this.lastError = error
  }

  private apply(desired: DesiredState): void {
    const applied = { epoch: this.appliedEpoch, generation: this.appliedGeneration }
    if (compareFencingTokens(desired, applied) <= 0) return
    if (this.activity !== 'serving') return
    this.appliedEpoch = desired.epoch
    this.appliedGeneration = desired.generation
    if (desired.mode !== this.mode) {
      this.activity = 'restarting'
      this.restartingTo = desired.mode
      return
    }
    const height = desired.pruneToHeight
    if (height !== null && height > this.nodeBase && this.mode === 'ghost' && !this.refusePrunes) {
      if (this.holdPrunes) {
        this.activity = 'pruning'
        this.pendingPrune = height
      } else {
        this.completePrune(height)
      }
    }
  }

  /** The prune being held, if any. */
  heldPrune(): number | null {
    return this.pendingPrune
  }

  finishPrune(): void {
    if (this.pendingPrune === null) throw new Error(`${this.id} has no prune in progress`)
    this.completePrune(this.pendingPrune)
    this.pendingPrune = null
    this.activity = 'serving'
  }

  private completePrune(height: number): void {
    this.prunes.push(height)
    this.nodeBase = height
    this.lastPrune = { height, at: Date.now() }
  }
}

/** Ticks every sidecar once (in parallel, like independent hosts). */
export async function tickAll(sidecars: readonly SimSidecar[]): Promise<void> {
  await Promise.all(sidecars.map((s) => s.tick()))
}

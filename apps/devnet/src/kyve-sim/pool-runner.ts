import { ChainHeightError, fetchChainHeight } from './chain-height.js'
import type { FaultRegistry } from './faults.js'
import type { Logger } from './log.js'
import type { ResolvedPoolOptions } from './options.js'
import type { PoolPatch } from './pool-patch.js'
import {
  PoolChangeRejectedError,
  type RoundOutcome,
  type SimulatedPool,
  type SimulatedPoolStatus,
} from './pool-state.js'

/*
 * Drives one pool: every `bundleEveryMs` (the pool's real schedule, standing in for upload_interval) it asks the
 * data-source node for its height and runs a bundle round. Rounds of one pool never overlap; a round asked for
 * through the admin API waits for a running one. An unreachable node means no round: the pool simply does not
 * advance, and the change between reachable and unreachable is logged once.
 */

/** The simulated KYVE chain's block height: every round lands in a new block. */
export class KyveChainClock {
  constructor(private current: number) {}

  get height(): number {
    return this.current
  }

  /** Produces the block the next transaction lands in. */
  nextBlock(): number {
    this.current += 1
    return this.current
  }
}

/** What the last round did, for the admin API and tests. */
export interface LastRound {
  trigger: 'auto' | 'manual'
  /** ISO time. */
  at: string
  outcome: 'proposed' | 'skipped' | 'halted' | 'chain-unreachable'
  /** Data-source height the round saw (null when unreachable). */
  chainHeight: number | null
  detail: string
}

/** A pool's simulator-side state (`GET /admin/pool/{id}`). */
export interface PoolSnapshot {
  id: string
  runtime: string
  status: SimulatedPoolStatus
  startKey: string
  currentKey: string
  currentIndex: number
  totalBundles: number
  endKey: string
  disabled: boolean
  maxBundleSize: number
  uploadInterval: number
  lagBlocks: number
  /** Bundles end at or below this height; null: no cap. */
  heightCap: number | null
  bundleEveryMs: number
  /** Auto-advance paused through the admin API or options. */
  paused: boolean
  /** A `freeze` fault covers the pool. */
  frozen: boolean
  chainRpc: string | null
  /** The pending proposal (not validated). */
  proposal: { fromKey: string; toKey: string; bundleSize: number; uploader: string; nextUploader: string }
  lastRound: LastRound | null
  kyveHeight: number
}

const RPC_TIMEOUT_MS = 5_000

/** Runs the rounds of one {@link SimulatedPool}. */
export class PoolRunner {
  private paused: boolean
  private timer: NodeJS.Timeout | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private stopped = false
  private readonly abort = new AbortController()
  private chainReachable: boolean | null = null
  private lastRound: LastRound | null = null

  constructor(
    readonly pool: SimulatedPool,
    private readonly options: ResolvedPoolOptions,
    private readonly clock: KyveChainClock,
    private readonly faults: FaultRegistry,
    private readonly log: Logger,
  ) {
    this.paused = options.paused
  }

  /** Starts the automatic rounds (the first one right away) when a chain RPC is configured. */
  start(): void {
    if (this.options.chainRpc === undefined) return
    const loop = () => {
      void this.round('auto').finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.bundleEveryMs)
      })
    }
    loop()
  }

  /** Stops the rounds, aborts a running chain RPC request and waits for the running round to end. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.abort.abort()
    await this.queue.catch(() => undefined)
  }

  /**
   * Applies a validated `patch` in order: settings, current key, pause, then a round.
   * @throws PoolChangeRejectedError before changing anything when the current key or end key is impossible.
   */
  async update(patch: PoolPatch): Promise<PoolSnapshot> {
    await this.exclusive(async () => {
      if (patch.currentKey !== undefined) {
        const problem = this.pool.currentKeyProblem(patch.currentKey)
        if (problem !== null) throw new PoolChangeRejectedError(this.pool.id, problem)
      }
      this.pool.applySettings(patch)
      if (patch.currentKey !== undefined) {
        this.pool.setCurrentKey(patch.currentKey, {
          kyveHeight: this.clock.nextBlock(),
          now: Math.floor(Date.now() / 1000),
        })
        this.log({
          level: 'info',
          msg: 'current key set',
          pool: this.pool.id,
          currentKey: this.pool.currentKey,
        })
      }
      if (patch.paused !== undefined) this.paused = patch.paused
    })
    if (patch.tick === true) await this.round('manual', patch.chainHeight)
    return this.snapshot()
  }

  /** The pool as the admin API shows it. */
  snapshot(): PoolSnapshot {
    const pool = this.pool
    return {
      id: pool.id,
      runtime: pool.runtime,
      status: pool.status,
      startKey: pool.startKey,
      currentKey: pool.currentKey,
      currentIndex: pool.currentIndex,
      totalBundles: pool.totalBundles,
      endKey: pool.endKey,
      disabled: pool.disabled,
      maxBundleSize: pool.maxBundleSize,
      uploadInterval: pool.uploadInterval,
      lagBlocks: pool.lagBlocks,
      heightCap: pool.heightCap,
      bundleEveryMs: this.options.bundleEveryMs,
      paused: this.paused,
      frozen: this.faults.isFrozen(pool.id),
      chainRpc: this.options.chainRpc ?? null,
      proposal: {
        fromKey: pool.proposal.fromKey,
        toKey: pool.proposal.toKey,
        bundleSize: pool.proposal.bundleSize,
        uploader: pool.proposal.uploader,
        nextUploader: pool.proposal.nextUploader,
      },
      lastRound: this.lastRound === null ? null : { ...this.lastRound },
      kyveHeight: this.clock.height,
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work)
    this.queue = run.catch(() => undefined)
    return run
  }

  private round(trigger: 'auto' | 'manual', chainHeightOverride?: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.stopped) return
      if (trigger === 'auto' && (this.paused || this.faults.isFrozen(this.pool.id))) return
      const chainHeight = chainHeightOverride ?? (await this.readChainHeight(trigger))
      if (chainHeight === null || this.stopped) return
      const outcome = this.pool.runRound({
        kyveHeight: this.clock.nextBlock(),
        now: Math.floor(Date.now() / 1000),
        chainHeight,
      })
      this.record(trigger, chainHeight, outcome)
    })
  }

  private async readChainHeight(trigger: 'auto' | 'manual'): Promise<number | null> {
    const rpc = this.options.chainRpc
    if (rpc === undefined) {
      this.lastRound = {
        trigger,
        at: new Date().toISOString(),
        outcome: 'chain-unreachable',
        chainHeight: null,
        detail: 'no chain RPC configured; pass chainHeight with tick',
      }
      return null
    }
    try {
      const height = await fetchChainHeight(rpc, RPC_TIMEOUT_MS, this.abort.signal)
      if (this.chainReachable === false) {
        this.log({
          level: 'info',
          msg: 'chain RPC reachable again',
          pool: this.pool.id,
          rpc,
          chainHeight: height,
        })
      }
      this.chainReachable = true
      return height
    } catch (error) {
      if (this.stopped) return null
      const detail = error instanceof ChainHeightError ? error.message : String(error)
      if (this.chainReachable !== false) {
        this.log({
          level: 'warn',
          msg: 'chain RPC unreachable; pool does not advance',
          pool: this.pool.id,
          error: detail,
        })
      }
      this.chainReachable = false
      this.lastRound = {
        trigger,
        at: new Date().toISOString(),
        outcome: 'chain-unreachable',
        chainHeight: null,
        detail,
      }
      return null
    }
  }

  private record(trigger: 'auto' | 'manual', chainHeight: number, outcome: RoundOutcome): void {
    const at = new Date().toISOString()
    if (outcome.kind === 'halted') {
      this.lastRound = {
        trigger,
        at,
        outcome: 'halted',
        chainHeight,
        detail: `pool status ${outcome.status}`,
      }
      return
    }
    if (outcome.finalized !== null) {
      const bundle = outcome.finalized
      this.log({
        level: 'info',
        msg: 'bundle finalized',
        pool: this.pool.id,
        bundleId: bundle.id,
        fromKey: bundle.fromKey,
        toKey: bundle.toKey,
        currentKey: this.pool.currentKey,
      })
    }
    if (outcome.kind === 'proposed') {
      const { fromKey, toKey, size } = outcome.proposed
      this.lastRound = {
        trigger,
        at,
        outcome: 'proposed',
        chainHeight,
        detail: `proposed ${fromKey}…${toKey} (${size})`,
      }
    } else {
      this.lastRound = {
        trigger,
        at,
        outcome: 'skipped',
        chainHeight,
        detail: `no data for key ${outcome.nextKey} yet (chain height ${chainHeight}, lag ${this.pool.lagBlocks}${this.pool.heightCap === null ? '' : `, cap ${this.pool.heightCap}`})`,
      }
    }
  }
}

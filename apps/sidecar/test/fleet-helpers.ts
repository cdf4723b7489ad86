import { randomBytes } from 'node:crypto'
import {
  closeRedis,
  createRedis,
  FleetKey,
  keysOf,
  LeaderElection,
  type RedisClient,
  writeDesiredState,
  writePoolProgress,
} from '@ghostfleet/coordination'
import type { DesiredState } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import { createLogger } from '@ghostfleet/telemetry'
import { eventually, metricValue, type TempDir, tempDir } from '@ghostfleet/testkit'
import type { DecisionInput } from '../src/control/decision-source.js'
import type { NodeObservation } from '../src/control/node-observer.js'
import { PoolRefresher } from '../src/control/pool-refresher.js'
import type { PoolSnapshot } from '../src/control/pool-snapshot.js'
import { FleetMode } from '../src/fleet/fleet-mode.js'
import type { FleetSettings } from '../src/fleet/fleet-settings.js'
import type { TrackerDecisionSource } from '../src/fleet/tracker-decision-source.js'
import { SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'
import { createSidecarMetrics, type SidecarMetrics } from '../src/telemetry/sidecar-metrics.js'

/*
 * A sidecar's fleet mode without a node process (observations are given), talking to a real redis-server, and a
 * "tracker" made of the coordination package's real election and fenced writes. The sidecar's own KYVE client is
 * an in-process source whose height the test sets and whose calls it counts: the point of several tests is when
 * the sidecar asks KYVE itself.
 */

export const CHAIN_ID = 'kyve-1'
export const POOL_ID = 1
export const SIDECAR_ID = 'unit-sidecar'
export const THRESHOLDS = { heightDifferenceMax: 60, heightDifferenceMin: 30, keepRecent: 90 }

export function newFleetKey(): FleetKey {
  return FleetKey.parse(randomBytes(32).toString('hex'))
}

export function node(height: number, base = 1): NodeObservation {
  return {
    reachable: true,
    at: Date.now(),
    appHeight: height,
    storeHeight: height,
    base,
    catchingUp: false,
  }
}

export function input(
  mode: 'normal' | 'ghost',
  observation: NodeObservation,
  pool: PoolSnapshot = { own: null, published: null },
): DecisionInput {
  return { now: Date.now(), mode, node: observation, pool, pruneDue: false }
}

/** The sidecar's own KYVE: a pool height the test controls, and the number of calls made. */
export class OwnKyve {
  calls = 0
  height = 500
  fail = false

  getPool = async (poolId: number): Promise<PoolFacts> => {
    this.calls++
    if (this.fail) throw new Error('KYVE API unreachable (test)')
    return {
      poolId,
      poolHeightKey: String(this.height),
      poolHeight: this.height,
      maxBundleSize: 1,
      uploadInterval: 2880,
      status: 'POOL_STATUS_ACTIVE',
      disabled: false,
      endpoint: 'http://own-kyve.test',
      fetchedAt: Date.now(),
    }
  }
}

export interface TestSidecar {
  fleet: FleetMode
  decisions: TrackerDecisionSource
  pool: PoolRefresher
  keeper: StateKeeper
  kyve: OwnKyve
  metrics: SidecarMetrics
  logs: Array<Record<string, unknown>>
  /** One control-loop tick's worth: refresh the pool view, then decide. */
  tick(mode: 'normal' | 'ghost', observation: NodeObservation): ReturnType<TrackerDecisionSource['decide']>
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>
  close(): Promise<void>
}

export async function startTestSidecar(options: {
  redisUrl: string
  fleetKey?: FleetKey | null
  trackerTimeoutMs?: number
  dir: TempDir
  mode?: 'normal' | 'ghost'
  pruningEnabled?: boolean
}): Promise<TestSidecar> {
  const logs: Array<Record<string, unknown>> = []
  const log = createLogger({
    name: 'fleet-test',
    level: 'debug',
    destination: {
      write(line: string) {
        logs.push(JSON.parse(line) as Record<string, unknown>)
      },
    },
  })
  const metrics = createSidecarMetrics({
    chainId: CHAIN_ID,
    poolId: POOL_ID,
    endpoints: ['http://own-kyve.test'],
    processMetrics: false,
  })
  const kyve = new OwnKyve()
  const settings: FleetSettings = {
    redisUrl: options.redisUrl,
    redisUrlRedacted: options.redisUrl,
    redisCredentials: null,
    redisUser: null,
    sidecarId: SIDECAR_ID,
    sidecarIdSource: 'config',
    fleetKey: options.fleetKey ?? null,
    reportIntervalMs: 200,
    trackerTimeoutMs: options.trackerTimeoutMs ?? 60_000,
  }
  const fleet = new FleetMode({
    settings,
    chainId: CHAIN_ID,
    poolId: POOL_ID,
    thresholds: THRESHOLDS,
    version: '0.0.0-test',
    kyve,
    registry: metrics.registry,
    log,
    reconnect: { minDelayMs: 50, maxDelayMs: 200 },
  })
  const store = new SidecarStateStore(options.dir.path)
  const keeper = new StateKeeper(store, await store.load())
  if (options.mode === 'ghost') await keeper.update({ mode: 'ghost' })
  const pool = new PoolRefresher({
    source: fleet.poolSource,
    poolId: POOL_ID,
    retry: { minMs: 10, maxMs: 10 },
  })
  const decisions = fleet.decisionSource(
    {
      thresholds: THRESHOLDS,
      maxPoolAgeMs: 60_000,
      pruning: { enabled: options.pruningEnabled ?? true, margin: 1 },
    },
    { pool, state: keeper, intervalMs: 1_000 },
  )
  return {
    fleet,
    decisions,
    pool,
    keeper,
    kyve,
    metrics,
    logs,
    async tick(mode, observation) {
      const taken = (await pool.take(1_000)) ?? pool.snapshot()
      return await decisions.decide(input(mode, observation, taken))
    },
    async metric(name, labels = {}) {
      return metricValue(await metrics.registry.metrics(), name, labels)
    },
    async close() {
      await fleet.close()
    },
  }
}

/** The tracker's side: a real leader election and fenced, optionally signed writes. */
export class TestTracker {
  readonly redis: RedisClient
  private election: LeaderElection | null = null
  epoch = 0
  private generation = 0

  constructor(redisUrl: string) {
    this.redis = createRedis({
      role: 'tracker',
      url: redisUrl,
      reconnect: { minDelayMs: 50, maxDelayMs: 200 },
    })
  }

  /**
   * Wins an election (a new epoch); the previous term, if any, must have ended. `epochFloor`: what the real
   * tracker takes from the sidecars' reports, so an emptied Redis does not restart the epochs below them.
   */
  async lead(candidateId = 'tracker-a', epochFloor = 0): Promise<number> {
    let elected = 0
    this.election = new LeaderElection({
      redis: this.redis,
      candidateId,
      leaseMs: 2_000,
      epochFloor: () => epochFloor,
      onElected: (epoch) => {
        elected = epoch
      },
    })
    this.election.start()
    this.epoch = await eventually(
      () => {
        if (elected === 0) throw new Error('not elected yet')
        return elected
      },
      { timeoutMs: 10_000, description: `${candidateId} to be elected` },
    )
    this.generation = 0
    return this.epoch
  }

  /** Ends the term: `release` deletes the lease at once, otherwise it lapses like a crashed tracker's. */
  async resign(release = true): Promise<void> {
    await this.election?.stop({ release })
    this.election = null
  }

  async write(
    overrides: Partial<DesiredState> = {},
    fleetKey: FleetKey | null = null,
  ): Promise<DesiredState> {
    const generation = overrides.generation ?? this.generation + 1
    this.generation = Math.max(this.generation, generation)
    const ds: DesiredState = {
      v: 1,
      sidecarId: SIDECAR_ID,
      mode: 'normal',
      pruneToHeight: null,
      basedOnPoolHeight: 500,
      poolFetchedAt: Date.now(),
      epoch: this.epoch,
      generation,
      issuedAt: Date.now(),
      reason: 'test',
      ...overrides,
    }
    const result = await writeDesiredState(this.redis, ds, { fleetKey })
    if (result.status !== 'written') throw new Error(`write refused: ${JSON.stringify(result)}`)
    return ds
  }

  /** Stores `ds` as is, bypassing the fenced script (what a forger with Redis access, or a rollback, does). */
  async writeRaw(ds: Record<string, unknown>): Promise<void> {
    const key = keysOf(this.redis).desired(SIDECAR_ID)
    const fields: Record<string, string> = {}
    for (const [name, value] of Object.entries(ds))
      if (value !== undefined) fields[name] = JSON.stringify(value)
    await this.redis.multi().del(key).hset(key, fields).exec()
  }

  async publishPool(height: number): Promise<void> {
    await writePoolProgress(this.redis, {
      v: 1,
      chainId: CHAIN_ID,
      poolId: POOL_ID,
      poolHeightKey: String(height),
      poolHeight: height,
      maxBundleSize: 1,
      uploadInterval: 2880,
      status: 'POOL_STATUS_ACTIVE',
      disabled: false,
      endpoint: 'http://tracker-kyve.test',
      fetchedAt: Date.now(),
      epoch: this.epoch,
    })
  }

  async close(): Promise<void> {
    await this.resign()
    await closeRedis(this.redis)
  }
}

export async function freshDir(): Promise<TempDir> {
  return await tempDir('gf-fleet-unit-')
}

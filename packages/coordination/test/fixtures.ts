import type { DesiredState, SidecarReport } from '@ghostfleet/core'
import { afterAll } from 'vitest'
import { type CreateRedisOptions, closeRedis, createRedis, type RedisClient } from '../src/index.js'

/** A valid report; override what the test is about. */
export function makeReport(overrides: Partial<SidecarReport> = {}): SidecarReport {
  return {
    v: 1,
    sidecarId: 'osmosis-a',
    chainId: 'osmosis-1',
    poolId: 1,
    mode: 'normal',
    nodeHeight: 1_000_500,
    nodeBase: 900_000,
    nodeReachable: true,
    catchingUp: false,
    activity: 'serving',
    dataBytes: 123_456_789,
    appliedEpoch: 0,
    appliedGeneration: 0,
    lastPrune: null,
    decidedBy: 'tracker',
    version: '0.1.0',
    reportedAt: Date.now(),
    ...overrides,
  }
}

/** A valid desired state; override what the test is about. */
export function makeDesired(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    v: 1,
    sidecarId: 'osmosis-a',
    mode: 'ghost',
    pruneToHeight: 999_000,
    basedOnPoolHeight: 1_000_000,
    poolFetchedAt: 1_700_000_000_000,
    epoch: 1,
    generation: 1,
    issuedAt: 1_700_000_000_500,
    reason: 'node is 12000 blocks ahead of the pool (max 11520): ghost',
    ...overrides,
  }
}

/** Connections made through this are closed after the test file. */
export function connect(options: CreateRedisOptions): RedisClient {
  const redis = createRedis({ reconnect: { minDelayMs: 50, maxDelayMs: 200 }, ...options })
  opened.push(redis)
  return redis
}

const opened: RedisClient[] = []
afterAll(async () => {
  await Promise.all(opened.map((redis) => closeRedis(redis)))
})

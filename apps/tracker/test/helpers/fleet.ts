/** A private Redis, a simulated KYVE API and tracker configs for the tracker tests. */

import { closeRedis, createRedis, type RedisClient, waitForReady } from '@ghostfleet/coordination'
import { parseWith, type TrackerConfigInput, trackerConfigSchema } from '@ghostfleet/core'
import { type KyvePoolOptions, type KyveSimulator, startKyveSimulator } from '@ghostfleet/devnet'
import { createLogger, type Logger } from '@ghostfleet/telemetry'
import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import {
  type ResolvedTrackerConfig,
  resolveTrackerConfig,
  Tracker,
  type TrackerOptions,
  type TrackerTiming,
} from '../../src/index.js'

/** Timings for tests: short report intervals, quick timeouts. No test waits for them by sleeping. */
export const FAST_TIMING: Partial<TrackerTiming> = {
  defaultReportIntervalMs: 300,
  commandAckTimeoutMs: 5_000,
  commandSettleTimeoutMs: 5_000,
  commandRetryInitialMs: 1_000,
  commandRetryMaxMs: 2_000,
  refreshIntervalMs: 0,
  forgetSilentAfterMs: 60_000,
  sweepIntervalMs: 100,
}

export interface TestFleet {
  redis: TestRedis
  kyve: KyveSimulator
  /** A sidecar-role connection (fails fast while Redis is down) for the simulated sidecars. */
  sidecarRedis: RedisClient
  /** A tracker-role connection for assertions on Redis. */
  probe: RedisClient
  stop(): Promise<void>
}

export async function startTestFleet(pools: KyvePoolOptions[]): Promise<TestFleet> {
  const redis = await startRedis()
  const kyve = await startKyveSimulator({ pools, maxBundleSize: 100, uploadInterval: 60 })
  const sidecarRedis = createRedis({ role: 'sidecar', url: redis.url })
  const probe = createRedis({ role: 'tracker', url: redis.url })
  await waitForReady(sidecarRedis, 10_000)
  await waitForReady(probe, 10_000)
  return {
    redis,
    kyve,
    sidecarRedis,
    probe,
    async stop() {
      await closeRedis(sidecarRedis)
      await closeRedis(probe)
      await kyve.stop()
      await redis.stop()
    },
  }
}

/** A tracker config pointing at the fleet's Redis and KYVE simulator. */
export function trackerConfig(
  fleet: TestFleet,
  overrides: Partial<TrackerConfigInput> = {},
): ResolvedTrackerConfig {
  const config = parseWith(
    trackerConfigSchema,
    {
      redisUrl: fleet.redis.url,
      listen: '127.0.0.1:0',
      pollIntervalSeconds: 0.5,
      leaseTtlMs: 1_500,
      maxPoolAgeSeconds: 60,
      chains: { 'kyve-1': [fleet.kyve.url] },
      ...overrides,
    },
    'test tracker config',
  )
  return resolveTrackerConfig(config)
}

export function testLogger(name: string): Logger {
  return createLogger({ name, level: process.env['GHOSTFLEET_LOG_LEVEL'] ?? 'silent', pretty: false })
}

export async function startTestTracker(
  config: ResolvedTrackerConfig,
  options: Partial<TrackerOptions> = {},
): Promise<Tracker> {
  return await Tracker.start({
    config,
    id: options.id ?? 'tracker-test',
    logger: options.logger ?? testLogger(options.id ?? 'tracker-test'),
    timing: { ...FAST_TIMING, ...options.timing },
    ...(options.fleetKey === undefined ? {} : { fleetKey: options.fleetKey }),
    ...(options.consul === undefined ? {} : { consul: options.consul }),
  })
}

/** Waits until the tracker leads and its quiet period after the election is over. */
export async function waitUntilLeading(tracker: Tracker, timeoutMs = 15_000): Promise<number> {
  return await eventually(
    async () => {
      if (tracker.currentRole() !== 'leader') throw new Error(`role is ${tracker.currentRole()}`)
      const fleet = await tracker.fleet()
      if (fleet.tracker.quietUntil !== null) throw new Error('quiet period after the election')
      return tracker.currentEpoch() ?? 0
    },
    { timeoutMs, description: 'the tracker to lead' },
  )
}

/**
 * One KYVE request per pool per interval, however many sidecars serve the pool — counted at the simulated KYVE
 * API, with real `ghostfleet-sidecar start` processes in fleet mode (one, then ten) and a real tracker polling
 * every second.
 *
 * While the tracker leads, a sidecar shows the pool height the tracker publishes in Redis and does not ask KYVE
 * itself. It does ask KYVE when it must trust the answer: when it decides on its own (tracker silent) and, once
 * per prune command, to check the prune height. Neither happens here (the pool runs, so every node stays normal
 * and nothing is pruned), and each sidecar's own KYVE request counter is checked to stay put.
 */
import {
  FLEET_POOL_ID,
  type KyveSimulator,
  type LocalFleet,
  type SidecarInfo,
  type TrackerInfo,
} from '@ghostfleet/devnet'
import { eventually, metricSum } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, metricsText, sidecarStatus } from './helpers/fleet-harness.js'

const PRUNING_INTERVAL_HOURS = 0.5
const POLL_INTERVAL_MS = 1_000

let teardown: (() => Promise<void>) | undefined
let fleet: LocalFleet
let kyve: KyveSimulator
let tracker: TrackerInfo
const sidecars: SidecarInfo[] = []

beforeAll(async () => {
  const created = await createFleet('gf-e2e-kyve-')
  teardown = created.teardown
  fleet = created.fleet
  await fleet.startRedis()
  await fleet.startProducer(200)
  kyve = await fleet.startKyve({ bundleEveryMs: 50, paused: false })
  tracker = await fleet.startTracker({
    id: 'kyve-tracker',
    pruningIntervalHours: PRUNING_INTERVAL_HOURS,
    pollIntervalSeconds: POLL_INTERVAL_MS / 1000,
  })
}, 120_000)

afterAll(async () => {
  await teardown?.()
}, 120_000)

async function addSidecars(total: number): Promise<void> {
  while (sidecars.length < total) {
    sidecars.push(
      await fleet.startSidecar({
        id: `kyve-sc-${sidecars.length + 1}`,
        pruningIntervalHours: PRUNING_INTERVAL_HOURS,
      }),
    )
  }
  await eventually(
    async () => {
      for (const s of sidecars) {
        const status = await sidecarStatus(s)
        expect(status['fleet'], s.id).toMatchObject({ decidedBy: 'tracker', poolView: 'tracker' })
        expect(status['mode'], s.id).toBe('normal')
      }
    },
    { timeoutMs: 120_000, intervalMs: 500, description: `all ${total} sidecars to follow the tracker` },
  )
}

/** KYVE requests the sidecars made themselves (their own counters, every endpoint and outcome). */
async function sidecarKyveRequests(): Promise<number[]> {
  return await Promise.all(
    sidecars.map(async (s) => metricSum(await metricsText(s.http), 'ghostfleet_kyve_requests_total')),
  )
}

async function trackerPolls(): Promise<number> {
  return metricSum(await metricsText(tracker.url), 'ghostfleet_tracker_pool_polls_total')
}

/** Counts pool requests at the simulator over at least ten poll intervals. */
async function measure(): Promise<{
  requests: number
  intervals: number
  ownBefore: number[]
  ownAfter: number[]
}> {
  const ownBefore = await sidecarKyveRequests()
  const pollsBefore = await trackerPolls()
  kyve.resetStats()
  const from = Date.now()
  await eventually(async () => expect(await trackerPolls()).toBeGreaterThanOrEqual(pollsBefore + 10), {
    timeoutMs: 30_000,
    intervalMs: 200,
    description: 'ten tracker polls',
  })
  const requests = kyve.stats().byPool[String(FLEET_POOL_ID)]?.total ?? 0
  const intervals = (Date.now() - from) / POLL_INTERVAL_MS
  return { requests, intervals, ownBefore, ownAfter: await sidecarKyveRequests() }
}

describe.sequential('KYVE requests per pool per interval', () => {
  for (const total of [1, 10]) {
    it(`stay at one with ${total} sidecar${total === 1 ? '' : 's'} in fleet mode`, async () => {
      await addSidecars(total)
      const { requests, intervals, ownBefore, ownAfter } = await measure()
      expect(requests, `${requests} requests in ${intervals.toFixed(1)} intervals`).toBeLessThanOrEqual(
        Math.floor(intervals) + 1,
      )
      expect(requests).toBeGreaterThanOrEqual(Math.floor(intervals) - 1)
      expect(ownAfter).toEqual(ownBefore)
    }, 300_000)
  }
})

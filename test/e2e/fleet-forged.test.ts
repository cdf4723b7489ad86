/**
 * A desired state forged straight into Redis under an epoch no election handed out, against the real processes:
 * a `ghostfleet-tracker` leading two `ghostfleet-sidecar`s (each supervising a simulated node), with a fleet key.
 * Before the fix the leader answered the forged hash by resigning, campaigning and resigning again about 100
 * times a second, rewriting every other sidecar each time. Everything runs from the built CLIs.
 */
import { randomBytes } from 'node:crypto'
import { closeRedis, createRedis, keysOf, type RedisClient, readLeader } from '@ghostfleet/coordination'
import { type DesiredState, WIRE_VERSION } from '@ghostfleet/core'
import type { SidecarInfo, TrackerInfo } from '@ghostfleet/devnet'
import { eventually, logLines, metricValue } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, metricsText, sidecarStatus } from './helpers/fleet-harness.js'

const env = { GHOSTFLEET_FLEET_KEY: randomBytes(32).toString('hex') }
const FORGED_EPOCH = 1_000_000

let teardown: (() => Promise<void>) | undefined
let tracker: TrackerInfo
const sidecars: SidecarInfo[] = []
let redis: RedisClient

beforeAll(async () => {
  const created = await createFleet('gf-e2e-forged-')
  teardown = created.teardown
  const fleet = created.fleet
  const redisServer = await fleet.startRedis()
  await fleet.startProducer(200)
  await fleet.startKyve({ bundleEveryMs: 50, paused: false })
  // Refreshes every second: the leader writes every sidecar's state once a second, the forged one included.
  tracker = await fleet.startTracker({
    id: 'tracker-forged',
    pruningIntervalHours: 1,
    refreshSeconds: 1,
    env,
  })
  for (const id of ['forged-sc-1', 'forged-sc-2'])
    sidecars.push(await fleet.startSidecar({ id, pruningIntervalHours: 1, env }))
  redis = createRedis({
    role: 'tracker',
    url: redisServer.url,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  })
  await eventually(
    async () => {
      for (const s of sidecars) {
        const status = await sidecarStatus(s)
        expect(status['fleet']).toMatchObject({ decidedBy: 'tracker', connected: true })
        expect(status['fleet']['applied']['epoch']).toBeGreaterThan(0)
      }
    },
    { timeoutMs: 90_000, intervalMs: 500, description: 'both sidecars to follow the tracker' },
  )
}, 240_000)

afterAll(async () => {
  if (redis) await closeRedis(redis)
  await teardown?.()
}, 120_000)

describe('a desired state forged under an epoch no election handed out, real processes', () => {
  it('is overwritten and counted; the leader keeps its lease and the other sidecar is not rewritten in a loop', async () => {
    const [target, other] = sidecars as [SidecarInfo, SidecarInfo]
    const leader = await readLeader(redis)
    expect(leader?.holder).toBe('tracker-forged')
    const epoch = leader?.epoch as number
    const generation = async (id: string) => Number(await redis.hget(keysOf(redis).desired(id), 'generation'))
    const logBefore = logLines(tracker.logFile).length

    const forged: DesiredState = {
      v: WIRE_VERSION,
      sidecarId: target.id,
      mode: 'ghost',
      pruneToHeight: null,
      basedOnPoolHeight: 1,
      poolFetchedAt: Date.now(),
      epoch: FORGED_EPOCH,
      generation: 5,
      issuedAt: Date.now(),
      reason: 'forged',
      signature: `00${randomBytes(31).toString('hex')}`,
    }
    const key = keysOf(redis).desired(target.id)
    const fields = Object.fromEntries(Object.entries(forged).map(([k, v]) => [k, JSON.stringify(v)]))
    await redis.multi().del(key).hset(key, fields).exec()
    const otherBefore = await generation(other.id)

    // The leader's next refresh replaces it with its own state, under its own epoch.
    await eventually(
      async () => {
        expect(await redis.hget(key, 'epoch')).toBe(String(epoch))
        expect(await redis.hget(key, 'reason')).not.toBe('"forged"')
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'the forged state overwritten' },
    )
    // A window driven by events: five refreshes of the other sidecar's state (one a second).
    await eventually(async () => expect(await generation(other.id)).toBeGreaterThanOrEqual(otherBefore + 5), {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'five refreshes of the other sidecar',
    })
    const otherAfter = await generation(other.id)

    expect((await readLeader(redis))?.epoch).toBe(epoch)
    const text = await metricsText(tracker.url)
    expect(metricValue(text, 'ghostfleet_tracker_leadership_changes_total', { event: 'elected' })).toBe(1)
    expect(metricValue(text, 'ghostfleet_tracker_forged_desired_states_total')).toBe(1)
    const lines = logLines(tracker.logFile).slice(logBefore)
    expect(lines.filter((l) => /another tracker leads|resigning/.test(String(l['msg'])))).toEqual([])
    expect(lines.filter((l) => /no election handed out/.test(String(l['msg'])))).toHaveLength(1)
    // Refreshes only: a handful of writes in the window, not one per resignation.
    expect(otherAfter - otherBefore).toBeLessThan(15)
    for (const s of sidecars) {
      const status = await sidecarStatus(s)
      expect(status['fleet']['decidedBy']).toBe('tracker')
      expect(status['fleet']['applied']['epoch']).toBe(epoch)
    }
  }, 90_000)
})

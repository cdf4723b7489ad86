import { keysOf } from '@ghostfleet/coordination'
import { eventually } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { SimSidecar, tickAll } from './helpers/sim-sidecar.js'

const FORGET_AFTER_MS = 1_500

describe('a sidecar the tracker forgets', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 31, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet), {
      // Refreshes every 200 ms: a forgotten sidecar that kept its writer slot would be re-issued constantly.
      timing: { forgetSilentAfterMs: FORGET_AFTER_MS, refreshIntervalMs: 200 },
    })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  const generation = async (id: string) =>
    Number(await fleet.probe.hget(keysOf(fleet.probe).desired(id), 'generation'))

  it('is forgotten entirely: its state is no longer re-issued, and its desired hash expires', async () => {
    const live = new SimSidecar(fleet.sidecarRedis, { id: 'forget-live', poolId: 31, nodeHeight: 1010 })
    const gone = new SimSidecar(fleet.sidecarRedis, { id: 'forget-gone', poolId: 31, nodeHeight: 1010 })
    await tickAll([live, gone])
    const epoch = await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll([live, gone])
      expect(live.lastDesired?.epoch).toBe(epoch)
      expect(gone.lastDesired?.epoch).toBe(epoch)
    })

    // forget-gone's host is decommissioned; forget-live keeps reporting until the tracker forgets the other.
    await eventually(
      async () => {
        await live.tick()
        const view = await tracker.fleet()
        expect(view.sidecars.map((s) => s.sidecarId)).toEqual([live.id])
      },
      { timeoutMs: 15_000, description: 'forget-gone forgotten' },
    )
    expect(await fleet.probe.zscore(keysOf(fleet.probe).sidecars, gone.id)).toBeNull()
    const goneGeneration = await generation(gone.id)

    // A window of five refreshes of the live sidecar's state: the forgotten one is not re-issued in it.
    const liveGeneration = await generation(live.id)
    await eventually(
      async () => {
        await live.tick()
        expect(await generation(live.id)).toBeGreaterThanOrEqual(liveGeneration + 5)
      },
      { timeoutMs: 15_000, description: 'five refreshes of forget-live' },
    )
    const afterWindow = await fleet.probe.hget(keysOf(fleet.probe).desired(gone.id), 'generation')
    expect(afterWindow === null ? goneGeneration : Number(afterWindow)).toBe(goneGeneration)

    // Nobody keeps forget-gone's hash fresh any more: it expires. forget-live's, refreshed, stays.
    await eventually(
      async () => {
        await live.tick()
        expect(await fleet.probe.exists(keysOf(fleet.probe).desired(gone.id))).toBe(0)
      },
      { timeoutMs: 15_000, description: "forget-gone's desired hash expired" },
    )
    // Every desired hash the leader writes expires (2 × forgetSilentAfterMs) unless kept fresh.
    const ttl = await fleet.probe.pttl(keysOf(fleet.probe).desired(live.id))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(2 * FORGET_AFTER_MS)
    await live.tick()
    expect(live.lastDesired?.epoch).toBe(epoch)
  })

  it('a forgotten sidecar that comes back is decided for again, above the generation it applied', async () => {
    const back = new SimSidecar(fleet.sidecarRedis, { id: 'forget-gone', poolId: 31, nodeHeight: 1010 })
    back.appliedEpoch = tracker.currentEpoch() ?? 0
    back.appliedGeneration = 40
    await eventually(
      async () => {
        await back.tick()
        expect(back.lastDesired?.generation).toBeGreaterThan(40)
        expect(back.appliedGeneration).toBe(back.lastDesired?.generation)
      },
      { timeoutMs: 15_000, description: 'forget-gone decided for again' },
    )
  })
})

describe('the desired hash of a sidecar that keeps reporting', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 32, currentKey: '1000', paused: true }])
    // No refreshes: nothing rewrites the state; only the sidecar's reports keep its hash alive.
    tracker = await startTestTracker(trackerConfig(fleet), {
      timing: { forgetSilentAfterMs: FORGET_AFTER_MS, refreshIntervalMs: 0 },
    })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('outlives its expiry many times over without a rewrite: the leader extends it on reports', async () => {
    const live = new SimSidecar(fleet.sidecarRedis, { id: 'keep-alive', poolId: 32, nodeHeight: 1010 })
    await live.tick()
    const epoch = await waitUntilLeading(tracker)
    const written = await eventually(async () => {
      await live.tick()
      expect(live.lastDesired?.epoch).toBe(epoch)
      return live.lastDesired
    })
    const expiry = 2 * FORGET_AFTER_MS
    // Report until three expiries have passed since the one write.
    await eventually(
      async () => {
        await live.tick()
        expect(Date.now() - (written?.issuedAt ?? 0)).toBeGreaterThan(3 * expiry)
      },
      { timeoutMs: 20_000, description: 'three expiries since the write' },
    )
    const key = keysOf(fleet.probe).desired(live.id)
    expect(await fleet.probe.hget(key, 'generation')).toBe(String(written?.generation))
    const ttl = await fleet.probe.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(expiry)
  })
})

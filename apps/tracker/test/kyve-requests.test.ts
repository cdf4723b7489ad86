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

const INTERVAL_SECONDS = 0.5

describe('KYVE requests per pool per interval', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([
      { id: 1, currentKey: '1000', paused: true },
      { id: 2, currentKey: '2000', paused: true },
    ])
    tracker = await startTestTracker(trackerConfig(fleet, { pollIntervalSeconds: INTERVAL_SECONDS }))
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('stays at one per interval with 1 sidecar and with 10 sidecars on a pool, however often they report', async () => {
    const lonely = new SimSidecar(fleet.sidecarRedis, { id: 'lonely', poolId: 1, nodeHeight: 1010 })
    const crowd = Array.from(
      { length: 10 },
      (_, i) => new SimSidecar(fleet.sidecarRedis, { id: `crowd-${i}`, poolId: 2, nodeHeight: 2010 }),
    )
    const all = [lonely, ...crowd]
    await tickAll(all)
    await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(all)
      const pools = (await tracker.fleet()).pools
      expect(pools.map((p) => p.poolHeight)).toEqual([1000, 2000])
    })

    fleet.kyve.resetStats()
    const started = Date.now()
    let reports = 0
    // Reports keep flowing (every sidecar reports many times per interval) while we count at the API.
    const counts = await eventually(
      async () => {
        await tickAll(all)
        reports += all.length
        const byPool = fleet.kyve.stats().byPool
        const one = byPool['1']?.byRoute.pool ?? 0
        const two = byPool['2']?.byRoute.pool ?? 0
        expect(Math.min(one, two)).toBeGreaterThanOrEqual(8)
        return { one, two, elapsedMs: Date.now() - started }
      },
      { timeoutMs: 20_000, description: 'eight polls of each pool' },
    )
    const intervals = counts.elapsedMs / (INTERVAL_SECONDS * 1000)
    // One request per started interval, plus the one that may be in flight at either edge of the window.
    for (const count of [counts.one, counts.two]) {
      expect(count).toBeLessThanOrEqual(Math.floor(intervals) + 1)
      expect(count).toBeGreaterThanOrEqual(Math.floor(intervals) - 1)
    }
    expect(Math.abs(counts.one - counts.two)).toBeLessThanOrEqual(1)
    expect(reports).toBeGreaterThan(10 * (counts.one + counts.two))
    // Nothing else was asked: no per-sidecar pool lists, no bundle queries.
    const stats = fleet.kyve.stats()
    expect(stats.byRoute.pools + stats.byRoute.bundles + stats.byRoute.bundle).toBe(0)
  })
})

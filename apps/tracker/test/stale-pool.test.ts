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
import { SimSidecar, TEST_THRESHOLDS } from './helpers/sim-sidecar.js'

describe('a ghost node while the pool height goes stale', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    // A fast pool: up to 1000 blocks a second, so a pool height a second old may already be 1000 blocks behind.
    fleet = await startTestFleet([
      { id: 51, currentKey: '10000', paused: true, maxBundleSize: 1000, uploadInterval: 1 },
    ])
    tracker = await startTestTracker(trackerConfig(fleet, { maxPoolAgeSeconds: 1 }))
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('is sent back to normal once the pool could have caught up, as a sidecar deciding alone would', async () => {
    const ghost = new SimSidecar(fleet.sidecarRedis, {
      id: 'stale-ghost',
      poolId: 51,
      mode: 'ghost',
      nodeHeight: 11_000,
      nodeBase: 100,
    })
    ghost.lastPrune = { height: 100, at: Date.now() } // no prune due: only the mode is at stake
    await ghost.tick()
    await waitUntilLeading(tracker)
    // With a fresh pool height, 1000 blocks ahead (max 100): ghost it stays.
    await eventually(async () => {
      await ghost.tick()
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === ghost.id)
      expect(seen?.lag).toBe(1000)
    })
    expect(ghost.mode).toBe('ghost')

    // KYVE stops answering: the tracker's pool height only gets older.
    fleet.kyve.setFault({ kind: 'error500', poolId: 51 })
    await eventually(
      async () => {
        await ghost.tick()
        expect(ghost.mode).toBe('normal')
      },
      { timeoutMs: 15_000, description: 'the ghost node sent back to normal' },
    )
    expect(ghost.switches).toEqual(['normal'])
    expect(ghost.lastDesired?.reason).toMatch(
      new RegExp(
        `the last pool height \\(10000\\) is \\d+ s old; advancing at its fastest the pool could be at \\d+, ` +
          `within 0 blocks of the node \\(min ${TEST_THRESHOLDS.heightDifferenceMin}\\): normal, to be safe`,
      ),
    )
    fleet.kyve.clearFaults()
  })
})

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

/** Every key of the database with its remaining time to live: what an RDB snapshot taken now would bring back. */
async function snapshot(fleet: TestFleet): Promise<Array<{ key: string; dump: Buffer; pttl: number }>> {
  const keys = await fleet.probe.keys('*')
  return await Promise.all(
    keys.map(async (key) => ({
      key,
      dump: (await fleet.probe.dumpBuffer(key)) as Buffer,
      pttl: await fleet.probe.pttl(key),
    })),
  )
}

async function restore(
  fleet: TestFleet,
  keys: ReadonlyArray<{ key: string; dump: Buffer; pttl: number }>,
): Promise<void> {
  await fleet.probe.flushall()
  for (const { key, dump, pttl } of keys) await fleet.probe.restore(key, pttl > 0 ? pttl : 0, dump, 'REPLACE')
}

// Found by the chaos soak (seed 20261207, +875 s): Redis came back from an old snapshot, the new leader decided
// on the reports in it, and "holding the current mode" sent two sidecars that had since returned to normal back
// to ghost at once, under its new epoch, past the availability budget.
describe('Redis restarted from an old snapshot', () => {
  let fleet: TestFleet
  const trackers: Tracker[] = []

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 7, currentKey: '1000', paused: true }])
  })
  afterAll(async () => {
    for (const tracker of trackers) await tracker.stop()
    await fleet?.stop()
  })

  it("a new leader does not decide on the snapshot's old reports: a sidecar keeps the mode it has until it reports", async () => {
    const moved = new SimSidecar(fleet.sidecarRedis, {
      id: 'rb-moved',
      poolId: 7,
      nodeHeight: 1200,
      nodeBase: 1100,
    })
    const fresh = new SimSidecar(fleet.sidecarRedis, {
      id: 'rb-fresh',
      poolId: 7,
      nodeHeight: 1200,
      nodeBase: 1100,
    })
    const first = await startTestTracker(trackerConfig(fleet), { id: 'tracker-rb-1' })
    trackers.push(first)
    await waitUntilLeading(first)
    await eventually(
      async () => {
        await tickAll([moved, fresh])
        expect([moved.mode, fresh.mode]).toEqual(['ghost', 'ghost'])
      },
      { timeoutMs: 20_000, description: 'both in ghost mode' },
    )
    const old = await snapshot(fleet)

    // Since the snapshot, the pool caught up with `moved` and the tracker sent it back to normal.
    moved.nodeHeight = 1005
    await eventually(
      async () => {
        await tickAll([moved, fresh])
        expect(moved.mode).toBe('normal')
      },
      { timeoutMs: 20_000, description: 'rb-moved back in normal mode' },
    )
    const appliedBefore = { epoch: moved.appliedEpoch, generation: moved.appliedGeneration }
    await first.stop()

    // Redis restarts from the snapshot: the report that says ghost and the state that said ghost are back.
    await restore(fleet, old)
    const second = await startTestTracker(trackerConfig(fleet), { id: 'tracker-rb-2' })
    trackers.push(second)
    const epoch = await waitUntilLeading(second)
    // Leading, its quiet period over, and it wrote nothing for sidecars it has not heard from: the state in Redis
    // is still the snapshot's, under the old epoch (which the sidecar refuses as fenced).
    await expect(moved.readDesired()).rejects.toThrow(/stale-epoch/)

    await eventually(
      async () => {
        await tickAll([moved, fresh])
        expect(moved.lastDesired).toMatchObject({ epoch, mode: 'normal' })
      },
      { timeoutMs: 20_000, description: 'rb-moved decided on its own report' },
    )
    expect(moved.mode).toBe('normal')
    expect(moved.switches).toEqual(['ghost', 'normal'])
    expect(moved.appliedEpoch).toBeGreaterThan(appliedBefore.epoch)
  })
})

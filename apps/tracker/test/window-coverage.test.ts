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

// The simulator's pools have max_bundle_size 100: the cache window is [1000, 1200].
const POOL_HEIGHT = 1000
const POOL_ID = 9

describe('holder coverage of the cache window in the budget', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([
      { id: POOL_ID, currentKey: String(POOL_HEIGHT), paused: true },
      { id: POOL_ID + 1, currentKey: String(POOL_HEIGHT), paused: true },
    ])
    // A budget of 2 would let both sidecars prune at once: only coverage keeps one holder up.
    tracker = await startTestTracker(
      trackerConfig(fleet, { defaults: { maxUnavailable: 2, pruningIntervalHours: 1, margin: 3 } }),
    )
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  async function minHolders(): Promise<number | null> {
    const text = await (await fetch(`${tracker.url}/metrics`)).text()
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith('ghostfleet_tracker_pool_window_min_holders{') && l.includes(`pool="${POOL_ID}"`),
      )
    return line === undefined ? null : Number(line.split(' ').at(-1))
  }

  it('keeps the only holder of window heights up until a sibling holds them, within a budget of 2', async () => {
    const lo = new SimSidecar(fleet.sidecarRedis, {
      id: 'cover-lo',
      poolId: POOL_ID,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 150,
      nodeBase: 100,
      holdPrunes: true,
    })
    const hi = new SimSidecar(fleet.sidecarRedis, {
      id: 'cover-hi',
      poolId: POOL_ID,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 250,
      nodeBase: 100,
      holdPrunes: true,
    })
    const both = [lo, hi]
    await tickAll(both)
    await waitUntilLeading(tracker)

    // lo holds nothing only it holds (hi covers 1000–1150): it may prune. hi alone holds 1151–1200: it waits.
    await eventually(
      async () => {
        await tickAll(both)
        expect(lo.heldPrune()).not.toBeNull()
      },
      { timeoutMs: 15_000, description: 'lo prunes first' },
    )
    expect(hi.heldPrune()).toBeNull()
    await eventually(
      async () => {
        await tickAll(both)
        expect(await minHolders()).toBe(1)
      },
      { timeoutMs: 10_000, description: 'the gauge shows hi as the only holder while lo prunes' },
    )

    // lo back, still below the window's top: hi remains the only holder of 1151–1200.
    lo.finishPrune()
    await eventually(
      async () => {
        await tickAll(both)
        const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === lo.id)
        expect(view?.activity).toBe('serving')
        expect(view?.command).toBeNull()
        expect(view?.nodeBase).toBe(POOL_HEIGHT - 3)
      },
      { timeoutMs: 10_000, description: 'the tracker sees lo serving again' },
    )
    for (let i = 0; i < 5; i += 1) await tickAll(both)
    expect(hi.heldPrune()).toBeNull()
    expect(hi.prunes).toEqual([])
    expect(await minHolders()).toBe(1)
    const hiView = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === hi.id)
    expect(hiView?.command).toBeNull()

    // lo syncs past the window: now hi may go.
    lo.nodeHeight = POOL_HEIGHT + 300
    await eventually(
      async () => {
        await tickAll(both)
        expect(hi.heldPrune()).toBe(POOL_HEIGHT - 3)
      },
      { timeoutMs: 15_000, description: 'hi prunes once lo holds the whole window' },
    )
    expect(lo.heldPrune()).toBeNull()
    hi.finishPrune()
    await eventually(
      async () => {
        await tickAll(both)
        expect(await minHolders()).toBe(2)
      },
      { timeoutMs: 10_000, description: 'both hold the window again' },
    )
  })

  it('lets the sidecar of a one-sidecar pool prune: it has no sibling to cover for it', async () => {
    const alone = new SimSidecar(fleet.sidecarRedis, {
      id: 'alone',
      poolId: POOL_ID + 1,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 250,
      nodeBase: 100,
    })
    await eventually(
      async () => {
        await alone.tick()
        expect(alone.prunes).toEqual([POOL_HEIGHT - 3])
      },
      { timeoutMs: 15_000, description: 'the lone sidecar pruned' },
    )
  })
})

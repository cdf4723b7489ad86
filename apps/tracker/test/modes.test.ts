import { eventually } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { SimSidecar, tickAll } from './helpers/sim-sidecar.js'

// Thresholds in every report: ghost at diff ≥ 100, normal at diff ≤ 50, hold in between.
describe('modes follow the pool with hysteresis', () => {
  let fleet: TestFleet
  let tracker: Tracker | undefined

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 1, currentKey: '1000', paused: true }])
  })
  afterEach(async () => {
    await tracker?.stop()
    tracker = undefined
    await fleet.probe.flushall()
  })
  afterAll(async () => {
    await fleet.stop()
  })

  it('switches several sidecars of one pool to ghost and back, one restart at a time, holding in between', async () => {
    tracker = await startTestTracker(trackerConfig(fleet, { defaults: { maxUnavailable: 1 } }))
    const sidecars = ['a', 'b', 'c'].map(
      (id) => new SimSidecar(fleet.sidecarRedis, { id: `modes-${id}`, poolId: 1, nodeHeight: 1120 }),
    )
    await tickAll(sidecars)
    await waitUntilLeading(tracker)

    // diff 120 ≥ max 100: every sidecar goes ghost, but a switch is a restart and uses the budget of 1.
    let mostRestartingAtOnce = 0
    await eventually(
      async () => {
        await tickAll(sidecars)
        const restarting = sidecars.filter(
          (s) => s.activity !== 'serving' || (s.lastDesired !== null && s.lastDesired.mode !== s.mode),
        )
        mostRestartingAtOnce = Math.max(mostRestartingAtOnce, restarting.length)
        expect(sidecars.map((s) => s.mode)).toEqual(['ghost', 'ghost', 'ghost'])
      },
      { timeoutMs: 20_000, description: 'all sidecars in ghost mode' },
    )
    expect(mostRestartingAtOnce).toBe(1)
    expect(sidecars.every((s) => s.switches.length === 1)).toBe(true)

    // The pool catches up to diff 70: between min and max, ghost sidecars stay ghost.
    await fleet.kyve.setPool(1, { currentKey: '1050' })
    await eventually(async () => expect((await tracker!.fleet()).pools[0]?.poolHeight).toBe(1050))
    for (let i = 0; i < 10; i += 1) await tickAll(sidecars)
    for (const s of sidecars) {
      expect(s.lastDesired?.mode).toBe('ghost')
      expect(s.mode).toBe('ghost')
    }

    // diff 40 ≤ min 50: back to normal, again one at a time.
    await fleet.kyve.setPool(1, { currentKey: '1080' })
    mostRestartingAtOnce = 0
    await eventually(
      async () => {
        await tickAll(sidecars)
        const restarting = sidecars.filter(
          (s) => s.activity !== 'serving' || (s.lastDesired !== null && s.lastDesired.mode !== s.mode),
        )
        mostRestartingAtOnce = Math.max(mostRestartingAtOnce, restarting.length)
        expect(sidecars.map((s) => s.mode)).toEqual(['normal', 'normal', 'normal'])
      },
      { timeoutMs: 20_000, description: 'all sidecars back in normal mode' },
    )
    expect(mostRestartingAtOnce).toBe(1)

    // From normal, diff 70 (between the thresholds) keeps normal: the node syncs again.
    for (const s of sidecars) s.nodeHeight = 1150
    for (let i = 0; i < 10; i += 1) await tickAll(sidecars)
    expect(sidecars.map((s) => s.lastDesired?.mode)).toEqual(['normal', 'normal', 'normal'])
    expect(sidecars.every((s) => s.switches.length === 2)).toBe(true)
  })

  it('uses thresholds computed from the pool settings and config overrides when a sidecar reports none', async () => {
    // Pool settings 100 blocks / 60 s → max = round(100/60·172800) = 288000; the override lowers it to 500.
    tracker = await startTestTracker(
      trackerConfig(fleet, {
        pools: [
          {
            chainId: 'kyve-1',
            poolId: 1,
            thresholds: { heightDifferenceMax: 500, heightDifferenceMin: 200 },
          },
        ],
      }),
    )
    await fleet.kyve.setPool(1, { currentKey: '1000' })
    const below = new SimSidecar(fleet.sidecarRedis, {
      id: 'computed-below',
      poolId: 1,
      nodeHeight: 1450,
      thresholds: null,
    })
    const above = new SimSidecar(fleet.sidecarRedis, {
      id: 'computed-above',
      poolId: 1,
      nodeHeight: 1500,
      thresholds: null,
    })
    await tickAll([below, above])
    await waitUntilLeading(tracker)
    await eventually(
      async () => {
        await tickAll([below, above])
        expect(above.mode).toBe('ghost')
      },
      { timeoutMs: 10_000 },
    )
    expect(below.lastDesired?.mode).toBe('normal')
    const pool = (await tracker.fleet()).pools[0]
    expect(pool?.thresholds).toEqual({
      heightDifferenceMax: 500,
      heightDifferenceMin: 200,
      keepRecent: 432000,
    })
  })
})

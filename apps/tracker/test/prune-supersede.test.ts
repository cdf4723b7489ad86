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

// Thresholds in every report: ghost at diff ≥ 100, normal at diff ≤ 50. Command timeouts of a minute: every
// return to normal asserted here must come from the hysteresis, long before a timeout could withdraw the prune.
const POOL_HEIGHT = 1000
const MARGIN = 3
const TIMEOUT_MS = 60_000
/** Far below the command timeouts: a few reconciles (report interval 300 ms, poll interval 500 ms). */
const REACTION_MS = 5_000

describe('a return to normal supersedes a prune the sidecar is not running', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([
      { id: 21, currentKey: String(POOL_HEIGHT), paused: true },
      { id: 22, currentKey: String(POOL_HEIGHT), paused: true },
    ])
    tracker = await startTestTracker(
      trackerConfig(fleet, { defaults: { maxUnavailable: 1, pruningIntervalHours: 1, margin: MARGIN } }),
      { timing: { commandAckTimeoutMs: TIMEOUT_MS, commandSettleTimeoutMs: TIMEOUT_MS } },
    )
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('writes normal mode for a ghost sidecar with a refused prune once the pool catches up, within one reconcile', async () => {
    const refusing = new SimSidecar(fleet.sidecarRedis, {
      id: 'refusing',
      poolId: 21,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 200,
      nodeBase: 100,
      refusePrunes: true,
    })
    // A second ghost sidecar of the pool: with a budget of 1 it must wait while the first holds the slot.
    const waiting = new SimSidecar(fleet.sidecarRedis, {
      id: 'waiting',
      poolId: 21,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 200,
      nodeBase: 200,
    })
    await refusing.tick()
    await waitUntilLeading(tracker)
    await eventually(
      async () => {
        await refusing.tick()
        expect(refusing.lastDesired?.pruneToHeight).toBe(POOL_HEIGHT - MARGIN)
        expect(refusing.appliedGeneration).toBe(refusing.lastDesired?.generation)
      },
      { timeoutMs: 10_000, description: 'the refusing sidecar picked up its prune' },
    )
    await waiting.tick()
    expect(refusing.prunes).toHaveLength(0)
    expect(refusing.activity).toBe('serving')

    // diff 40 ≤ min 50 for both: the hysteresis sends the ghost nodes back to normal.
    await fleet.kyve.setPool(21, { currentKey: String(POOL_HEIGHT + 160) })
    const start = Date.now()
    let mostDisrupted = 0
    await eventually(
      async () => {
        await tickAll([refusing, waiting])
        const disrupted = [refusing, waiting].filter(
          (s) =>
            s.activity !== 'serving' ||
            (s.lastDesired !== null &&
              (s.lastDesired.mode !== s.mode || s.lastDesired.pruneToHeight !== null)),
        )
        mostDisrupted = Math.max(mostDisrupted, disrupted.length)
        expect(refusing.lastDesired).toMatchObject({ mode: 'normal', pruneToHeight: null })
      },
      { timeoutMs: REACTION_MS, description: 'the refusing sidecar told to return to normal' },
    )
    expect(Date.now() - start).toBeLessThan(TIMEOUT_MS)
    const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'refusing')
    expect(view?.lastOutcome).toMatchObject({
      command: `prune to ${POOL_HEIGHT - MARGIN}`,
      outcome: 'dropped',
    })

    // The budget still holds: the other sidecar goes back only after the first one is serving in normal mode.
    await eventually(
      async () => {
        await tickAll([refusing, waiting])
        const disrupted = [refusing, waiting].filter(
          (s) => s.activity !== 'serving' || (s.lastDesired !== null && s.lastDesired.mode !== s.mode),
        )
        mostDisrupted = Math.max(mostDisrupted, disrupted.length)
        expect([refusing.mode, waiting.mode]).toEqual(['normal', 'normal'])
      },
      { timeoutMs: 20_000, description: 'both sidecars back in normal mode' },
    )
    expect(mostDisrupted).toBe(1)
    expect(refusing.prunes).toHaveLength(0)
    expect(waiting.prunes).toHaveLength(0)
  })

  it('lets a prune the sidecar reports running finish before the return to normal', async () => {
    const pruning = new SimSidecar(fleet.sidecarRedis, {
      id: 'pruning',
      poolId: 22,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 200,
      nodeBase: 100,
      holdPrunes: true,
    })
    await eventually(
      async () => {
        await pruning.tick()
        expect(pruning.heldPrune()).toBe(POOL_HEIGHT - MARGIN)
        expect(pruning.activity).toBe('pruning')
      },
      { timeoutMs: 10_000, description: 'the sidecar is pruning' },
    )

    await fleet.kyve.setPool(22, { currentKey: String(POOL_HEIGHT + 160) })
    await eventually(async () =>
      expect((await tracker.fleet()).pools.find((p) => p.poolId === 22)?.poolHeight).toBe(POOL_HEIGHT + 160),
    )
    for (let i = 0; i < 10; i += 1) {
      await pruning.tick()
      expect(pruning.lastDesired).toMatchObject({ mode: 'ghost', pruneToHeight: POOL_HEIGHT - MARGIN })
    }

    pruning.finishPrune()
    await eventually(
      async () => {
        await pruning.tick()
        expect(pruning.mode).toBe('normal')
        const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'pruning')
        expect(view?.lastOutcome).toMatchObject({ command: 'switch to normal', outcome: 'done' })
      },
      { timeoutMs: REACTION_MS, description: 'the sidecar back in normal mode after its prune' },
    )
    expect(pruning.prunes).toEqual([POOL_HEIGHT - MARGIN])
  })
})

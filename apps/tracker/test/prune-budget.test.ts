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

const POOL_HEIGHT = 1000
const MARGIN = 3

describe('prunes within the availability budget', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([
      { id: 7, currentKey: String(POOL_HEIGHT), paused: true },
      { id: 8, currentKey: String(POOL_HEIGHT), paused: true },
    ])
    tracker = await startTestTracker(
      trackerConfig(fleet, { defaults: { maxUnavailable: 1, pruningIntervalHours: 1, margin: MARGIN } }),
      // Refresh often: rewritten states (new generations, same prune) must not make anyone prune twice.
      { timing: { refreshIntervalMs: 200 } },
    )
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  /** Every sidecar's stored pruneToHeight, read in one transaction (a consistent snapshot). */
  async function storedPruneHeights(ids: readonly string[]): Promise<Array<number | null>> {
    const keys = keysOf(fleet.probe)
    const multi = fleet.probe.multi()
    for (const id of ids) multi.hget(keys.desired(id), 'pruneToHeight')
    const replies = (await multi.exec()) ?? []
    return replies.map(([error, value]) => {
      if (error) throw error
      return value === null ? null : (JSON.parse(String(value)) as number | null)
    })
  }

  it('prunes five ghost sidecars one at a time, each to a safe height, each exactly once', async () => {
    // Node heights and bases differ so each sidecar's safe height is distinct: min(pool, node) − margin.
    const sidecars = [0, 1, 2, 3, 4].map(
      (i) =>
        new SimSidecar(fleet.sidecarRedis, {
          id: `prune-${i}`,
          poolId: 7,
          mode: 'ghost',
          nodeHeight: POOL_HEIGHT + 200 + i,
          nodeBase: 100 + i,
          holdPrunes: true,
        }),
    )
    const ids = sidecars.map((s) => s.id)
    const basesBefore = new Map(sidecars.map((s) => [s.id, s.nodeBase]))
    await tickAll(sidecars)
    await waitUntilLeading(tracker)

    const order: string[] = []
    let maxOutstanding = 0
    await eventually(
      async () => {
        await tickAll(sidecars)
        const outstanding = (await storedPruneHeights(ids)).filter((h) => h !== null).length
        maxOutstanding = Math.max(maxOutstanding, outstanding)
        const pruning = sidecars.filter((s) => s.heldPrune() !== null)
        // The invariant, checked on every round: never two prunes out at once (stored or in progress).
        expect(outstanding).toBeLessThanOrEqual(1)
        expect(pruning.length).toBeLessThanOrEqual(1)
        // Finish the one in progress; the next one must only get its command after this one reports it.
        for (const s of pruning) {
          order.push(s.id)
          s.finishPrune()
        }
        expect(sidecars.every((s) => s.prunes.length >= 1)).toBe(true)
        expect(outstanding).toBe(0)
      },
      { timeoutMs: 30_000, description: 'all five sidecars pruned' },
    )
    expect(maxOutstanding).toBe(1)
    expect(new Set(order).size).toBe(5)

    for (const s of sidecars) {
      expect(s.prunes).toHaveLength(1)
      const [height] = s.prunes as [number]
      const nodeHeight = s.nodeHeight
      expect(height).toBeLessThanOrEqual(POOL_HEIGHT - MARGIN)
      expect(height).toBeLessThanOrEqual(nodeHeight - MARGIN)
      expect(height).toBeGreaterThan(basesBefore.get(s.id)!)
      expect(height).toBe(Math.min(POOL_HEIGHT, nodeHeight) - MARGIN)
    }

    // Commands are cleared once done and not issued again before the pruning interval (1 h): a few more rounds
    // with frequent refreshes leave every sidecar with one prune and no prune height stored.
    for (let i = 0; i < 10; i += 1) await tickAll(sidecars)
    expect(await storedPruneHeights(ids)).toEqual([null, null, null, null, null])
    expect(sidecars.map((s) => s.prunes.length)).toEqual([1, 1, 1, 1, 1])
    const metrics = await (await fetch(`${tracker.url}/metrics`)).text()
    expect(metrics).toMatch(/ghostfleet_tracker_commands_total\{[^}]*kind="prune",outcome="done"[^}]*\} 5/)
  })

  it('withdraws a prune the sidecar never picks up, and the budget slot goes to the next one', async () => {
    // Pool 8: the sidecars of the first test are silent by now and hold pool 7's budget as "unknown".
    // The deaf sidecar has more to prune, so it goes first.
    const deaf = new SimSidecar(fleet.sidecarRedis, {
      id: 'deaf',
      poolId: 8,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 300,
      nodeBase: 10,
    })
    const other = new SimSidecar(fleet.sidecarRedis, {
      id: 'listening',
      poolId: 8,
      mode: 'ghost',
      nodeHeight: POOL_HEIGHT + 300,
      nodeBase: 20,
    })
    // The deaf sidecar reports but never reads its desired state (a sidecar running standalone).
    const deafTick = async () => {
      await deaf.report()
    }
    await eventually(
      async () => {
        await Promise.all([deafTick(), other.tick()])
        expect(other.prunes).toHaveLength(1)
      },
      { timeoutMs: 20_000, description: 'the listening sidecar pruned after the deaf one timed out' },
    )
    const deafView = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'deaf')
    expect(deafView?.lastOutcome).toMatchObject({
      command: `prune to ${POOL_HEIGHT - MARGIN}`,
      outcome: 'timeout',
    })
    // Withdrawn means cleared in Redis too, so a late reader cannot act on it.
    expect((await deaf.readDesired())?.pruneToHeight).toBeNull()
    expect(deaf.prunes).toHaveLength(0)
  })
})

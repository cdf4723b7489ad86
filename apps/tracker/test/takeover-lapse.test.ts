import type { LeaderElection } from '@ghostfleet/coordination'
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

/**
 * The lease's local deadline can pass for a moment while a renew is late (a loaded host runs timers late), and
 * the next renew extends it: `isLeader()` answers false once, and the tracker is still the elected leader. Found
 * by the chaos soak (seed 20261207, run 2): 3 of 27 takeovers gave up on that moment and left the tracker
 * holding the lease without leading for minutes while the sidecars decided alone, past the budget.
 */
function lapseOnce(tracker: Tracker, lapses: number): () => number {
  const election = (tracker as unknown as { election: LeaderElection }).election
  const isLeader = election.isLeader.bind(election)
  let left = lapses
  let seen = 0
  election.isLeader = () => {
    const leading = isLeader()
    if (leading && left > 0) {
      left -= 1
      seen += 1
      return false
    }
    return leading
  }
  return () => seen
}

describe('a takeover while the lease deadline lapses for a moment', () => {
  let fleet: TestFleet
  const trackers: Tracker[] = []

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 8, currentKey: '1000', paused: true }])
  })
  afterAll(async () => {
    for (const tracker of trackers) await tracker.stop()
    await fleet?.stop()
  })

  it('leads once the lease is confirmed again, instead of holding it without leading', async () => {
    const sidecar = new SimSidecar(fleet.sidecarRedis, {
      id: 'lapse',
      poolId: 8,
      nodeHeight: 1200,
      nodeBase: 1100,
    })
    await tickAll([sidecar])
    const first = await startTestTracker(trackerConfig(fleet), { id: 'tracker-lapse-1' })
    trackers.push(first)
    await waitUntilLeading(first)
    const second = await startTestTracker(trackerConfig(fleet), { id: 'tracker-lapse-2' })
    trackers.push(second)
    const lapsed = lapseOnce(second, 2)
    await first.stop()

    const epoch = await waitUntilLeading(second)
    expect(lapsed()).toBe(2)
    await eventually(
      async () => {
        await tickAll([sidecar])
        expect(sidecar.lastDesired?.epoch).toBe(epoch)
      },
      { timeoutMs: 15_000, description: 'the new leader writing the sidecar a state' },
    )
  })
})

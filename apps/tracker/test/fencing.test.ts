import { keysOf, readLeader } from '@ghostfleet/coordination'
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
import { captureLog } from './helpers/log-capture.js'
import { SimSidecar } from './helpers/sim-sidecar.js'

describe('a leader whose write is fenced', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 9, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet))
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('stops writing at once, hands its lease back and is elected again under a newer epoch', async () => {
    const sidecar = new SimSidecar(fleet.sidecarRedis, { id: 'fenced', poolId: 9, nodeHeight: 1010 })
    await sidecar.tick()
    const first = await waitUntilLeading(tracker)
    await eventually(async () => {
      await sidecar.tick()
      expect(sidecar.lastDesired?.epoch).toBe(first)
    })
    // The epoch counter moves without an election of this tracker (restored data, a manual change): its lease
    // is still valid, but Redis refuses its next write.
    await fleet.probe.set(keysOf(fleet.probe).epoch, String(first + 10))
    sidecar.nodeHeight = 1150
    await sidecar.tick()
    const second = await eventually(
      async () => {
        await sidecar.tick()
        expect(tracker.currentRole()).toBe('leader')
        expect(tracker.currentEpoch()).toBeGreaterThan(first + 10)
        expect(sidecar.lastDesired?.epoch).toBe(tracker.currentEpoch())
        return tracker.currentEpoch()
      },
      { timeoutMs: 15_000, description: 're-elected under a newer epoch' },
    )
    expect((await readLeader(fleet.probe))?.epoch).toBe(second)
    await eventually(async () => {
      await sidecar.tick()
      expect(sidecar.mode).toBe('ghost')
    })
    const metrics = await (await fetch(`${tracker.url}/metrics`)).text()
    expect(metrics).toMatch(
      /ghostfleet_tracker_desired_writes_total\{outcome="not-leader-epoch",trigger="report",service="tracker"\} 1/,
    )
  })
})

describe('a leader fenced again and again', () => {
  let fleet: TestFleet
  let tracker: Tracker
  const log = captureLog('fenced-again')

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 10, currentKey: '1000', paused: true }])
    // A long lease, so every leadership below is far shorter than one, however slow the machine.
    tracker = await startTestTracker(trackerConfig(fleet, { leaseTtlMs: 20_000 }), { logger: log.logger })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('campaigns at once the first time, then backs off with the capped, jittered reconnect curve', async () => {
    let epoch = await waitUntilLeading(tracker)
    for (let round = 1; round <= 3; round += 1) {
      // Something moves the epoch counter under every leader; a new sidecar makes the leader write.
      await fleet.probe.set(keysOf(fleet.probe).epoch, String(epoch + 10))
      await new SimSidecar(fleet.sidecarRedis, { id: `again-${round}`, poolId: 10, nodeHeight: 1010 }).tick()
      const before = epoch
      epoch = await eventually(
        () => {
          expect(tracker.currentRole()).toBe('leader')
          expect(tracker.currentEpoch()).toBeGreaterThan(before + 10)
          return tracker.currentEpoch() ?? 0
        },
        { timeoutMs: 15_000, description: `re-elected after fencing ${round}` },
      )
    }
    const waits = log.matching('resigning').map((line) => line['campaignInMs'])
    expect(waits).toHaveLength(3)
    expect(waits[0]).toBe(0)
    for (const wait of waits.slice(1)) {
      expect(wait).toBeGreaterThanOrEqual(500)
      expect(wait).toBeLessThanOrEqual(20_000)
    }
  })
})

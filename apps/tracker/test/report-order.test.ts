import { publishReport } from '@ghostfleet/coordination'
import { eventually } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import { orderReport } from '../src/report-order.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { SimSidecar } from './helpers/sim-sidecar.js'

const HOUR = 3_600_000

describe('orderReport', () => {
  const at = 1_700_000_000_000
  it('orders one boot by seq, whatever the clock says', () => {
    expect(
      orderReport(
        { bootId: 'boot-aaaa', seq: 7, reportedAt: at + HOUR },
        { bootId: 'boot-aaaa', seq: 8, reportedAt: at },
      ),
    ).toBe('newer')
    expect(
      orderReport(
        { bootId: 'boot-aaaa', seq: 8, reportedAt: at },
        { bootId: 'boot-aaaa', seq: 8, reportedAt: at + 1 },
      ),
    ).toBe('stale')
    expect(
      orderReport(
        { bootId: 'boot-aaaa', seq: 8, reportedAt: at },
        { bootId: 'boot-aaaa', seq: 3, reportedAt: at + HOUR },
      ),
    ).toBe('stale')
  })
  it('takes a new boot as the current one, from its first report', () => {
    expect(
      orderReport(
        { bootId: 'boot-aaaa', seq: 900, reportedAt: at + HOUR },
        { bootId: 'boot-bbbb', seq: 1, reportedAt: at },
      ),
    ).toBe('newer')
  })
  it('orders reports of an older release (no boot id) by reportedAt, as before', () => {
    expect(orderReport({ reportedAt: at }, { reportedAt: at + 1 })).toBe('newer')
    expect(orderReport({ reportedAt: at }, { reportedAt: at })).toBe('stale')
    expect(orderReport({ bootId: 'boot-aaaa', seq: 4, reportedAt: at }, { reportedAt: at - 1 })).toBe('stale')
    expect(orderReport({ reportedAt: at }, { bootId: 'boot-aaaa', seq: 1, reportedAt: at + 1 })).toBe('newer')
  })
})

describe('a sidecar whose clock stepped back', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 41, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet))
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('is still heard: its later reports are taken in sequence order and acted on', async () => {
    const skewed = new SimSidecar(fleet.sidecarRedis, { id: 'skewed', poolId: 41, nodeHeight: 1010 })
    await skewed.tick()
    await waitUntilLeading(tracker)
    // One report stamped an hour ahead (the host's clock was wrong), then NTP steps the clock back.
    skewed.wallClock = () => Date.now() + HOUR
    await skewed.tick()
    await eventually(async () => {
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'skewed')
      expect(seen?.reportedAt).toBeGreaterThan(Date.now() + HOUR / 2)
    })
    skewed.wallClock = () => Date.now()
    const stepped = Date.now()

    // The node pulls ahead: the tracker must see it in the reports stamped after the step, and send it to ghost.
    skewed.nodeHeight = 1200
    await eventually(
      async () => {
        await skewed.tick()
        expect(skewed.mode).toBe('ghost')
      },
      { timeoutMs: 15_000, description: 'skewed switched to ghost' },
    )
    // And it is not taken for silent (which would hold its pool's budget): the tracker hears every tick.
    await eventually(async () => {
      await skewed.tick()
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'skewed')
      expect(seen?.silent).toBe(false)
      expect(seen?.reportedAt).toBeGreaterThanOrEqual(stepped)
      expect(seen?.reportedAt).toBeLessThan(Date.now() + 1_000)
    })
  })

  it('still orders the reports of an older release without a sequence by their time', async () => {
    const legacy = new SimSidecar(fleet.sidecarRedis, {
      id: 'legacy',
      poolId: 41,
      nodeHeight: 1010,
      legacyReports: true,
    })
    await legacy.tick()
    const first = legacy.toReport()
    await publishReport(fleet.sidecarRedis, first, { intervalMs: 1000 })
    // A late duplicate of an earlier report (older time) changes nothing; a newer one does.
    await publishReport(
      fleet.sidecarRedis,
      { ...first, nodeHeight: 1005, reportedAt: first.reportedAt - 10_000 },
      { intervalMs: 1000 },
    )
    await publishReport(
      fleet.sidecarRedis,
      { ...first, nodeHeight: 1020, reportedAt: first.reportedAt + 1 },
      { intervalMs: 1000 },
    )
    await eventually(async () => {
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'legacy')
      expect(seen?.nodeHeight).toBe(1020)
    })
  })

  it('takes the first report of a restarted sidecar at once, even stamped earlier than the last one', async () => {
    const restarted = new SimSidecar(fleet.sidecarRedis, { id: 'restarted', poolId: 41, nodeHeight: 1010 })
    restarted.wallClock = () => Date.now() + HOUR
    await restarted.tick()
    await eventually(async () => {
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'restarted')
      expect(seen?.nodeHeight).toBe(1010)
    })
    restarted.restart()
    restarted.wallClock = () => Date.now()
    restarted.nodeHeight = 1011
    await restarted.tick()
    await eventually(async () => {
      const seen = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'restarted')
      expect(seen?.nodeHeight).toBe(1011)
    })
  })
})

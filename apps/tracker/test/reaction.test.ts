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
import { SimSidecar } from './helpers/sim-sidecar.js'

// The tracker polls every 60 s and sweeps every 60 s here, so only the report itself can make it decide in time:
// a tracker that decided on a timer would fail. The latency target is measured in bench/tracker-latency.mjs.
describe('reaction to a report', () => {
  let fleet: TestFleet
  let tracker: Tracker | undefined

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 3, currentKey: '5000', paused: true }])
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('writes the new desired state as soon as a report crosses the threshold', async () => {
    tracker = await startTestTracker(
      trackerConfig(fleet, { pollIntervalSeconds: 60, maxPoolAgeSeconds: 600 }),
      {
        timing: { sweepIntervalMs: 60_000, defaultReportIntervalMs: 100 },
      },
    )
    const sidecar = new SimSidecar(fleet.sidecarRedis, { id: 'react', poolId: 3, nodeHeight: 5010 })
    await sidecar.report()
    await waitUntilLeading(tracker)
    // A new leader decides for a sidecar once it has heard from it under its term.
    await eventually(async () => {
      await sidecar.report()
      expect((await sidecar.readDesired())?.mode).toBe('normal')
    })
    sidecar.nodeHeight = 5150
    const sent = performance.now()
    await sidecar.report()
    const desired = await eventually(
      async () => {
        const state = await sidecar.readDesired()
        expect(state?.mode).toBe('ghost')
        return state
      },
      { timeoutMs: 5_000, intervalMs: 5 },
    )
    expect(desired?.reason).toContain('150 blocks ahead')
    // Informational only: timing targets live in the benchmark.
    console.info(`report → desired state observed after ${(performance.now() - sent).toFixed(1)} ms`)
    await tracker.stop()
    tracker = undefined
  })

  it('starts no command during the quiet period after an election', async () => {
    await fleet.probe.flushall()
    // Quiet period = 3 report intervals = 30 s here.
    tracker = await startTestTracker(
      trackerConfig(fleet, { pollIntervalSeconds: 60, maxPoolAgeSeconds: 600 }),
      {
        id: 'quiet',
        timing: { defaultReportIntervalMs: 10_000 },
      },
    )
    const sidecar = new SimSidecar(fleet.sidecarRedis, { id: 'quiet-sidecar', poolId: 3, nodeHeight: 5010 })
    await eventually(async () => {
      await sidecar.report()
      expect((await sidecar.readDesired())?.mode).toBe('normal')
    })
    sidecar.nodeHeight = 5150
    await sidecar.report()
    const view = await eventually(async () => {
      const found = (await tracker!.fleet()).sidecars.find((s) => s.sidecarId === 'quiet-sidecar')
      expect(found?.nodeHeight).toBe(5150)
      return found
    })
    expect(view?.note).toMatch(/quiet period after the election/)
    expect((await sidecar.readDesired())?.mode).toBe('normal')
  })
})

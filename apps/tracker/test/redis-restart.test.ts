import { readLeaderEpoch } from '@ghostfleet/coordination'
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

describe('Redis killed and restarted empty', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 6, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet))
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  async function readyz(): Promise<{ http: number; role?: string }> {
    const response = await fetch(`${tracker.url}/readyz`)
    const body = (await response.json()) as { role?: string }
    return { ...body, http: response.status }
  }

  it('survives the outage, stands by while it cannot renew, and leads again above the old epoch', async () => {
    const sidecars = ['x', 'y', 'z'].map(
      (id) =>
        new SimSidecar(fleet.sidecarRedis, { id: `rr-${id}`, poolId: 6, nodeHeight: 1200, nodeBase: 1100 }),
    )
    await tickAll(sidecars)
    const firstEpoch = await waitUntilLeading(tracker)
    await eventually(
      async () => {
        await tickAll(sidecars)
        expect(sidecars.map((s) => s.mode)).toEqual(['ghost', 'ghost', 'ghost'])
      },
      { timeoutMs: 20_000 },
    )

    await fleet.redis.kill('SIGKILL')
    await eventually(async () => {
      await tickAll(sidecars)
      expect(await readyz()).toMatchObject({ http: 503 })
      // It cannot renew its lease, so it steps down on its own clock and stops writing.
      expect(tracker.currentRole()).toBe('standby')
    })
    expect(sidecars.every((s) => s.lastError !== null)).toBe(true)

    // The server comes back with no data at all: no lease, no epoch counter, no reports, no desired states.
    await fleet.redis.restart()
    const secondEpoch = await eventually(
      async () => {
        await tickAll(sidecars)
        expect(await readyz()).toMatchObject({ http: 200, role: 'leader' })
        const epochs = new Set(sidecars.map((s) => s.lastDesired?.epoch))
        expect(epochs.size).toBe(1)
        const [epoch] = epochs
        // The sidecars had applied states of the first epoch; the new one is above it although Redis forgot it.
        expect(epoch).toBeGreaterThan(firstEpoch)
        return epoch as number
      },
      { timeoutMs: 30_000, description: 'the tracker leading again with every state rewritten' },
    )
    expect(await readLeaderEpoch(fleet.probe)).toBe(secondEpoch)
    expect(sidecars.map((s) => [s.mode, s.lastDesired?.mode, s.appliedEpoch])).toEqual([
      ['ghost', 'ghost', secondEpoch],
      ['ghost', 'ghost', secondEpoch],
      ['ghost', 'ghost', secondEpoch],
    ])
  })

  it('stops promptly while Redis is down (nothing waits on the dead connection)', async () => {
    await fleet.redis.kill('SIGKILL')
    await eventually(() => expect(tracker.currentRole()).toBe('standby'))
    const started = performance.now()
    await tracker.stop()
    // A liveness bound, not a timing target: the report consumer's read timeout is 1 s.
    expect(performance.now() - started).toBeLessThan(10_000)
    await fleet.redis.restart()
  })
})

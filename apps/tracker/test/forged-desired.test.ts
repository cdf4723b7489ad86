import { randomBytes } from 'node:crypto'
import { FleetKey, keysOf } from '@ghostfleet/coordination'
import { type DesiredState, WIRE_VERSION } from '@ghostfleet/core'
import { eventually, getText, metricValue } from '@ghostfleet/testkit'
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
import { SimSidecar, tickAll } from './helpers/sim-sidecar.js'

const FORGED_EPOCH = 1_000_000

/** A metric's value from the tracker's /metrics (0 when the series is absent). */
async function metric(tracker: Tracker, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await getText(`${tracker.url}/metrics`), name, labels) ?? 0
}

/** Writes a desired hash straight into Redis (HSET, no script), as someone with Redis access but no election would. */
async function forge(fleet: TestFleet, state: DesiredState): Promise<void> {
  const fields = Object.fromEntries(
    Object.entries(state).map(([name, value]) => [name, JSON.stringify(value)]),
  )
  await fleet.probe.hset(keysOf(fleet.probe).desired(state.sidecarId), fields)
}

async function storedGeneration(fleet: TestFleet, id: string): Promise<number> {
  return Number(await fleet.probe.hget(keysOf(fleet.probe).desired(id), 'generation'))
}

describe.each([
  ['without a fleet key', null],
  ['with a fleet key', FleetKey.parse(randomBytes(32).toString('hex'))],
])('a desired state forged under an epoch no election handed out (%s)', (_label, fleetKey) => {
  let fleet: TestFleet
  let tracker: Tracker
  const log = captureLog('forged-test')

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 21, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet), { logger: log.logger, fleetKey })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('is overwritten and counted; the leader keeps its lease and nobody else is rewritten', async () => {
    // forged-b and forged-c hold the pool's whole cache window [1000, 1200] with thresholds that keep them in
    // normal mode: forged-a's switch to ghost below must not wait for holder coverage, only for the forged state.
    const quiet = { heightDifferenceMax: 1000, heightDifferenceMin: 500, keepRecent: 1500 }
    const sidecars = ['forged-a', 'forged-b', 'forged-c'].map(
      (id) =>
        new SimSidecar(fleet.sidecarRedis, {
          id,
          poolId: 21,
          fleetKey,
          ...(id === 'forged-a' ? { nodeHeight: 1010 } : { nodeHeight: 1200, thresholds: quiet }),
        }),
    )
    const [target, ...others] = sidecars as [SimSidecar, ...SimSidecar[]]
    await tickAll(sidecars)
    const epoch = await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sidecars)
      for (const s of sidecars) expect(s.lastDesired?.epoch, `${s.id}: ${String(s.lastError)}`).toBe(epoch)
    })
    const generationsBefore = await Promise.all(others.map((s) => storedGeneration(fleet, s.id)))
    const elected = { event: 'elected', service: 'tracker' }
    expect(await metric(tracker, 'ghostfleet_tracker_leadership_changes_total', elected)).toBe(1)

    // Someone with Redis access writes a state for forged-a under a far-future epoch (unsigned, or with a
    // signature that cannot verify), then forged-a's node pulls ahead so the leader has to write to it.
    await forge(fleet, {
      v: WIRE_VERSION,
      sidecarId: target.id,
      mode: 'normal',
      pruneToHeight: null,
      basedOnPoolHeight: 1000,
      poolFetchedAt: Date.now(),
      epoch: FORGED_EPOCH,
      generation: 7,
      issuedAt: Date.now(),
      reason: 'forged',
      ...(fleetKey === null ? {} : { signature: 'ab'.repeat(32) }),
    })
    await target.tick()
    // Never applied: refused for its epoch (or, with a key, already for its signature).
    expect(String(target.lastError)).toMatch(fleetKey === null ? /unelected-epoch/ : /bad-signature/)
    expect(target.appliedEpoch).toBe(epoch)
    target.nodeHeight = 1200

    // The leader overwrites the forged state with its own order (ghost), and forged-a carries it out.
    await eventually(
      async () => {
        await tickAll(sidecars)
        expect(target.mode).toBe('ghost')
      },
      { timeoutMs: 15_000, description: 'forged-a switched to ghost by the leader' },
    )
    // A bounded window driven by events: five more rounds of reports, each seen by the leader before the next.
    for (let round = 1; round <= 5; round += 1) {
      for (const s of sidecars) s.nodeHeight += 1
      await tickAll(sidecars)
      await eventually(async () => {
        const view = await tracker.fleet()
        for (const s of sidecars) {
          const seen = view.sidecars.find((v) => v.sidecarId === s.id)
          expect(seen?.nodeHeight, s.id).toBe(s.nodeHeight)
        }
      })
    }

    expect(tracker.currentRole()).toBe('leader')
    expect(tracker.currentEpoch()).toBe(epoch)
    expect(await metric(tracker, 'ghostfleet_tracker_leadership_changes_total', elected)).toBe(1)
    expect(log.matching('another tracker leads')).toHaveLength(0)
    expect(log.matching('resigning')).toHaveLength(0)
    expect(await Promise.all(others.map((s) => storedGeneration(fleet, s.id)))).toEqual(generationsBefore)
    for (const s of sidecars) expect(s.lastDesired?.epoch).toBe(epoch)
    expect(await metric(tracker, 'ghostfleet_tracker_forged_desired_states_total')).toBe(1)
    expect(log.matching('no election handed out')).toHaveLength(1)
  })
})

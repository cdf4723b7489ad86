import { randomBytes } from 'node:crypto'
import {
  DesiredStateSignatureError,
  FleetKey,
  keysOf,
  LeaderElection,
  readLeaderEpoch,
  writeDesiredState,
} from '@ghostfleet/coordination'
import { WIRE_VERSION } from '@ghostfleet/core'
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

describe('desired states signed with the fleet key', () => {
  let fleet: TestFleet
  let tracker: Tracker
  const key = FleetKey.parse(randomBytes(32).toString('hex'))
  const otherKey = FleetKey.parse(randomBytes(32).toString('hex'))

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 4, currentKey: '1000', paused: true }])
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('signs every state it writes, and never re-issues a forged one it finds in Redis', async () => {
    // Before any tracker runs, someone with Redis access but without the key plants a prune for "signed-b" under
    // an earlier epoch (as if a previous leader had written it).
    const election = new LeaderElection({ redis: fleet.probe, candidateId: 'forger', leaseMs: 1000 })
    election.start()
    await eventually(() => expect(election.isLeader()).toBe(true))
    const forgedEpoch = await readLeaderEpoch(fleet.probe)
    await election.stop()
    const forged = await writeDesiredState(fleet.probe, {
      v: WIRE_VERSION,
      sidecarId: 'signed-b',
      mode: 'ghost',
      pruneToHeight: 999,
      basedOnPoolHeight: 1000,
      poolFetchedAt: Date.now(),
      epoch: forgedEpoch,
      generation: 5,
      issuedAt: Date.now(),
      reason: 'forged',
    })
    expect(forged.status).toBe('written')

    tracker = await startTestTracker(trackerConfig(fleet), { fleetKey: key })
    // Both pruned to 100 a moment ago, so no prune is due (24 h interval): a prune height in a rewritten state
    // could only come from adopting the forged one (999 is above the base, so it would look unfinished).
    const sidecars = ['signed-a', 'signed-b'].map((id) => {
      const sidecar = new SimSidecar(fleet.sidecarRedis, {
        id,
        poolId: 4,
        mode: 'ghost',
        nodeHeight: 1200,
        nodeBase: 100,
        fleetKey: key,
      })
      sidecar.lastPrune = { height: 100, at: Date.now() }
      return sidecar
    })
    await tickAll(sidecars)
    const epoch = await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sidecars)
      for (const s of sidecars) expect(s.lastDesired?.epoch, `${s.id}: ${String(s.lastError)}`).toBe(epoch)
    })
    // Verified with the key (readDesiredState throws otherwise), continuing above the forged generation, and the
    // forged prune was not adopted: the new leader's state for signed-b carries no prune height.
    const b = await sidecars[1]!.readDesired()
    expect(b?.signature).toMatch(/^[0-9a-f]{64}$/)
    expect(b?.generation).toBeGreaterThan(5)
    expect(b?.pruneToHeight).toBeNull()
    expect(sidecars[1]!.prunes).toEqual([])

    // Another key does not verify them.
    await expect(
      new SimSidecar(fleet.sidecarRedis, {
        id: 'signed-a',
        poolId: 4,
        nodeHeight: 1,
        fleetKey: otherKey,
      }).readDesired(),
    ).rejects.toBeInstanceOf(DesiredStateSignatureError)
    // And the stored hash really holds the signature the sidecar checked.
    expect(await fleet.probe.hget(keysOf(fleet.probe).desired('signed-a'), 'signature')).toMatch(
      /^"[0-9a-f]{64}"$/,
    )
  })
})

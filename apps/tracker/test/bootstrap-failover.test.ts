/**
 * Bootstrap requests across two trackers and with prunes: a standby takes requests (checked against Redis,
 * stored for the leader) and answers status from Redis; a tracker taking over follows the requests the previous
 * leader stored; a donor whose prune is due takes the checkpoint in the prune's stop (one desired state with
 * both, one budget slot).
 */

import { BOOTSTRAP_API_PATH } from '@ghostfleet/core'
import { createPeerClient } from '@ghostfleet/peer'
import { eventually } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import { bootstrapStatus, call, key, POOL, requestBootstrap, sidecar } from './helpers/bootstrap.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { tickAll } from './helpers/sim-sidecar.js'

const PEER = { listen: '127.0.0.1:0', ratePerSecond: 1000, burst: 1000 }

describe('bootstrap requests across a failover', () => {
  let fleet: TestFleet
  let first: Tracker
  let second: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: POOL, currentKey: '1000', paused: true }])
  })
  afterAll(async () => {
    await second?.stop()
    await first?.stop()
    await fleet?.stop()
  })

  it('a standby stores requests for the leader, and the next leader follows the stored ones', async () => {
    const config = trackerConfig(fleet, { peer: PEER })
    first = await startTestTracker(config, { id: 'tracker-1', fleetKey: key })
    const donor = sidecar(fleet, 'donor-a', 100, 'http://127.0.0.1:9/a')
    const other = sidecar(fleet, 'other-b', 100)
    const sims = [donor, other]
    await tickAll(sims)
    await waitUntilLeading(first)
    second = await startTestTracker(config, { id: 'tracker-2', fleetKey: key })
    await eventually(async () => {
      await tickAll(sims)
      expect((await first.fleet()).pools[0]?.poolHeight).toBe(1000)
    })
    const client = createPeerClient({ key, sender: 'new-host' })
    const standbyUrl = second.peerUrl ?? ''
    // The standby checks the request against Redis: refused with why when no sibling could donate…
    expect(
      await call(client, standbyUrl, 'POST', BOOTSTRAP_API_PATH, {
        chainId: 'kyve-1',
        poolId: 99,
        requestedBy: 'new-host',
      }),
    ).toEqual({ status: 503, body: { error: 'no donor now: no sidecar of pool 99 on kyve-1 reports' } })
    // …and stored for the leader otherwise, which grants a donor.
    const accepted = await requestBootstrap(client, standbyUrl)
    expect(accepted.status).toBe(202)
    const id = (accepted.body as { bootstrapId: string }).bootstrapId
    await eventually(async () => {
      await tickAll(sims)
      expect(donor.lastDesired?.donate?.bootstrapId).toBe(id)
    })
    expect(await bootstrapStatus(client, first.peerUrl ?? '', id)).toMatchObject({
      state: 'pending',
      donor: 'donor-a',
    })
    // The standby lists it on its read-only fleet API, from Redis.
    await eventually(async () => {
      const listed = (await (await fetch(`${second.url}/v1/bootstraps`)).json()) as { bootstraps: unknown[] }
      expect(listed.bootstraps).toEqual([expect.objectContaining({ bootstrapId: id, donor: 'donor-a' })])
    })
    donor.activity = 'restarting'
    donor.donations = [{ bootstrapId: id, state: 'taking', at: Date.now() }]
    await eventually(async () => {
      await tickAll(sims)
      // The standby reads the stored record.
      expect(await bootstrapStatus(client, standbyUrl, id)).toMatchObject({
        state: 'taking',
        donor: 'donor-a',
      })
    })

    await first.stop()
    const epoch = await waitUntilLeading(second)
    await eventually(async () => {
      await tickAll(sims)
      // The new leader's desired state for the donor still carries the request, under its epoch.
      expect(donor.lastDesired?.epoch).toBe(epoch)
      expect(donor.lastDesired?.donate?.bootstrapId).toBe(id)
    })
    donor.activity = 'serving'
    donor.donations = [
      { bootstrapId: id, state: 'ready', checkpointId: '1300-20261207T064512123Z', at: Date.now() },
    ]
    await eventually(async () => {
      await tickAll(sims)
      expect(await bootstrapStatus(client, standbyUrl, id)).toMatchObject({
        state: 'ready',
        checkpointId: '1300-20261207T064512123Z',
      })
      expect(donor.lastDesired?.donate).toBeUndefined()
    })
  })
})

describe('a donor whose prune is due', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: POOL, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(trackerConfig(fleet, { peer: PEER }), { fleetKey: key })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('takes the checkpoint in the prune’s stop: one desired state carries both', async () => {
    const pruner = sidecar(fleet, 'pruner', 100, 'http://127.0.0.1:9/p')
    pruner.lastPrune = null // never pruned: a prune is due
    pruner.holdPrunes = true
    const fresh = sidecar(fleet, 'fresh', 100, 'http://127.0.0.1:9/f')
    // Holds the budget (1) while the request comes in, so the prune waits too.
    fresh.activity = 'restarting'
    const sims = [pruner, fresh]
    await tickAll(sims)
    await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sims)
      const pool = (await tracker.fleet()).pools[0]
      expect(pool?.poolHeight).toBe(1000)
    })
    const client = createPeerClient({ key, sender: 'new-host' })
    const url = tracker.peerUrl ?? ''
    const accepted = await requestBootstrap(client, url)
    expect(accepted.status).toBe(202)
    const id = (accepted.body as { bootstrapId: string }).bootstrapId
    expect(pruner.lastDesired?.pruneToHeight ?? null).toBeNull()

    fresh.activity = 'serving'
    await eventually(async () => {
      await tickAll(sims)
      expect(pruner.lastDesired?.pruneToHeight).toEqual(expect.any(Number))
      expect(pruner.lastDesired?.donate?.bootstrapId).toBe(id)
    })
    expect(await bootstrapStatus(client, url, id)).toMatchObject({
      state: 'pending',
      donor: 'pruner',
      detail: expect.stringMatching(/donor pruner takes the checkpoint with its prune to \d+/),
    })
    const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'pruner')
    expect(view?.command).toMatchObject({ kind: 'prune' })
    expect(fresh.lastDesired?.donate).toBeUndefined()
  })
})

describe('a donor whose prune comes due soon', () => {
  const PRUNE_INTERVAL_MS = 20_000
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: POOL, currentKey: '1000', paused: true }])
    // Prunes every 20 s, so "due soon" is seconds away.
    const config = trackerConfig(fleet, {
      peer: PEER,
      defaults: { pruningIntervalHours: PRUNE_INTERVAL_MS / 3_600_000 },
    })
    tracker = await startTestTracker(config, { fleetKey: key })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('waits for that prune rather than stop a node for the checkpoint alone', async () => {
    const soon = sidecar(fleet, 'soon', 100, 'http://127.0.0.1:9/s')
    const later = sidecar(fleet, 'later', 100, 'http://127.0.0.1:9/l')
    // Last prunes stamped an hour ahead: no prune comes due while the fleet starts (later's never does).
    later.lastPrune = { height: 100, at: Date.now() + 3_600_000 }
    soon.lastPrune = { height: 100, at: Date.now() + 3_600_000 }
    const sims = [soon, later]
    await tickAll(sims)
    await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sims)
      expect((await tracker.fleet()).pools[0]?.poolHeight).toBe(1000)
    })
    // soon's next prune: due in 12 s, time for the request to be made first even on a loaded machine (with 4 s, a
    // CI run pruned soon before the request came, and its next prune had nothing left to delete).
    soon.lastPrune = { height: 100, at: Date.now() - (PRUNE_INTERVAL_MS - 12_000) }
    const dueAt = new Date(soon.lastPrune.at + PRUNE_INTERVAL_MS).toISOString()
    await eventually(async () => {
      await tickAll(sims)
      const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'soon')
      expect(view?.lastPrune?.at).toBe(soon.lastPrune?.at)
    })
    const client = createPeerClient({ key, sender: 'new-host' })
    const url = tracker.peerUrl ?? ''
    const accepted = await requestBootstrap(client, url)
    expect(accepted.status).toBe(202)
    const id = (accepted.body as { bootstrapId: string }).bootstrapId
    await eventually(async () => {
      await tickAll(sims)
      // The prune set up above, not a later one.
      expect((await bootstrapStatus(client, url, id)).detail).toBe(
        `waiting for donor soon: its prune is due at ${dueAt} (one stop for both)`,
      )
    })
    expect(later.lastDesired?.donate).toBeUndefined()
    await eventually(
      async () => {
        await tickAll(sims)
        // What the tracker thought, for a failure seen only in a CI log.
        const fleetView = await tracker.fleet()
        const why = JSON.stringify({
          request: await bootstrapStatus(client, url, id),
          soon: fleetView.sidecars.find((s) => s.sidecarId === 'soon'),
          pool: fleetView.pools[0],
          desired: { soon: soon.lastDesired, later: later.lastDesired },
          now: Date.now(),
        })
        expect(soon.lastDesired?.donate?.bootstrapId, why).toBe(id)
        expect(soon.lastDesired?.pruneToHeight, why).toEqual(expect.any(Number))
      },
      { timeoutMs: 30_000 },
    )
    expect(await bootstrapStatus(client, url, id)).toMatchObject({
      donor: 'soon',
      detail: expect.stringMatching(/donor soon takes the checkpoint with its prune/),
    })
    expect(later.lastDesired?.donate).toBeUndefined()
  })
})

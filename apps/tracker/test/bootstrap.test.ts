/**
 * The bootstrap API on the tracker's peer listener, end to end against a real Redis, the KYVE simulator and
 * simulated sidecars: requests signed with the fleet key through @ghostfleet/peer's client, donors chosen only
 * when they hold the window and the budget and holder coverage allow, `donate` in the donor's signed desired
 * state, the status following the donor's reports, expiry, and refusals that change nothing.
 */
import { randomBytes } from 'node:crypto'
import { FleetKey, readBootstrapRecord } from '@ghostfleet/coordination'
import { BOOTSTRAP_API_PATH, type BootstrapStatus, bootstrapStatusSchema } from '@ghostfleet/core'
import { createPeerClient, type PeerClient } from '@ghostfleet/peer'
import { eventually } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import { bootstrapKeys, call, key, POOL, sidecar } from './helpers/bootstrap.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { type SimSidecar, tickAll } from './helpers/sim-sidecar.js'

describe('the bootstrap API', () => {
  let fleet: TestFleet
  let tracker: Tracker
  let peerUrl: string
  let client: PeerClient
  let sims: SimSidecar[]
  let donor: SimSidecar
  let nopeer: SimSidecar
  let shortB: SimSidecar
  let shortD: SimSidecar

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: POOL, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(
      trackerConfig(fleet, {
        defaults: { maxUnavailable: 2 },
        peer: { listen: '127.0.0.1:0', ratePerSecond: 1000, burst: 1000 },
      }),
      { fleetKey: key },
    )
    peerUrl = tracker.peerUrl ?? ''
    client = createPeerClient({ key, sender: 'new-host' })
    // Holds the window but serves no siblings; two that hold only 1100–1300 (not the window's start).
    nopeer = sidecar(fleet, 'nopeer-c', 100)
    shortB = sidecar(fleet, 'short-b', 1100, 'http://127.0.0.1:9/b')
    shortD = sidecar(fleet, 'short-d', 1100, 'http://127.0.0.1:9/d')
    sims = [nopeer, shortB, shortD]
    await tickAll(sims)
    await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sims)
      expect((await tracker.fleet()).pools[0]?.poolHeight).toBe(1000)
    })
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('refuses unsigned, forged and malformed requests with a clear 4xx, and changes nothing', async () => {
    expect(peerUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const unsigned = await fetch(`${peerUrl}${BOOTSTRAP_API_PATH}`, {
      method: 'POST',
      body: JSON.stringify({ chainId: 'kyve-1', poolId: POOL, requestedBy: 'new-host' }),
    })
    expect(unsigned.status).toBe(401)
    expect(await unsigned.text()).toMatch(/unauthorized/)
    const forger = createPeerClient({
      key: FleetKey.parse(randomBytes(32).toString('hex')),
      sender: 'new-host',
    })
    await expect(
      forger.request(peerUrl, { method: 'POST', path: BOOTSTRAP_API_PATH, body: '{}' }),
    ).rejects.toThrow(/401|unauthorized/)

    expect(await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, 'not json')).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/not JSON/) },
    })
    const bad = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, { chainId: 'kyve 1', poolId: -1 })
    expect(bad.status).toBe(400)
    expect((bad.body as { error: string }).error).toMatch(
      /chainId: expected a chain id[\s\S]*poolId: expected an integer ≥ 0[\s\S]*requestedBy: expected a sidecar id/,
    )
    const someoneElse = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'short-b',
    })
    expect(someoneElse).toEqual({
      status: 403,
      body: { error: expect.stringMatching(/requestedBy "short-b" is not the signer "new-host"/) },
    })
    expect((await call(client, peerUrl, 'GET', `${BOOTSTRAP_API_PATH}/no!such`)).status).toBe(400)
    expect(await call(client, peerUrl, 'GET', `${BOOTSTRAP_API_PATH}/abcdefgh-0000`)).toEqual({
      status: 404,
      body: { error: expect.stringMatching(/no bootstrap request abcdefgh-0000/) },
    })
    expect((await call(client, peerUrl, 'DELETE', BOOTSTRAP_API_PATH)).status).toBe(405)
    expect(await bootstrapKeys(fleet)).toBe(0)
    await tickAll(sims)
    for (const sim of sims) expect(sim.lastDesired?.donate).toBeUndefined()
  })

  it('answers 503 saying why when no sibling can donate, and records nothing', async () => {
    const none = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'new-host',
    })
    expect(none.status).toBe(503)
    const error = (none.body as { error: string }).error
    expect(error).toMatch(/no sibling can donate the window 999–1200/)
    expect(error).toMatch(/nopeer-c has no peer listener/)
    expect(error).toMatch(/short-b holds 1100–1300/)
    const unknownPool = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: 99,
      requestedBy: 'new-host',
    })
    expect(unknownPool).toEqual({
      status: 503,
      body: { error: 'no donor now: no sidecar of pool 99 on kyve-1 reports to this tracker' },
    })
    expect(await bootstrapKeys(fleet)).toBe(0)
  })

  it('grants a donor only when holder coverage and the budget allow, signs donate, and follows its reports', async () => {
    donor = sidecar(fleet, 'donor-a', 100, 'http://127.0.0.1:9/a')
    sims.push(donor)
    // The only other holder of 999–1099 is restarting: donor-a going down would leave those heights unheld.
    nopeer.activity = 'restarting'
    await eventually(async () => {
      await tickAll(sims)
      const fleetView = await tracker.fleet()
      expect(fleetView.sidecars.find((s) => s.sidecarId === 'donor-a')).toBeDefined()
      expect(fleetView.sidecars.find((s) => s.sidecarId === 'nopeer-c')?.activity).toBe('restarting')
    })
    const accepted = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'new-host',
    })
    expect(accepted.status).toBe(202)
    const status = bootstrapStatusSchema.parse(accepted.body)
    expect(status).toMatchObject({
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'new-host',
      state: 'pending',
    })
    expect(status.donor).toBeNull()
    const id = status.bootstrapId
    const get = async (): Promise<BootstrapStatus> => {
      const reply = await call(client, peerUrl, 'GET', `${BOOTSTRAP_API_PATH}/${id}`)
      expect(reply.status).toBe(200)
      return bootstrapStatusSchema.parse(reply.body)
    }
    await eventually(async () => {
      await tickAll(sims)
      expect((await get()).detail).toMatch(
        /waiting for donor donor-a: it is the only available holder of heights 1000–1099/,
      )
    })
    // A repeated request of the same host gets the same one back.
    const again = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'new-host',
    })
    expect(again).toMatchObject({ status: 202, body: { bootstrapId: id } })

    // A second member down: the budget (2) is in use as well.
    shortB.activity = 'pruning'
    await eventually(async () => {
      await tickAll(sims)
      expect((await get()).detail).toMatch(/availability budget in use/)
    })
    expect(donor.lastDesired?.donate).toBeUndefined()

    nopeer.activity = 'serving'
    shortB.activity = 'serving'
    await eventually(async () => {
      await tickAll(sims)
      expect(await get()).toMatchObject({
        state: 'pending',
        donor: 'donor-a',
        donorPeerUrl: 'http://127.0.0.1:9/a',
      })
      // Read through readDesiredState with the fleet key: a state whose signature did not cover it is refused.
      expect(donor.lastError).toBeNull()
      expect(donor.lastDesired?.donate).toEqual({
        bootstrapId: id,
        requestedBy: 'new-host',
        expiresAt: status.expiresAt,
      })
      expect(donor.lastDesired?.signature).toMatch(/^[0-9a-f]{64}$/)
    })
    const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === 'donor-a')
    expect(view?.command).toMatchObject({ kind: 'checkpoint' })
    for (const other of [nopeer, shortB, shortD]) expect(other.lastDesired?.donate).toBeUndefined()

    // The donor plays its part: taking (node stopped), sealing (serving again), ready.
    donor.activity = 'restarting'
    donor.donations = [{ bootstrapId: id, state: 'taking', at: Date.now() }]
    await eventually(async () => {
      await tickAll(sims)
      expect((await get()).state).toBe('taking')
    })
    donor.activity = 'serving'
    donor.donations = [{ bootstrapId: id, state: 'sealing', at: Date.now() }]
    await eventually(async () => {
      await tickAll(sims)
      expect((await get()).state).toBe('sealing')
      // Past taking the node serves again: the checkpoint's budget slot is free.
      const fleetView = await tracker.fleet()
      expect(fleetView.sidecars.find((s) => s.sidecarId === 'donor-a')?.command).toBeNull()
    })
    expect(donor.lastDesired?.donate?.bootstrapId).toBe(id)
    donor.donations = [
      { bootstrapId: id, state: 'ready', checkpointId: '1300-20261207T064512123Z', at: Date.now() },
    ]
    await eventually(async () => {
      await tickAll(sims)
      expect(await get()).toMatchObject({ state: 'ready', checkpointId: '1300-20261207T064512123Z' })
      // Ready: the tracker clears donate.
      expect(donor.lastDesired?.donate).toBeUndefined()
    })
    expect(await readBootstrapRecord(fleet.probe, id)).toMatchObject({
      state: 'ready',
      donor: 'donor-a',
      checkpointId: '1300-20261207T064512123Z',
    })
    // Operators see it on the read-only fleet API.
    const listed = (await (await fetch(`${tracker.url}/v1/bootstraps`)).json()) as { bootstraps: unknown[] }
    expect(listed.bootstraps).toEqual([
      expect.objectContaining({
        bootstrapId: id,
        state: 'ready',
        requestedBy: 'new-host',
        createdAt: expect.any(Number),
      }),
    ])
  })
})

describe('bootstrap request expiry', () => {
  let fleet: TestFleet
  let tracker: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: POOL, currentKey: '1000', paused: true }])
    tracker = await startTestTracker(
      trackerConfig(fleet, {
        peer: { listen: '127.0.0.1:0', ratePerSecond: 1000, burst: 1000 },
        bootstrap: { requestTtlSeconds: 2 },
      }),
      { fleetKey: key },
    )
  })
  afterAll(async () => {
    await tracker?.stop()
    await fleet?.stop()
  })

  it('expires a request not ready in time, drops the donor checkpoint and clears donate', async () => {
    const donor = sidecar(fleet, 'donor-a', 100, 'http://127.0.0.1:9/a')
    const other = sidecar(fleet, 'other-b', 100, 'http://127.0.0.1:9/b')
    const sims = [donor, other]
    await tickAll(sims)
    await waitUntilLeading(tracker)
    await eventually(async () => {
      await tickAll(sims)
      expect((await tracker.fleet()).pools[0]?.poolHeight).toBe(1000)
    })
    const client = createPeerClient({ key, sender: 'new-host' })
    const peerUrl = tracker.peerUrl ?? ''
    const accepted = await call(client, peerUrl, 'POST', BOOTSTRAP_API_PATH, {
      chainId: 'kyve-1',
      poolId: POOL,
      requestedBy: 'new-host',
    })
    expect(accepted.status).toBe(202)
    const { bootstrapId: id, expiresAt } = bootstrapStatusSchema.parse(accepted.body)
    // Both hold the window; the same height, so the id decides: donor-a.
    let donorOf: SimSidecar | undefined
    await eventually(async () => {
      await tickAll(sims)
      donorOf = sims.find((s) => s.lastDesired?.donate?.bootstrapId === id)
      expect(donorOf).toBeDefined()
    })
    // The donor starts but never gets past taking.
    if (donorOf === undefined) throw new Error('no donor')
    donorOf.donations = [{ bootstrapId: id, state: 'taking', at: Date.now() }]
    await eventually(
      async () => {
        await tickAll(sims)
        const reply = await call(client, peerUrl, 'GET', `${BOOTSTRAP_API_PATH}/${id}`)
        expect(reply).toMatchObject({
          status: 200,
          body: { state: 'expired', detail: 'expired while taking' },
        })
        expect(donorOf?.lastDesired?.donate).toBeUndefined()
        const view = (await tracker.fleet()).sidecars.find((s) => s.sidecarId === donorOf?.id)
        expect(view?.command).toBeNull()
      },
      { timeoutMs: 15_000 },
    )
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt)
    expect(await readBootstrapRecord(fleet.probe, id)).toMatchObject({ state: 'expired' })
  })
})

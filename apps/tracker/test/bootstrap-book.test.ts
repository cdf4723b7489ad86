import type { BootstrapRecord } from '@ghostfleet/coordination'
import type { DonationReport, SidecarReport } from '@ghostfleet/core'
import { describe, expect, it } from 'vitest'
import { BootstrapBook, statusOf } from '../src/bootstrap-book.js'

const NOW = 1_700_000_000_000
const request = { chainId: 'kyve-1', poolId: 1, requestedBy: 'new-host' }

function book() {
  const persisted: BootstrapRecord[] = []
  const ended: BootstrapRecord[] = []
  const b = new BootstrapBook({
    ttlMs: 60_000,
    persist: (r) => persisted.push(r),
    onEnd: (r) => ended.push(r),
  })
  return { b, persisted, ended }
}

function report(sidecarId: string, donations: DonationReport[]): SidecarReport {
  return {
    v: 1,
    sidecarId,
    chainId: 'kyve-1',
    poolId: 1,
    mode: 'ghost',
    nodeHeight: 1300,
    nodeBase: 100,
    nodeReachable: true,
    catchingUp: false,
    activity: 'serving',
    dataBytes: 1,
    appliedEpoch: 1,
    appliedGeneration: 1,
    lastPrune: null,
    decidedBy: 'tracker',
    version: 'test',
    reportedAt: NOW,
    donations,
  }
}

describe('BootstrapBook', () => {
  it('creates a pending request that waits for a donor, persisted, then carries donate only for its donor', () => {
    const { b, persisted } = book()
    const created = b.create(request, NOW)
    expect(statusOf(created)).toEqual({
      bootstrapId: created.bootstrapId,
      ...request,
      state: 'pending',
      donor: null,
      donorPeerUrl: null,
      checkpointId: null,
      detail: 'waiting for a donor within the pool’s availability budget',
      expiresAt: NOW + 60_000,
    })
    expect(persisted).toHaveLength(1)
    expect(b.waiting({ chainId: 'kyve-1', poolId: 1 }, NOW)).toHaveLength(1)
    expect(b.liveRequestOf(request)?.bootstrapId).toBe(created.bootstrapId)
    b.grant(
      created.bootstrapId,
      'donor-a',
      'http://10.0.0.1:26671',
      'donor donor-a stops for the checkpoint',
      NOW,
    )
    expect(b.waiting({ chainId: 'kyve-1', poolId: 1 }, NOW)).toEqual([])
    expect(b.donationFor('donor-a', NOW)).toEqual({
      bootstrapId: created.bootstrapId,
      requestedBy: 'new-host',
      expiresAt: NOW + 60_000,
    })
    expect(b.donationFor('donor-b', NOW)).toBeNull()
    expect(b.donationFor('donor-a', NOW + 60_000)).toBeNull()
  })

  it('follows the donor forward only, wants a checkpoint id for ready, and ends once', () => {
    const { b, ended } = book()
    const { bootstrapId: id } = b.create(request, NOW)
    b.grant(id, 'donor-a', 'http://10.0.0.1:26671', 'granted', NOW)
    // Another sidecar's report of the same id is not the donor's.
    expect(b.follow(report('donor-b', [{ bootstrapId: id, state: 'ready', at: NOW }]), NOW)).toBe(false)
    expect(b.follow(report('donor-a', [{ bootstrapId: id, state: 'sealing', at: NOW }]), NOW)).toBe(true)
    expect(b.follow(report('donor-a', [{ bootstrapId: id, state: 'taking', at: NOW }]), NOW)).toBe(false)
    expect(b.follow(report('donor-a', [{ bootstrapId: id, state: 'ready', at: NOW }]), NOW)).toBe(false)
    expect(b.get(id)?.state).toBe('sealing')
    const ready = {
      bootstrapId: id,
      state: 'ready' as const,
      checkpointId: '1300-20261207T064512123Z',
      at: NOW,
    }
    expect(b.follow(report('donor-a', [ready]), NOW + 5)).toBe(true)
    expect(b.get(id)).toMatchObject({ state: 'ready', checkpointId: ready.checkpointId, updatedAt: NOW + 5 })
    expect(b.donationFor('donor-a', NOW)).toBeNull()
    expect(b.follow(report('donor-a', [{ bootstrapId: id, state: 'failed', at: NOW }]), NOW)).toBe(false)
    expect(b.expire(NOW + 120_000)).toEqual([])
    expect(ended.map((r) => r.state)).toEqual(['ready'])
  })

  it('takes in only stored requests it does not hold that still wait for a donor', () => {
    const { b, persisted } = book()
    const mine = b.create(request, NOW)
    const stored = (over: Partial<BootstrapRecord>): BootstrapRecord => ({
      ...mine,
      bootstrapId: `other-${Object.keys(over).join('-') || 'plain'}`,
      requestedBy: 'other-host',
      ...over,
    })
    const records = [
      { ...mine, state: 'expired' as const },
      stored({}),
      stored({ donor: 'donor-a' }),
      stored({ state: 'ready' }),
      stored({ expiresAt: NOW }),
    ]
    expect(b.merge(records, NOW)).toBe(1)
    expect(b.get(mine.bootstrapId)?.state).toBe('pending')
    expect(b.waiting({ chainId: 'kyve-1', poolId: 1 }, NOW).map((r) => r.bootstrapId)).toEqual([
      mine.bootstrapId,
      'other-plain',
    ])
    expect(persisted).toHaveLength(1)
  })

  it('expires what is not final by its expiry, saying where it was, and fails a donor that left', () => {
    const { b, ended } = book()
    const waiting = b.create(request, NOW)
    const taken = b.create({ ...request, requestedBy: 'other-host' }, NOW + 10)
    b.grant(taken.bootstrapId, 'donor-a', 'http://10.0.0.1:26671', 'granted', NOW)
    b.follow(report('donor-a', [{ bootstrapId: taken.bootstrapId, state: 'taking', at: NOW }]), NOW)
    expect(b.expire(NOW + 59_999)).toEqual([])
    const expired = b.expire(NOW + 60_005)
    expect(expired.map((r) => [r.bootstrapId, r.detail])).toEqual([
      [waiting.bootstrapId, 'expired while waiting for a donor'],
    ])
    expect(b.expire(NOW + 60_010).map((r) => r.detail)).toEqual(['expired while taking'])
    const third = b.create({ ...request, requestedBy: 'third-host' }, NOW)
    b.grant(third.bootstrapId, 'donor-c', 'http://10.0.0.3:26671', 'granted', NOW)
    b.failDonor('donor-c', `the donor donor-c was forgotten ${'after a long silence '.repeat(20)}`, NOW)
    expect(b.get(third.bootstrapId)?.state).toBe('failed')
    expect(b.get(third.bootstrapId)?.detail).toHaveLength(300)
    expect(ended.map((r) => r.state)).toEqual(['expired', 'expired', 'failed'])
    expect(b.failedFor('donor-c', 'third-host')).toBe(true)
    expect(b.failedFor('donor-c', 'new-host')).toBe(false)
    expect(b.failedFor('donor-a', 'other-host')).toBe(false)
    expect(b.counts()).toEqual({ pending: 0, taking: 0, sealing: 0, ready: 0, failed: 1, expired: 2 })
  })
})

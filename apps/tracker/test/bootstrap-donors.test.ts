import type { SidecarReport } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import { describe, expect, it } from 'vitest'
import {
  chooseDonors,
  type DonorMember,
  type DonorQuery,
  PRUNE_WAIT_MS,
  pruneWaitLimit,
} from '../src/bootstrap-donors.js'

const NOW = 1_700_000_000_000

const progress: PoolFacts = {
  poolId: 1,
  poolHeightKey: '1000',
  poolHeight: 1000,
  maxBundleSize: 100,
  uploadInterval: 60,
  status: 'POOL_STATUS_ACTIVE',
  disabled: false,
  endpoint: 'http://kyve.test',
  fetchedAt: NOW - 1_000,
}

function member(id: string, base: number, height: number, extra: Partial<DonorMember> = {}): DonorMember {
  const report: SidecarReport = {
    v: 1,
    sidecarId: id,
    chainId: 'kyve-1',
    poolId: 1,
    mode: 'ghost',
    nodeHeight: height,
    nodeBase: base,
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
    peerUrl: `http://10.0.0.1:26671/${id}`,
  }
  return { report, silent: false, busy: false, pruneWanted: false, ...extra }
}

const query = (members: DonorMember[], extra: Partial<DonorQuery> = {}): DonorQuery => ({
  members,
  progress,
  now: NOW,
  maxPoolAgeMs: 60_000,
  margin: 10,
  requestedBy: 'new',
  includeBusy: false,
  ...extra,
})

describe('chooseDonors', () => {
  it('needs [pool height − margin, pool height + 2 × max bundle size] held, cut at the fleet tip', () => {
    const choice = chooseDonors(
      query([member('a', 990, 1300), member('b', 991, 1300), member('c', 500, 1199)]),
    )
    expect(choice).toEqual({ ok: true, donors: ['a'], window: { from: 990, to: 1200 } })
    // The fleet's highest node is at 1150: the window stops there.
    expect(chooseDonors(query([member('a', 990, 1150), member('b', 900, 1100)]))).toEqual({
      ok: true,
      donors: ['a'],
      window: { from: 990, to: 1150 },
    })
  })

  it('asks no height nobody holds: a fleet a little behind the pool donates up to its highest node', () => {
    const behind = { ...progress, poolHeightKey: '49', poolHeight: 49 }
    expect(
      chooseDonors(query([member('a', 1, 47), member('b', 1, 46)], { progress: behind, margin: 1 })),
    ).toEqual({
      ok: true,
      donors: ['a'],
      window: { from: 47, to: 47 },
    })
  })

  it('prefers a donor that wants a prune, then the highest node, then the id', () => {
    const members = [
      member('c', 1, 1400),
      member('b', 1, 1300),
      member('a', 1, 1300),
      member('p', 1, 1250, { pruneWanted: true }),
    ]
    expect(chooseDonors(query(members))).toMatchObject({ ok: true, donors: ['p', 'c', 'a', 'b'] })
  })

  it('asks a donor that failed this host before only when no other can donate', () => {
    const members = [member('a', 1, 1400, { failedBefore: true, pruneWanted: true }), member('b', 1, 1300)]
    expect(chooseDonors(query(members))).toMatchObject({ ok: true, donors: ['b', 'a'] })
    expect(chooseDonors(query([members[0] as DonorMember]))).toMatchObject({ ok: true, donors: ['a'] })
  })

  it('waits for a prune coming due soon rather than stop a donor for the checkpoint alone', () => {
    const members = [
      member('a', 1, 1300, { pruneDueAt: NOW + 60_000 }),
      member('b', 1, 1250, { pruneDueAt: NOW + 30_000 }),
    ]
    expect(chooseDonors(query(members, { waitForPruneUntil: NOW + 120_000 }))).toMatchObject({
      ok: true,
      donors: ['a', 'b'],
      waitFor: { donor: 'b', dueAt: NOW + 30_000 },
    })
    // Not when a prune is wanted now, nor beyond the limit, nor when not asked to wait.
    const wanted = [...members, member('p', 1, 1200, { pruneWanted: true })]
    expect(chooseDonors(query(wanted, { waitForPruneUntil: NOW + 120_000 }))).not.toHaveProperty('waitFor')
    expect(chooseDonors(query(members, { waitForPruneUntil: NOW + 10_000 }))).not.toHaveProperty('waitFor')
    expect(chooseDonors(query(members))).not.toHaveProperty('waitFor')
    expect(pruneWaitLimit({ createdAt: NOW, expiresAt: NOW + 1_800_000 }, NOW)).toBe(NOW + PRUNE_WAIT_MS)
    expect(pruneWaitLimit({ createdAt: NOW, expiresAt: NOW + 60_000 }, NOW)).toBe(NOW + 30_000)
  })

  it('says why each sibling cannot donate, never offering the new host itself', () => {
    const reachable = member('unreachable', 1, 1300)
    reachable.report = { ...reachable.report, nodeReachable: false }
    const catching = member('catching', 1, 1300)
    catching.report = { ...catching.report, catchingUp: true }
    const pruning = member('pruning', 1, 1300)
    pruning.report = { ...pruning.report, activity: 'pruning' }
    const noPeer = member('no-peer', 1, 1300)
    const { peerUrl: _peerUrl, ...withoutPeer } = noPeer.report
    noPeer.report = withoutPeer
    const members = [
      member('new', 1, 1300),
      member('silent', 1, 1300, { silent: true }),
      reachable,
      catching,
      pruning,
      noPeer,
      member('short', 995, 1300),
      member('busy', 1, 1300, { busy: true }),
    ]
    const choice = chooseDonors(query(members))
    expect(choice).toEqual({
      ok: false,
      reason:
        'no sibling can donate the window 990–1200: silent is silent; unreachable has its node unreachable; ' +
        'catching is catching up; pruning is pruning; no-peer has no peer listener (no peerUrl in its reports); ' +
        '+2 more',
    })
    // A busy sibling will be free soon: a request is accepted on it, not granted to it.
    expect(chooseDonors(query(members, { includeBusy: true }))).toMatchObject({ ok: true, donors: ['busy'] })
  })

  it('refuses without a sibling or a fresh pool height', () => {
    expect(chooseDonors(query([member('new', 1, 1300)]))).toEqual({
      ok: false,
      reason: 'no sibling reports in this pool',
    })
    expect(chooseDonors(query([member('a', 1, 1300)], { progress: null }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/pool height is not known/),
    })
    expect(chooseDonors(query([member('a', 1, 1300)], { now: NOW + 120_000 }))).toEqual({
      ok: false,
      reason: 'the pool height is stale (fetched 121 s ago)',
    })
  })
})

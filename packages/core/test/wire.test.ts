import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  canonicalDesiredStatePayload,
  type DesiredState,
  desiredStateSchema,
  parseWith,
  type SidecarReport,
  sidecarReportSchema,
  WIRE_VERSION,
} from '../src/index.js'
import { rejectLines } from './helpers.js'

const report: SidecarReport = {
  v: 1,
  sidecarId: 'osmo-eu-1',
  chainId: 'kyve-1',
  poolId: 1,
  mode: 'ghost',
  nodeHeight: 22_183_520,
  nodeBase: 22_000_000,
  nodeReachable: true,
  catchingUp: false,
  activity: 'serving',
  dataBytes: 812_345_678_901,
  appliedEpoch: 3,
  appliedGeneration: 42,
  lastPrune: { height: 21_999_999, at: 1_750_000_000_000 },
  decidedBy: 'tracker',
  version: '0.1.0',
  reportedAt: 1_750_000_005_000,
  thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
}

const desired: DesiredState = {
  v: 1,
  sidecarId: 'osmo-eu-1',
  mode: 'ghost',
  pruneToHeight: 22_170_000,
  basedOnPoolHeight: 22_170_001,
  poolFetchedAt: 1_750_000_000_000,
  epoch: 3,
  generation: 43,
  issuedAt: 1_750_000_001_000,
  reason: 'node is 13519 blocks ahead of the pool (max 11520): ghost',
  signature: 'ab'.repeat(32),
}

describe('sidecarReportSchema', () => {
  it('accepts a realistic report, with or without optional parts', () => {
    expect(parseWith(sidecarReportSchema, report, 'report')).toEqual(report)
    const { thresholds: _t, ...bare } = report
    expect(
      parseWith(sidecarReportSchema, { ...bare, lastPrune: null, decidedBy: 'local' }, 'report'),
    ).toEqual({
      ...bare,
      lastPrune: null,
      decidedBy: 'local',
    })
  })

  it('carries the peer URL of a sidecar that serves siblings, and refuses one that is not http(s)', () => {
    const withPeer = { ...report, peerUrl: 'http://10.0.0.5:26672' }
    expect(parseWith(sidecarReportSchema, withPeer, 'report')).toEqual(withPeer)
    expect(() =>
      parseWith(sidecarReportSchema, { ...report, peerUrl: 'tcp://10.0.0.5:26672' }, 'report'),
    ).toThrow('peerUrl: expected an http:// or https:// URL')
  })

  it('drops keys it does not know (a newer peer within the same wire version)', () => {
    expect(parseWith(sidecarReportSchema, { ...report, diskFreeBytes: 5 }, 'report')).toEqual(report)
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'another wire version',
      { v: 2 },
      'v: expected wire version 1 (is the peer a different release?), got 2',
    ],
    ['negative height', { nodeHeight: -1 }, 'nodeHeight: expected an integer ≥ 0, got -1'],
    ['height as string', { nodeHeight: '22183520' }, 'nodeHeight: expected an integer ≥ 0, got "22183520"'],
    ['bad mode', { mode: 'Ghost' }, 'mode: expected one of "normal", "ghost", got "Ghost"'],
    [
      'bad activity',
      { activity: 'down' },
      'activity: expected one of "serving", "restarting", "pruning", "unknown", got "down"',
    ],
    [
      'bad decidedBy',
      { decidedBy: 'operator' },
      'decidedBy: expected one of "tracker", "local", got "operator"',
    ],
    ['reachable as text', { nodeReachable: 'true' }, 'nodeReachable: expected true or false, got "true"'],
    ['bad sidecar id', { sidecarId: 'a/b' }, 'sidecarId: expected a sidecar id'],
    [
      'prune height 0',
      { lastPrune: { height: 0, at: 1 } },
      'lastPrune.height: expected an integer ≥ 1, got 0',
    ],
    [
      'reportedAt fraction',
      { reportedAt: 1.5 },
      'reportedAt: expected a time in epoch milliseconds (an integer ≥ 0), got 1.5',
    ],
    [
      'thresholds inconsistent',
      { thresholds: { heightDifferenceMax: 10, heightDifferenceMin: 20, keepRecent: 30 } },
      'thresholds.heightDifferenceMin: heightDifferenceMin (20) must be less than',
    ],
    ['empty version', { version: '' }, 'version: expected a non-empty string, got ""'],
    ['a boot id with a brace', { bootId: '{boot-1234}', seq: 1 }, 'bootId: expected a boot id'],
    ['seq 0', { bootId: 'b7f3c2a0-1111', seq: 0 }, 'seq: expected an integer ≥ 1'],
    ['a boot id without seq', { bootId: 'b7f3c2a0-1111' }, 'seq: bootId and seq go together'],
    ['seq without a boot id', { seq: 3 }, 'bootId: bootId and seq go together'],
  ])('rejects %s', (_name, patch, expected) => {
    const lines = rejectLines(sidecarReportSchema, { ...report, ...patch }, 'gf:reports')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`gf:reports: ${expected}`)
  })

  it('carries the report sequence (boot id + seq), and still accepts a report of a release without it', () => {
    const sequenced = { ...report, bootId: '0b6f1f3e-9d2a-4c1e-8f7a-2b1d3c4e5f60', seq: 12 }
    expect(parseWith(sidecarReportSchema, sequenced, 'gf:reports')).toEqual(sequenced)
    const { bootId: _b, seq: _s, ...legacy } = parseWith(sidecarReportSchema, report, 'gf:reports')
    expect(parseWith(sidecarReportSchema, legacy, 'gf:reports')).toEqual(report)
  })

  it('rejects something that is not an object at all', () => {
    expect(rejectLines(sidecarReportSchema, 'hello', 'gf:reports')).toEqual([
      'gf:reports: expected an object, got "hello"',
    ])
  })
})

describe('desiredStateSchema', () => {
  it('accepts a realistic desired state, with or without a prune and a signature', () => {
    expect(parseWith(desiredStateSchema, desired, 'desired')).toEqual(desired)
    const { signature: _s, ...unsigned } = desired
    const noPrune = { ...unsigned, mode: 'normal' as const, pruneToHeight: null }
    expect(parseWith(desiredStateSchema, noPrune, 'desired')).toEqual(noPrune)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['another wire version', { v: 0 }, 'v: expected wire version 1'],
    ['epoch 0', { epoch: 0 }, 'epoch: expected an integer ≥ 1, got 0'],
    ['generation 0', { generation: 0 }, 'generation: expected an integer ≥ 1, got 0'],
    ['prune to 0', { pruneToHeight: 0 }, 'pruneToHeight: expected an integer ≥ 1, got 0'],
    [
      'prune height missing',
      { pruneToHeight: undefined },
      'pruneToHeight: expected an integer ≥ 1, but it is missing',
    ],
    [
      'prune at the pool height',
      { pruneToHeight: 22_170_001 },
      'pruneToHeight: pruneToHeight (22170001) must be below basedOnPoolHeight (22170001): a prune never reaches the pool height',
    ],
    [
      'signature not hex',
      { signature: 'zz' },
      'signature: expected a hex string (an even number of 0-9 a-f characters), got "zz"',
    ],
    ['signature odd length', { signature: 'abc' }, 'signature: expected a hex string'],
    ['reason missing', { reason: undefined }, 'reason: expected a string, but it is missing'],
  ])('rejects %s', (_name, patch, expected) => {
    const lines = rejectLines(desiredStateSchema, { ...desired, ...patch }, 'gf:{sc:osmo-eu-1}:desired')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`gf:{sc:osmo-eu-1}:desired: ${expected}`)
  })
})

describe('canonicalDesiredStatePayload', () => {
  it('is the domain prefix and the fields in a fixed order, without the signature', () => {
    expect(WIRE_VERSION).toBe(1)
    expect(canonicalDesiredStatePayload(desired)).toBe(
      'ghostfleet/desired-state/v1\n' +
        '{"v":1,"sidecarId":"osmo-eu-1","mode":"ghost","pruneToHeight":22170000,"basedOnPoolHeight":22170001,' +
        '"poolFetchedAt":1750000000000,"epoch":3,"generation":43,"issuedAt":1750000001000,' +
        '"reason":"node is 13519 blocks ahead of the pool (max 11520): ghost"}',
    )
  })

  it('does not depend on key order, the signature, or extra keys', () => {
    const shuffled = Object.fromEntries(Object.entries(desired).reverse()) as DesiredState
    const { signature: _s, ...unsigned } = desired
    const extra = { ...desired, somethingNew: true } as DesiredState
    const expected = canonicalDesiredStatePayload(desired)
    expect(canonicalDesiredStatePayload(shuffled)).toBe(expected)
    expect(canonicalDesiredStatePayload(unsigned)).toBe(expected)
    expect(canonicalDesiredStatePayload({ ...desired, signature: 'cd'.repeat(32) })).toBe(expected)
    expect(canonicalDesiredStatePayload(extra)).toBe(expected)
  })

  it('changes when any signed field changes', () => {
    const changes: Array<Partial<DesiredState>> = [
      { sidecarId: 'osmo-eu-2' },
      { mode: 'normal' },
      { pruneToHeight: 22_169_999 },
      { pruneToHeight: null },
      { basedOnPoolHeight: 22_170_002 },
      { poolFetchedAt: 1_750_000_000_001 },
      { epoch: 4 },
      { generation: 44 },
      { issuedAt: 1_750_000_001_001 },
      { reason: 'other' },
      { v: 2 as 1 },
    ]
    const base = canonicalDesiredStatePayload(desired)
    const seen = new Set([base])
    for (const change of changes) {
      const payload = canonicalDesiredStatePayload({ ...desired, ...change })
      expect(seen.has(payload)).toBe(false)
      seen.add(payload)
    }
  })

  it('never lets two different states share a payload, whatever their text contains', () => {
    const state = fc.record({
      v: fc.constant(1 as const),
      sidecarId: fc.stringMatching(/^[A-Za-z0-9._-]{1,8}$/),
      mode: fc.constantFrom('normal' as const, 'ghost' as const),
      pruneToHeight: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
      basedOnPoolHeight: fc.nat({ max: 100 }),
      poolFetchedAt: fc.nat({ max: 100 }),
      epoch: fc.integer({ min: 1, max: 3 }),
      generation: fc.integer({ min: 1, max: 3 }),
      issuedAt: fc.nat({ max: 100 }),
      reason: fc.string({ maxLength: 12 }),
    })
    fc.assert(
      fc.property(state, state, (a, b) => {
        const same = JSON.stringify(a) === JSON.stringify(b)
        expect(canonicalDesiredStatePayload(a) === canonicalDesiredStatePayload(b)).toBe(same)
      }),
      { numRuns: 5000 },
    )
  })
})

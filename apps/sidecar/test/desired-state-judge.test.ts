import type { DesiredState } from '@ghostfleet/core'
import { describe, expect, it } from 'vitest'
import {
  type DesiredVerdict,
  type JudgeInput,
  judgeAuthority,
  judgeDesiredState,
  olderThanApplied,
} from '../src/fleet/desired-state-judge.js'
import { NOW, nodeAt, poolAt, unreachable } from './helpers/observations.js'

function desired(overrides: Partial<DesiredState> = {}): DesiredState {
  return {
    v: 1,
    sidecarId: 's1',
    mode: 'ghost',
    pruneToHeight: null,
    basedOnPoolHeight: 900,
    poolFetchedAt: NOW,
    epoch: 3,
    generation: 7,
    issuedAt: NOW,
    reason: 'test',
    ...overrides,
  }
}

function judge(overrides: Partial<JudgeInput> = {}): DesiredVerdict {
  return judgeDesiredState({
    ds: desired(),
    applied: { epoch: 3, generation: 6 },
    mode: 'ghost',
    node: nodeAt(1000),
    now: NOW,
    pruning: { enabled: true, margin: 1 },
    maxPoolAgeMs: 60_000,
    ...overrides,
  })
}

// The sidecar's own KYVE says 500 (safe height 499 with margin 1); the tracker may claim anything.
const own = poolAt(500)

describe('judgeDesiredState', () => {
  it.each<[string, Partial<JudgeInput>, DesiredVerdict | Record<string, unknown>]>([
    [
      'the token applied already: hold, counted as a duplicate',
      { applied: { epoch: 3, generation: 7 } },
      { kind: 'hold', duplicate: true, reason: 'tracker 3/7 already applied (test); ghost mode' },
    ],
    [
      'another mode: switch to it',
      { ds: desired({ mode: 'normal' }) },
      {
        kind: 'apply',
        mode: 'normal',
        pruneToHeight: null,
        reason: 'tracker 3/7: test',
        action: 'switch to normal',
      },
    ],
    [
      'the same mode, no prune: recorded, mode held',
      {},
      { kind: 'apply', mode: 'ghost', pruneToHeight: null, action: 'hold ghost' },
    ],
    [
      'a prune height in normal mode is not a prune',
      { ds: desired({ mode: 'normal', pruneToHeight: 400 }), mode: 'normal' },
      { kind: 'apply', mode: 'normal', pruneToHeight: null, action: 'hold normal' },
    ],
    [
      'a prune while the node does not answer: not applied, waiting',
      { ds: desired({ pruneToHeight: 400 }), node: unreachable() },
      {
        kind: 'hold',
        duplicate: false,
        reason: 'tracker 3/7 asks to prune to 400, but the node does not answer; waiting',
      },
    ],
    [
      'a prune at or below the base is done: no KYVE answer needed',
      { ds: desired({ pruneToHeight: 450 }), node: nodeAt(1000, 450) },
      {
        kind: 'apply',
        mode: 'ghost',
        pruneToHeight: null,
        reason: 'tracker 3/7: prune to 450 is done (base 450)',
        action: 'prune to 450: already at base 450',
      },
    ],
    [
      'a prune with pruning disabled here: refused',
      { ds: desired({ pruneToHeight: 401 }), pruning: { enabled: false, margin: 1 } },
      { kind: 'refuse', reason: 'pruning-disabled', pruneRefusal: null },
    ],
    [
      'a prune height asks for the own KYVE answer first',
      { ds: desired({ pruneToHeight: 450 }) },
      { kind: 'needs-own-pool' },
    ],
    [
      'a prune at or below the own safe height: applied',
      { ds: desired({ pruneToHeight: 450 }), ownPool: own },
      {
        kind: 'apply',
        mode: 'ghost',
        pruneToHeight: 450,
        action: 'prune to 450',
        unrecorded: 'tracker 3/7 could not be recorded in state.json; not pruning',
      },
    ],
    [
      'a prune above the own safe height: refused',
      { ds: desired({ pruneToHeight: 800 }), ownPool: own },
      { kind: 'refuse', reason: 'above-own-safe-height', pruneRefusal: 'above-own-safe-height' },
    ],
    [
      'no own KYVE answer: refused',
      { ds: desired({ pruneToHeight: 400 }), ownPool: null },
      { kind: 'refuse', reason: 'pool-height-unknown', pruneRefusal: 'pool-height-unknown' },
    ],
    [
      'a stale own KYVE answer: refused',
      { ds: desired({ pruneToHeight: 400 }), ownPool: poolAt(500, NOW - 61_000) },
      { kind: 'refuse', reason: 'pool-height-stale', pruneRefusal: 'pool-height-stale' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(judge(input)).toMatchObject(expected)
  })

  it('names the checked pool in the reason, and the requested height in a refusal', () => {
    const allowed = judge({ ds: desired({ pruneToHeight: 450 }), ownPool: own })
    expect(allowed).toMatchObject({ kind: 'apply' })
    if (allowed.kind === 'apply') expect(allowed.reason).toContain('own KYVE answer (pool 500)')
    const refused = judge({ ds: desired({ pruneToHeight: 800 }), ownPool: own })
    expect(refused.kind === 'refuse' && refused.detail).toContain('800')
  })

  it('maps the guard’s nothing-to-prune (own safe height at or below the base) to above-own-safe-height', () => {
    // Own safe height 499, base 600: the request 700 is above the base but above what the sidecar validated.
    const verdict = judge({ ds: desired({ pruneToHeight: 700 }), node: nodeAt(1000, 600), ownPool: own })
    expect(verdict).toMatchObject({ kind: 'refuse', reason: 'above-own-safe-height' })
    expect(verdict.kind === 'refuse' && verdict.detail).toContain("above this sidecar's own safe height")
  })
})

describe('olderThanApplied', () => {
  it.each([
    [{ epoch: 3, generation: 5 }, { epoch: 3, generation: 6 }, 'stale-generation'],
    [{ epoch: 2, generation: 9 }, { epoch: 3, generation: 1 }, 'stale-epoch'],
    [{ epoch: 3, generation: 6 }, { epoch: 3, generation: 6 }, null],
    [{ epoch: 4, generation: 1 }, { epoch: 3, generation: 6 }, null],
  ])('%o against applied %o: %s', (ds, applied, reason) => {
    expect(olderThanApplied(ds, applied)?.reason ?? null).toBe(reason)
  })
})

describe('judgeAuthority', () => {
  const base = { now: NOW, startedAt: NOW - 10_000, trackerTimeoutMs: 30_000 }
  it.each([
    ['contact within the timeout', { lastContactAt: NOW - 30_000, current: 'local' as const }, 'tracker'],
    ['contact too long ago', { lastContactAt: NOW - 30_001, current: 'tracker' as const }, 'local'],
    [
      'no contact yet, within the start grace',
      { lastContactAt: null, current: 'tracker' as const },
      'waiting',
    ],
    [
      'no contact yet, grace over',
      { lastContactAt: null, current: 'tracker' as const, startedAt: NOW - 30_001 },
      'local',
    ],
    ['no contact, deciding locally already', { lastContactAt: null, current: 'local' as const }, 'local'],
  ])('%s: %s', (_name, input, expected) => {
    expect(judgeAuthority({ ...base, ...input })).toBe(expected)
  })
})

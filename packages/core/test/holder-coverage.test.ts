import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AvailabilityBudgetError,
  cacheWindow,
  cacheWindowSize,
  DISRUPTION_KINDS,
  type DisruptionCandidate,
  type HeightRange,
  HolderCoverageError,
  type Holding,
  type MemberActivity,
  minHolders,
  type PoolMember,
  planDisruptions,
  soleHeldRanges,
} from '../src/index.js'

/** Holders of each height of `window`, by walking the heights: the definition the sweeps must match. */
function holdersByHeight(window: HeightRange, holdings: readonly Holding[]): number[] {
  const counts: number[] = []
  for (let h = window.from; h <= window.to; h++) {
    counts.push(holdings.filter((x) => x.base <= h && h <= x.height).length)
  }
  return counts
}

const heldHeights = (window: HeightRange, holdings: readonly Holding[]): Set<number> => {
  const held = new Set<number>()
  for (let h = window.from; h <= window.to; h++) {
    if (holdings.some((x) => x.base <= h && h <= x.height)) held.add(h)
  }
  return held
}

const holdingArb = (id: string) =>
  fc
    .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 30 }))
    .map(([base, span]) => ({ id, base, height: base + span }))

const windowArb = fc
  .tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 30 }))
  .map(([from, span]) => ({ from, to: from + span }))

const ids = ['a', 'b', 'c', 'd', 'e', 'f']

/** A pool: every member's activity and holding (only serving members' holdings count). */
const poolArb = fc
  .tuple(
    fc.integer({ min: 1, max: ids.length }),
    fc.array(fc.constantFrom<MemberActivity>('serving', 'serving', 'serving', 'restarting', 'unknown'), {
      minLength: ids.length,
      maxLength: ids.length,
    }),
    fc.tuple(...ids.map((id) => holdingArb(id))),
  )
  .map(([n, activities, holdings]) => ({
    members: ids.slice(0, n).map((id, i) => ({ id, activity: activities[i] as MemberActivity })),
    holdings: holdings.slice(0, n),
  }))

const candidateArb = (members: readonly PoolMember[]) =>
  fc.array(
    fc.record({
      id: fc.constantFrom(...members.map((m) => m.id), 'stranger'),
      kind: fc.constantFrom(...DISRUPTION_KINDS),
    }),
    { maxLength: 8 },
  )

describe('cacheWindow', () => {
  it('is bundle_size + max_bundle_size above the pool height, with bundle_size at its bound', () => {
    expect(cacheWindowSize(100)).toBe(200)
    expect(cacheWindow({ poolHeight: 1000, maxBundleSize: 100, tip: 5000 })).toEqual({ from: 1000, to: 1200 })
  })

  it('stops at the highest height the fleet has, and keeps the pool height when every node is behind', () => {
    expect(cacheWindow({ poolHeight: 1000, maxBundleSize: 100, tip: 1150 })).toEqual({ from: 1000, to: 1150 })
    expect(cacheWindow({ poolHeight: 1000, maxBundleSize: 100, tip: 900 })).toEqual({ from: 1000, to: 1000 })
  })

  it('refuses numbers no pool has', () => {
    expect(() => cacheWindowSize(0)).toThrow(HolderCoverageError)
    expect(() => cacheWindow({ poolHeight: -1, maxBundleSize: 1, tip: 0 })).toThrow(/poolHeight/)
    expect(() => cacheWindow({ poolHeight: 1, maxBundleSize: 1.5, tip: 0 })).toThrow(/maxBundleSize/)
  })
})

describe('minHolders and soleHeldRanges', () => {
  it('examples', () => {
    const holdings = [
      { id: 'a', base: 1, height: 15 },
      { id: 'b', base: 12, height: 30 },
    ]
    expect(minHolders({ from: 10, to: 20 }, holdings)).toBe(1)
    expect(minHolders({ from: 12, to: 15 }, holdings)).toBe(2)
    expect(minHolders({ from: 31, to: 40 }, holdings)).toBe(0)
    expect(soleHeldRanges({ from: 10, to: 20 }, holdings, 'a')).toEqual([{ from: 10, to: 11 }])
    expect(soleHeldRanges({ from: 10, to: 20 }, holdings, 'b')).toEqual([{ from: 16, to: 20 }])
    expect(soleHeldRanges({ from: 10, to: 20 }, holdings, 'nobody')).toEqual([])
  })

  it('reject a holding whose base is above its height, and a reversed window', () => {
    expect(() => minHolders({ from: 1, to: 2 }, [{ id: 'a', base: 5, height: 4 }])).toThrow(
      /"a" has base 5 above height 4/,
    )
    expect(() => minHolders({ from: 3, to: 2 }, [])).toThrow(/window.from 3 is above window.to 2/)
  })

  it('minHolders is the smallest per-height count', () => {
    fc.assert(
      fc.property(windowArb, fc.array(holdingArb('x'), { maxLength: 6 }), (window, holdings) => {
        expect(minHolders(window, holdings)).toBe(Math.min(...holdersByHeight(window, holdings)))
      }),
    )
  })

  it('soleHeldRanges are exactly the heights only that member holds', () => {
    fc.assert(
      fc.property(
        windowArb,
        fc.tuple(...ids.map((id) => holdingArb(id))),
        fc.constantFrom(...ids),
        (window, holdings, leaving) => {
          const expected = new Set<number>()
          for (let h = window.from; h <= window.to; h++) {
            const holders = holdings.filter((x) => x.base <= h && h <= x.height).map((x) => x.id)
            if (holders.length === 1 && holders[0] === leaving) expected.add(h)
          }
          const got = new Set<number>()
          const ranges = soleHeldRanges(window, holdings, leaving)
          for (const r of ranges) for (let h = r.from; h <= r.to; h++) got.add(h)
          expect(got).toEqual(expected)
          // Disjoint, ascending, and not touching (touching ranges would be one).
          for (let i = 1; i < ranges.length; i++) {
            expect(ranges[i]?.from ?? 0).toBeGreaterThan((ranges[i - 1]?.to ?? 0) + 1)
          }
        },
      ),
    )
  })
})

describe('planDisruptions with coverage: examples', () => {
  const window = { from: 100, to: 140 }

  it('defers the only available holder of window heights until a sibling holds them', () => {
    const members = [
      { id: 'a', activity: 'serving' as const },
      { id: 'b', activity: 'serving' as const },
    ]
    const holdings = [
      { id: 'a', base: 50, height: 200 },
      { id: 'b', base: 50, height: 120 },
    ]
    expect(
      planDisruptions({ members, candidates: ['a', 'b'], maxUnavailable: 2, coverage: { window, holdings } }),
    ).toEqual({
      allowed: ['b'],
      deferred: [
        {
          id: 'a',
          reason: 'it is the only available holder of heights 121–140 of the cache window 100–140',
        },
      ],
    })
    // b goes first: then a is the last holder of everything.
    expect(
      planDisruptions({ members, candidates: ['b', 'a'], maxUnavailable: 2, coverage: { window, holdings } }),
    ).toEqual({
      allowed: ['b'],
      deferred: [
        { id: 'a', reason: 'it is the only available holder of heights 100–140 of the cache window 100–140' },
      ],
    })
  })

  it('lets the last local copy go when a sibling holds every height of the window', () => {
    const members = [{ id: 'a', activity: 'serving' as const }]
    const holdings = [
      { id: 'a', base: 50, height: 150 },
      { id: 'b', base: 90, height: 300 },
    ]
    expect(
      planDisruptions({ members, candidates: ['a'], maxUnavailable: 1, coverage: { window, holdings } })
        .allowed,
    ).toEqual(['a'])
  })

  it('keeps maxUnavailable as the cap even when coverage would allow more', () => {
    const members = ['a', 'b', 'c'].map((id) => ({ id, activity: 'serving' as const }))
    const holdings = members.map(({ id }) => ({ id, base: 1, height: 1000 }))
    const plan = planDisruptions({
      members,
      candidates: ['a', 'b', 'c'],
      maxUnavailable: 1,
      coverage: { window, holdings },
    })
    expect(plan.allowed).toEqual(['a'])
    expect(plan.deferred.map((d) => d.reason)).toEqual([
      'availability budget in use: 1 of 1 (a starting)',
      'availability budget in use: 1 of 1 (a starting)',
    ])
  })

  it('does not count heights nobody available holds against a candidate that does not hold them', () => {
    const members = [
      { id: 'a', activity: 'serving' as const },
      { id: 'c', activity: 'unknown' as const },
    ]
    const holdings = [
      { id: 'a', base: 50, height: 120 },
      { id: 'b', base: 50, height: 120 },
    ]
    // 121–140 were only on c, which is silent: a's restart does not make that worse.
    expect(
      planDisruptions({ members, candidates: ['a'], maxUnavailable: 2, coverage: { window, holdings } })
        .allowed,
    ).toEqual(['a'])
  })

  it('refuses a prune into the cache window', () => {
    const members = [{ id: 'a', activity: 'serving' as const }]
    const holdings = [
      { id: 'a', base: 50, height: 300 },
      { id: 'b', base: 50, height: 300 },
    ]
    const candidates: DisruptionCandidate[] = [{ id: 'a', kind: 'prune', pruneTo: 110 }]
    expect(
      planDisruptions({ members, candidates, maxUnavailable: 1, coverage: { window, holdings } }),
    ).toEqual({
      allowed: [],
      deferred: [{ id: 'a', reason: 'its prune to 110 would delete heights 100–109 of the cache window' }],
    })
    candidates[0] = { id: 'a', kind: 'prune', pruneTo: 99 }
    expect(
      planDisruptions({ members, candidates, maxUnavailable: 1, coverage: { window, holdings } }).allowed,
    ).toEqual(['a'])
  })

  it('rejects coverage that contradicts the members, and bad prune targets', () => {
    const members = [{ id: 'a', activity: 'pruning' as const }]
    expect(() =>
      planDisruptions({
        members,
        candidates: [],
        maxUnavailable: 1,
        coverage: { window, holdings: [{ id: 'a', base: 1, height: 2 }] },
      }),
    ).toThrow(/"a" as holding heights, but it is pruning/)
    expect(() =>
      planDisruptions({
        members: [],
        candidates: [],
        maxUnavailable: 1,
        coverage: {
          window,
          holdings: [
            { id: 'a', base: 1, height: 2 },
            { id: 'a', base: 1, height: 2 },
          ],
        },
      }),
    ).toThrow(AvailabilityBudgetError)
    expect(() =>
      planDisruptions({
        members: [],
        candidates: [{ id: 'a', kind: 'switch-to-ghost', pruneTo: 5 }],
        maxUnavailable: 1,
      }),
    ).toThrow(/on a prune only/)
  })
})

describe('planDisruptions with coverage: properties', () => {
  it('never takes the last available holder of a held window height, and keeps the count cap', () => {
    fc.assert(
      fc.property(
        poolArb.chain((pool) =>
          fc.record({
            pool: fc.constant(pool),
            candidates: candidateArb(pool.members),
            window: windowArb,
            maxUnavailable: fc.integer({ min: 1, max: ids.length }),
          }),
        ),
        ({ pool, candidates, window, maxUnavailable }) => {
          const serving = new Set(pool.members.filter((m) => m.activity === 'serving').map((m) => m.id))
          const available = pool.holdings.filter((h) => serving.has(h.id))
          const plan = planDisruptions({
            members: pool.members,
            candidates,
            maxUnavailable,
            coverage: { window, holdings: available },
          })
          const allowed = new Set(plan.allowed)
          const after = available.filter((h) => !allowed.has(h.id))
          expect(heldHeights(window, after)).toEqual(heldHeights(window, available))
          const down = pool.members.filter((m) => m.activity !== 'serving' || allowed.has(m.id)).length
          const downBefore = pool.members.filter((m) => m.activity !== 'serving').length
          expect(down).toBeLessThanOrEqual(Math.max(maxUnavailable, downBefore))
        },
      ),
    )
  })

  it('over a run of plans and returns, a fully held window never has every holder down', () => {
    // The fleet as the tracker sees it: members go down only when the plan allows it, come back (with the
    // window moved on, and a pruned member's base raised to its prune target), and the pool height advances.
    const stepArb = fc.oneof(
      fc.record({ kind: fc.constant('plan' as const), order: fc.shuffledSubarray(ids) }),
      fc.record({ kind: fc.constant('return' as const), id: fc.constantFrom(...ids) }),
      fc.record({ kind: fc.constant('advance' as const), by: fc.integer({ min: 0, max: 5 }) }),
    )
    fc.assert(
      fc.property(
        fc.tuple(...ids.map((id) => holdingArb(id))),
        fc.array(stepArb, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: ids.length }),
        fc.integer({ min: 0, max: 20 }),
        (initial, steps, maxUnavailable, size) => {
          const holding = new Map(initial.map((h) => [h.id, { ...h }]))
          const down = new Map<string, number | null>()
          let poolHeight = 30
          for (const step of steps) {
            const window = { from: poolHeight, to: poolHeight + size }
            const available = [...holding.values()].filter((h) => !down.has(h.id))
            const heldBefore = heldHeights(window, available)
            if (step.kind === 'plan') {
              const candidates: DisruptionCandidate[] = step.order.map((id, i) => {
                const h = holding.get(id)
                const prune =
                  i % 2 === 0 && h !== undefined && h.base < poolHeight - 1 && h.height >= poolHeight
                return prune
                  ? { id, kind: 'prune', pruneTo: poolHeight - 1 }
                  : { id, kind: 'switch-to-ghost' }
              })
              const plan = planDisruptions({
                members: ids.map((id) => ({ id, activity: down.has(id) ? 'restarting' : 'serving' })),
                candidates,
                maxUnavailable,
                coverage: { window, holdings: available },
              })
              for (const id of plan.allowed) {
                if (down.has(id)) continue
                const c = candidates.find((x) => x.id === id)
                down.set(id, c?.pruneTo ?? null)
              }
              const after = [...holding.values()].filter((h) => !down.has(h.id))
              for (const h of heldBefore) {
                expect(
                  after.some((x) => x.base <= h && h <= x.height),
                  `height ${h}`,
                ).toBe(true)
              }
            } else if (step.kind === 'return') {
              const pruneTo = down.get(step.id)
              const h = holding.get(step.id)
              if (pruneTo !== undefined && h !== undefined) {
                if (pruneTo !== null) h.base = Math.max(h.base, pruneTo)
                h.height += 3
                down.delete(step.id)
              }
            } else {
              poolHeight += step.by
            }
          }
        },
      ),
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AvailabilityBudgetError,
  DISRUPTION_KINDS,
  type DisruptionCandidate,
  type MemberActivity,
  type PoolMember,
  planDisruptions,
} from '../src/index.js'

const serving = (...ids: string[]): PoolMember[] => ids.map((id) => ({ id, activity: 'serving' }))

describe('planDisruptions: examples', () => {
  it('allows candidates in priority order up to the budget', () => {
    expect(
      planDisruptions({ members: serving('a', 'b', 'c'), candidates: ['c', 'a', 'b'], maxUnavailable: 2 }),
    ).toEqual({
      allowed: ['c', 'a'],
      deferred: [{ id: 'b', reason: 'availability budget in use: 2 of 2 (c starting, a starting)' }],
    })
  })

  it("takes a return to normal before every prune and switch to ghost, whatever the caller's order", () => {
    const candidates: DisruptionCandidate[] = [
      { id: 'p1', kind: 'prune' },
      { id: 'g1', kind: 'switch-to-ghost' },
      { id: 'n1', kind: 'return-to-normal' },
      { id: 'p2', kind: 'prune' },
      { id: 'n2', kind: 'return-to-normal' },
    ]
    const members = serving('p1', 'g1', 'n1', 'p2', 'n2')
    expect(planDisruptions({ members, candidates, maxUnavailable: 1 })).toEqual({
      allowed: ['n1'],
      deferred: ['n2', 'p1', 'g1', 'p2'].map((id) => ({
        id,
        reason: 'availability budget in use: 1 of 1 (n1 starting)',
      })),
    })
    expect(planDisruptions({ members, candidates, maxUnavailable: 3 }).allowed).toEqual(['n1', 'n2', 'p1'])
    expect(() =>
      planDisruptions({
        members,
        candidates: [{ id: 'p1', kind: 'reboot' as DisruptionCandidate['kind'] }],
        maxUnavailable: 1,
      }),
    ).toThrow(/kind "reboot"/)
  })

  it('gives a checkpoint a slot like a restart, after every return to normal, never with a prune height', () => {
    const members = serving('d', 'n', 'p')
    const candidates: DisruptionCandidate[] = [
      { id: 'd', kind: 'checkpoint' },
      { id: 'n', kind: 'return-to-normal' },
      { id: 'p', kind: 'prune' },
    ]
    expect(planDisruptions({ members, candidates, maxUnavailable: 1 })).toEqual({
      allowed: ['n'],
      deferred: ['d', 'p'].map((id) => ({ id, reason: 'availability budget in use: 1 of 1 (n starting)' })),
    })
    expect(planDisruptions({ members, candidates, maxUnavailable: 2 }).allowed).toEqual(['n', 'd'])
    expect(() =>
      planDisruptions({
        members,
        candidates: [{ id: 'd', kind: 'checkpoint', pruneTo: 5 }],
        maxUnavailable: 1,
      }),
    ).toThrow(/pruneTo 5: expected an integer ≥ 1, on a prune only/)
  })

  it('keeps a checkpoint waiting while its donor is the only available holder of a window height', () => {
    const coverage = {
      window: { from: 100, to: 200 },
      holdings: [
        { id: 'd', base: 50, height: 210 },
        { id: 'e', base: 150, height: 210 },
      ],
    }
    const plan = planDisruptions({
      members: serving('d', 'e'),
      candidates: [{ id: 'd', kind: 'checkpoint' }],
      maxUnavailable: 1,
      coverage,
    })
    expect(plan).toEqual({
      allowed: [],
      deferred: [
        { id: 'd', reason: 'it is the only available holder of heights 100–149 of the cache window 100–200' },
      ],
    })
    const covered = { ...coverage, holdings: [...coverage.holdings, { id: 'f', base: 90, height: 205 }] }
    expect(
      planDisruptions({
        members: serving('d', 'e', 'f'),
        candidates: [{ id: 'd', kind: 'checkpoint' }],
        maxUnavailable: 1,
        coverage: covered,
      }).allowed,
    ).toEqual(['d'])
  })

  it('counts members already restarting or pruning against the budget', () => {
    const members: PoolMember[] = [...serving('a', 'b'), { id: 'c', activity: 'pruning' }]
    expect(planDisruptions({ members, candidates: ['a', 'b'], maxUnavailable: 1 })).toEqual({
      allowed: [],
      deferred: [
        { id: 'a', reason: 'availability budget in use: 1 of 1 (c pruning)' },
        { id: 'b', reason: 'availability budget in use: 1 of 1 (c pruning)' },
      ],
    })
    expect(planDisruptions({ members, candidates: ['a', 'b'], maxUnavailable: 2 }).allowed).toEqual(['a'])
  })

  it('counts a silent (unknown) member as unavailable', () => {
    const members: PoolMember[] = [...serving('a'), { id: 'b', activity: 'unknown' }]
    expect(planDisruptions({ members, candidates: ['a'], maxUnavailable: 1 })).toEqual({
      allowed: [],
      deferred: [{ id: 'a', reason: 'availability budget in use: 1 of 1 (b unknown)' }],
    })
  })

  it('does not double-count a candidate that is already restarting or pruning', () => {
    const members: PoolMember[] = [{ id: 'a', activity: 'restarting' }, ...serving('b')]
    expect(planDisruptions({ members, candidates: ['a', 'b'], maxUnavailable: 1 })).toEqual({
      allowed: ['a'],
      deferred: [{ id: 'b', reason: 'availability budget in use: 1 of 1 (a restarting)' }],
    })
    // Even over budget, a member already down may carry on: that makes no one else unavailable.
    const over: PoolMember[] = [
      { id: 'a', activity: 'pruning' },
      { id: 'b', activity: 'restarting' },
    ]
    expect(planDisruptions({ members: over, candidates: ['b'], maxUnavailable: 1 })).toEqual({
      allowed: ['b'],
      deferred: [],
    })
  })

  it('defers candidates whose state is unknown or that are not members', () => {
    const members: PoolMember[] = [{ id: 'a', activity: 'unknown' }]
    expect(planDisruptions({ members, candidates: ['a', 'ghost'], maxUnavailable: 3 })).toEqual({
      allowed: [],
      deferred: [
        { id: 'a', reason: 'its state is unknown (no recent report)' },
        { id: 'ghost', reason: 'not a known member of this pool' },
      ],
    })
  })

  it('ignores repeated candidates', () => {
    expect(
      planDisruptions({ members: serving('a', 'b'), candidates: ['a', 'a', 'b'], maxUnavailable: 2 }),
    ).toEqual({
      allowed: ['a', 'b'],
      deferred: [],
    })
  })

  it('shortens the list of holders in a long reason', () => {
    const members: PoolMember[] = [
      ...['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'].map((id) => ({ id, activity: 'unknown' as const })),
      ...serving('x'),
    ]
    const [deferred] = planDisruptions({ members, candidates: ['x'], maxUnavailable: 1 }).deferred
    expect(deferred?.reason).toBe(
      'availability budget in use: 7 of 1 (m1 unknown, m2 unknown, m3 unknown, m4 unknown, m5 unknown, +2 more)',
    )
  })

  it.each([0, -1, 1.5, Number.NaN, '1'])('rejects maxUnavailable %j', (maxUnavailable) => {
    expect(() =>
      planDisruptions({ members: [], candidates: [], maxUnavailable: maxUnavailable as never }),
    ).toThrow(AvailabilityBudgetError)
    expect(() =>
      planDisruptions({ members: [], candidates: [], maxUnavailable: maxUnavailable as never }),
    ).toThrow('maxUnavailable must be an integer ≥ 1, got')
  })

  it('rejects duplicate members and unknown activities', () => {
    expect(() => planDisruptions({ members: serving('a', 'a'), candidates: [], maxUnavailable: 1 })).toThrow(
      'member "a" is listed twice',
    )
    expect(() =>
      planDisruptions({
        members: [{ id: 'a', activity: 'down' as never }],
        candidates: [],
        maxUnavailable: 1,
      }),
    ).toThrow('member "a" has activity "down"')
  })
})

describe('planDisruptions: properties', () => {
  const activity = fc.constantFrom<MemberActivity>(
    'serving',
    'serving',
    'serving',
    'restarting',
    'pruning',
    'unknown',
  )
  const scenario = fc
    .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 8 })
    .chain((ids) =>
      fc.record({
        members: fc.tuple(...ids.map((id) => activity.map((a): PoolMember => ({ id, activity: a })))),
        candidates: fc.array(fc.constantFrom(...ids, 'stranger'), { maxLength: 12 }),
        maxUnavailable: fc.integer({ min: 1, max: 5 }),
      }),
    )

  it('never lets more members be unavailable than the budget, beyond those already down', () => {
    fc.assert(
      fc.property(scenario, ({ members, candidates, maxUnavailable }) => {
        const plan = planDisruptions({ members, candidates, maxUnavailable })
        const down = new Set(members.filter((m) => m.activity !== 'serving').map((m) => m.id))
        const after = new Set([...down, ...plan.allowed])
        expect(after.size).toBeLessThanOrEqual(Math.max(maxUnavailable, down.size))
        if (down.size >= maxUnavailable) expect(plan.allowed.every((id) => down.has(id))).toBe(true)
        // allowed + already disrupted, counting each member once
        const newlyDown = plan.allowed.filter((id) => !down.has(id)).length
        expect(newlyDown + down.size).toBeLessThanOrEqual(Math.max(maxUnavailable, down.size))
      }),
      { numRuns: 5000 },
    )
  })

  it('decides every distinct candidate exactly once, in priority order, and uses the whole budget', () => {
    fc.assert(
      fc.property(scenario, ({ members, candidates, maxUnavailable }) => {
        const plan = planDisruptions({ members, candidates, maxUnavailable })
        const distinct = [...new Set(candidates)]
        const decided = [...plan.allowed, ...plan.deferred.map((d) => d.id)]
        expect([...decided].sort()).toEqual([...distinct].sort())
        expect(plan.allowed).toEqual(distinct.filter((id) => plan.allowed.includes(id)))

        const activityOf = new Map(members.map((m) => [m.id, m.activity]))
        for (const id of plan.allowed)
          expect(['serving', 'restarting', 'pruning']).toContain(activityOf.get(id))
        const down = members.filter((m) => m.activity !== 'serving').length
        const servingCandidates = distinct.filter((id) => activityOf.get(id) === 'serving')
        const allowedServing = plan.allowed.filter((id) => activityOf.get(id) === 'serving')
        // Greedy: the highest-priority serving candidates get every free slot.
        expect(allowedServing).toEqual(servingCandidates.slice(0, Math.max(0, maxUnavailable - down)))
        const alreadyDown = distinct.filter((id) =>
          ['restarting', 'pruning'].includes(activityOf.get(id) ?? ''),
        )
        for (const id of alreadyDown) expect(plan.allowed).toContain(id)
      }),
      { numRuns: 5000 },
    )
  })

  it('never gives a slot to another candidate while a serving return to normal waits', () => {
    const kinded = scenario.chain((s) =>
      fc.record({
        members: fc.constant(s.members),
        maxUnavailable: fc.constant(s.maxUnavailable),
        candidates: fc.tuple(
          ...s.candidates.map((id) =>
            fc.constantFrom(...DISRUPTION_KINDS).map((kind): DisruptionCandidate => ({ id, kind })),
          ),
        ),
      }),
    )
    fc.assert(
      fc.property(kinded, ({ members, candidates, maxUnavailable }) => {
        const plan = planDisruptions({ members, candidates, maxUnavailable })
        const activityOf = new Map(members.map((m) => [m.id, m.activity]))
        const urgent = new Set(candidates.filter((c) => c.kind === 'return-to-normal').map((c) => c.id))
        const waitingUrgent = plan.deferred.some(
          (d) => urgent.has(d.id) && activityOf.get(d.id) === 'serving',
        )
        if (waitingUrgent) {
          // Every serving member allowed is itself a return to normal.
          for (const id of plan.allowed)
            if (activityOf.get(id) === 'serving') expect(urgent.has(id), id).toBe(true)
        }
      }),
      { numRuns: 5000 },
    )
  })
})

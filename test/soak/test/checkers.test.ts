import { describe, expect, it } from 'vitest'
import {
  AddressBookChecker,
  addressBookEntries,
  BudgetChecker,
  checkValidatedBase,
  FencingChecker,
  Ledger,
  planFaults,
  poolServed,
  type SidecarSample,
  unsettled,
} from '../src/index.js'

// Forged event sequences: each checker must flag the violation it exists for, so the soak can fail.

function sample(overrides: Partial<SidecarSample>): SidecarSample {
  return {
    id: 'p0-s0',
    pool: 0,
    at: 0,
    answered: true,
    mode: 'normal',
    activity: 'idle',
    nodeReachable: true,
    nodeHeight: 500,
    base: 1,
    nodeState: 'running',
    nodePid: 42,
    ...overrides,
  }
}

describe('validated blocks', () => {
  it('flags a base above the pool height and accepts one at or below it', () => {
    expect(checkValidatedBase(sample({ base: 301 }), 300)).toMatch(/above the pool height 300/)
    expect(checkValidatedBase(sample({ base: 300 }), 300)).toBeNull()
    expect(checkValidatedBase(sample({ base: null }), 300)).toBeNull()
  })
})

describe('budget', () => {
  it('flags two sidecars of one pool disrupting at once with maxUnavailable 1', () => {
    const samples = [
      sample({ id: 'a', activity: 'switching' }),
      sample({ id: 'b', activity: 'pruning' }),
      sample({ id: 'c', pool: 1, activity: 'pruning' }),
    ]
    expect(new BudgetChecker(1, 5_000).observe(0, samples)).toMatch(/2 sidecars disrupting/)
    expect(new BudgetChecker(1, 5_000).observe(1, samples)).toBeNull()
    expect(new BudgetChecker(2, 5_000).observe(0, samples)).toBeNull()
  })

  it('counts a killed node: a disruption that begins after the tracker could know of it is flagged', () => {
    const checker = new BudgetChecker(1, 5_000)
    expect(
      checker.observe(0, [sample({ id: 'a', at: 0, nodeState: 'stopped', nodeReachable: false })]),
    ).toBeNull()
    expect(
      checker.observe(0, [
        sample({ id: 'a', at: 6_000, nodeState: 'stopped', nodeReachable: false }),
        sample({ id: 'b', at: 6_000, activity: 'pruning' }),
      ]),
    ).toMatch(/b began pruning while 1 other node\(s\) had been unavailable .*a node stopped, b pruning/)
  })

  it('counts a silent sidecar as unavailable, like the tracker', () => {
    const checker = new BudgetChecker(1, 5_000)
    checker.observe(0, [sample({ id: 'a', at: 0, answered: false })])
    expect(
      checker.observe(0, [
        sample({ id: 'a', at: 9_000, answered: false }),
        sample({ id: 'b', at: 9_000, activity: 'switching' }),
      ]),
    ).toMatch(/a silent/)
  })

  it('does not blame the fleet for a kill that lands on a spent budget, nor for one it could not know of yet', () => {
    const checker = new BudgetChecker(1, 5_000)
    checker.observe(0, [sample({ id: 'b', at: 0, activity: 'pruning' })])
    // The soak kills a's node while b prunes.
    expect(
      checker.observe(0, [
        sample({ id: 'a', at: 1_000, nodeState: 'stopped', nodeReachable: false }),
        sample({ id: 'b', at: 1_000, activity: 'pruning' }),
      ]),
    ).toBeNull()
    const fresh = new BudgetChecker(1, 5_000)
    fresh.observe(0, [sample({ id: 'a', at: 0, nodeState: 'stopped', nodeReachable: false })])
    expect(
      fresh.observe(0, [
        sample({ id: 'a', at: 2_000, nodeState: 'stopped', nodeReachable: false }),
        sample({ id: 'b', at: 2_000, activity: 'switching' }),
      ]),
    ).toBeNull()
  })
})

describe('address book', () => {
  const book = (...entries: string[]) => new Set(entries)

  it('flags a return to normal that lost original entries, after the grace', () => {
    const checker = new AddressBookChecker(1_000)
    expect(
      checker.observe({ id: 'a', at: 0, mode: 'normal', entries: book('x@1.2.3.4:1', 'y@1.2.3.5:1') })
        .checked,
    ).toBe(false)
    checker.observe({ id: 'a', at: 100, mode: 'ghost', entries: null })
    expect(checker.observe({ id: 'a', at: 200, mode: 'normal', entries: book('x@1.2.3.4:1') })).toEqual({
      checked: false,
      problem: null,
    })
    const late = checker.observe({ id: 'a', at: 1_300, mode: 'normal', entries: book('x@1.2.3.4:1') })
    expect(late.checked).toBe(true)
    expect(late.problem).toMatch(/without 1 of 2 original address book entries \(y@1.2.3.5:1\)/)
  })

  it('passes a return to normal that kept every entry', () => {
    const checker = new AddressBookChecker(1_000)
    checker.observe({ id: 'a', at: 0, mode: 'normal', entries: book('x@1.2.3.4:1') })
    checker.observe({ id: 'a', at: 100, mode: 'ghost', entries: null })
    expect(
      checker.observe({ id: 'a', at: 200, mode: 'normal', entries: book('x@1.2.3.4:1', 'z@1.1.1.1:2') }),
    ).toEqual({
      checked: true,
      problem: null,
    })
  })

  it('reads CometBFT address books', () => {
    const text = JSON.stringify({ key: 'k', addrs: [{ addr: { id: 'ab', ip: '10.0.0.1', port: 26656 } }] })
    expect([...(addressBookEntries(text) ?? [])]).toEqual(['ab@10.0.0.1:26656'])
    expect(addressBookEntries('<html>')).toBeNull()
  })
})

describe('fencing', () => {
  const snapshot = (
    epoch: number,
    leaderToken: string | null,
    desired: Record<string, [number, number]>,
    runId = 'r1',
    replIds: string[] = [],
  ) => ({
    runId,
    replIds,
    epoch,
    leaderToken,
    desired: new Map(Object.entries(desired).map(([id, [e, g]]) => [id, { epoch: e, generation: g }])),
  })

  it('flags a desired state written under an epoch older than the counter', () => {
    const checker = new FencingChecker()
    expect(checker.observeRedis(snapshot(2, 'b:1', { s1: [2, 5] })).problems).toEqual([])
    const stale = checker.observeRedis(snapshot(2, 'b:1', { s1: [1, 9] }))
    expect(stale.problems).toEqual([
      expect.stringMatching(
        /s1: desired state 1:9 written under epoch 1 after the epoch counter had reached 2/,
      ),
    ])
  })

  it('does not flag a state left from before the election, nor a history restarted by a Redis that lost its data', () => {
    const checker = new FencingChecker()
    checker.observeRedis(snapshot(1, 'a:1', { s1: [1, 3] }))
    expect(checker.observeRedis(snapshot(2, 'b:1', { s1: [1, 3] })).problems).toEqual([])
    expect(checker.observeRedis(snapshot(1, 'c:1', { s1: [1, 1] }, 'r2')).problems).toEqual([])
  })

  it('keeps the history across a Sentinel failover: two leader tokens for one epoch are flagged', () => {
    const checker = new FencingChecker()
    checker.observeRedis(snapshot(3, 'a:1', { s1: [3, 7] }, 'primary', ['repl-1']))
    // The promoted replica: a new run id, the old replication id as its second one; it lost s1's 3:7.
    const after = checker.observeRedis(snapshot(3, 'b:1', { s1: [3, 6] }, 'replica', ['repl-2', 'repl-1']))
    expect(after.problems).toEqual(['epoch 3 held by two leader tokens: a:1 and b:1'])
    expect(checker.continuedAcrossFailover).toBe(1)
    // A state the failover rolled back to is an old write, not one under a stale epoch; a new one is judged.
    expect(
      checker.observeRedis(snapshot(4, 'b:2', { s1: [3, 7] }, 'replica', ['repl-2', 'repl-1'])).problems,
    ).toEqual([])
    const next = checker.observeRedis(snapshot(4, 'b:2', { s1: [3, 8] }, 'replica', ['repl-2', 'repl-1']))
    expect(next.problems).toEqual([expect.stringMatching(/s1: desired state 3:8 written under epoch 3/)])
  })

  it('starts a new history when the data set is new (a restart that lost it)', () => {
    const checker = new FencingChecker()
    checker.observeRedis(snapshot(3, 'a:1', {}, 'r1', ['repl-1']))
    expect(checker.observeRedis(snapshot(3, 'b:1', {}, 'r2', ['repl-9'])).problems).toEqual([])
  })

  it('flags one epoch held by two leader tokens, and two trackers leading under one epoch', () => {
    const checker = new FencingChecker()
    checker.observeRedis(snapshot(3, 'a:1', {}))
    expect(checker.observeRedis(snapshot(3, 'b:1', {})).problems).toEqual([
      'epoch 3 held by two leader tokens: a:1 and b:1',
    ])
    expect(
      checker.observeRoles([
        { id: 'a', role: 'leader', epoch: 4 },
        { id: 'b', role: 'leader', epoch: 4 },
      ]).problems,
    ).toEqual(['trackers a and b both lead under epoch 4'])
    expect(
      checker.observeRoles([
        { id: 'a', role: 'leader', epoch: 4 },
        { id: 'b', role: 'leader', epoch: 5 },
      ]).problems,
    ).toEqual([])
  })
})

describe('availability and convergence', () => {
  it('needs one node holding [pool height, pool height + window]', () => {
    const nodes = [
      sample({ id: 'a', base: 1, nodeHeight: 120 }),
      sample({ id: 'b', base: 200, nodeHeight: 400 }),
    ]
    expect(poolServed(0, nodes, 100, 500, 30)).toBe(false)
    expect(poolServed(0, nodes, 90, 500, 30)).toBe(true)
    // The window's top is clipped to the chain: a pool at the chain's tip is served by a node at the tip.
    expect(poolServed(0, [sample({ nodeHeight: 119 })], 110, 120, 30)).toBe(true)
  })

  it('asks for ghost far ahead and normal close to the pool', () => {
    const thresholds = { heightDifferenceMax: 60, heightDifferenceMin: 30 }
    expect(unsettled(sample({ nodeHeight: 170, mode: 'normal' }), 100, thresholds)).toMatch(
      /diff 70 but normal/,
    )
    expect(unsettled(sample({ nodeHeight: 110, mode: 'ghost' }), 100, thresholds)).toMatch(
      /diff 10 but ghost/,
    )
    expect(unsettled(sample({ nodeHeight: 145, mode: 'ghost' }), 100, thresholds)).toBeNull()
    expect(unsettled(sample({ activity: 'pruning' }), 100, thresholds)).toMatch(/pruning/)
  })
})

describe('ledger and schedule', () => {
  it('records a violation with the seed and the moment', () => {
    const startedAt = Date.now() - 1_000
    const ledger = new Ledger(7, () => startedAt)
    ledger.check('budget', null)
    ledger.check('budget', 'too many')
    expect(ledger.checks.budget).toBe(2)
    expect(ledger.violations).toEqual([
      expect.objectContaining({ checker: 'budget', seed: 7, detail: 'too many' }),
    ])
    expect(ledger.violations[0]?.atMs).toBeGreaterThanOrEqual(1_000)
  })

  it('plans the same faults for the same seed, inside the fault window', () => {
    const options = {
      seed: 11,
      durationMs: 600_000,
      sidecars: 6,
      pools: 2,
      warmupMs: 20_000,
      quietMs: 60_000,
      gapMs: [5_000, 15_000] as const,
    }
    const plan = planFaults(options)
    expect(planFaults(options)).toEqual(plan)
    expect(planFaults({ ...options, seed: 12 })).not.toEqual(plan)
    expect(plan.length).toBeGreaterThan(20)
    for (const fault of plan) {
      expect(fault.atMs).toBeGreaterThanOrEqual(20_000)
      expect(fault.atMs).toBeLessThanOrEqual(540_000)
    }
  })
})

import type { SidecarReport } from '@ghostfleet/core'
import { parseWith, trackerConfigSchema } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import { describe, expect, it } from 'vitest'
import {
  type AssessInput,
  advanceCommand,
  assessSidecar,
  budgetActivity,
  type Command,
  compareWants,
  planBudget,
  poolThresholds,
  resolvePoolSettings,
  resolveTrackerConfig,
  type Want,
} from '../src/index.js'

const NOW = 1_800_000_000_000
const HOUR = 3_600_000
const TIMING = { commandAckTimeoutMs: 60_000, commandSettleTimeoutMs: 120_000 }
const THRESHOLDS = { heightDifferenceMax: 100, heightDifferenceMin: 50, keepRecent: 150 }

const config = resolveTrackerConfig(
  parseWith(
    trackerConfigSchema,
    { redisUrl: 'redis://127.0.0.1:6379', defaults: { margin: 2, pruningIntervalHours: 24 } },
    'test',
  ),
)

function report(overrides: Partial<SidecarReport> = {}): SidecarReport {
  return {
    v: 1,
    sidecarId: 's1',
    chainId: 'kyve-1',
    poolId: 1,
    mode: 'normal',
    nodeHeight: 1010,
    nodeBase: 1,
    nodeReachable: true,
    catchingUp: false,
    activity: 'serving',
    dataBytes: 0,
    appliedEpoch: 0,
    appliedGeneration: 0,
    lastPrune: null,
    decidedBy: 'tracker',
    version: 'test',
    reportedAt: NOW,
    thresholds: THRESHOLDS,
    ...overrides,
  }
}

function progress(overrides: Partial<PoolFacts> = {}): PoolFacts {
  return {
    poolId: 1,
    poolHeightKey: '1000',
    poolHeight: 1000,
    maxBundleSize: 100,
    uploadInterval: 60,
    fetchedAt: NOW - 1000,
    endpoint: 'http://kyve.test',
    status: 'POOL_STATUS_ACTIVE',
    disabled: false,
    ...overrides,
  }
}

function assess(overrides: Partial<AssessInput> = {}) {
  const pool = overrides.progress === undefined ? progress() : overrides.progress
  return assessSidecar({
    report: report(),
    command: null,
    progress: pool,
    poolThresholds: poolThresholds(pool, {}),
    settings: resolvePoolSettings(config, { chainId: 'kyve-1', poolId: 1 }),
    now: NOW,
    maxPoolAgeMs: 600_000,
    switchRetryAt: 0,
    pruneRetryAt: 0,
    pruneDoneAt: null,
    ...overrides,
  })
}

describe('assessSidecar: modes', () => {
  it('wants ghost at diff ≥ max, normal at diff ≤ min, and nothing in between (hysteresis)', () => {
    // Pruned a moment ago, so a ghost node wants no prune either.
    const pruned = { lastPrune: { height: 1, at: NOW } }
    expect(assess({ report: report({ nodeHeight: 1100 }) }).want).toMatchObject({
      kind: 'switch',
      mode: 'ghost',
    })
    expect(assess({ report: report({ nodeHeight: 1099 }) }).want).toBeNull()
    expect(assess({ report: report({ nodeHeight: 1051, mode: 'ghost', ...pruned }) }).want).toBeNull()
    expect(assess({ report: report({ nodeHeight: 1050, mode: 'ghost', ...pruned }) }).want).toMatchObject({
      kind: 'switch',
      mode: 'normal',
    })
    expect(assess({ report: report({ nodeHeight: 1070, mode: 'normal' }) }).want).toBeNull()
  })

  it('holds when the pool height is unknown, stale, or not a block height', () => {
    const far = report({ nodeHeight: 5000 })
    expect(assess({ report: far, progress: null }).note).toMatch(/not known yet/)
    expect(assess({ report: far, progress: progress({ fetchedAt: NOW - 600_001 }) }).want).toBeNull()
    expect(
      assess({ report: far, progress: progress({ poolHeightKey: '1000/2', poolHeight: null }) }).want,
    ).toBeNull()
  })

  it('sends a ghost node back to normal on a stale pool height the pool could have caught up with', () => {
    // The case: node 11000, pool 10000 seen 6 h ago; the pool can validate 100 blocks a minute.
    const ghost = report({ mode: 'ghost', nodeHeight: 11_000, thresholds: THRESHOLDS })
    const sixHoursOld = progress({ poolHeightKey: '10000', poolHeight: 10_000, fetchedAt: NOW - 6 * HOUR })
    const stale = assess({ report: ghost, progress: sixHoursOld })
    expect(stale.want).toMatchObject({ kind: 'switch', mode: 'normal' })
    expect(stale.note).toMatch(
      /could be at 46000, within 0 blocks of the node \(min 50\): normal, to be safe/,
    )
    // Only just stale (11 min): the pool is at most 1100 blocks further, 1900 behind a node at 13000: ghost holds.
    const justStale = progress({ poolHeightKey: '10000', poolHeight: 10_000, fetchedAt: NOW - 660_000 })
    const held = assess({ report: { ...ghost, nodeHeight: 13_000 }, progress: justStale })
    expect(held.want).toBeNull()
    expect(held.note).toMatch(/660 s old: holding the current mode; .* at most at 11100, 1900 blocks behind/)
    // Not serving, unreachable, or in a retry wait: nothing starts; a normal node is never touched.
    expect(assess({ report: { ...ghost, activity: 'pruning' }, progress: sixHoursOld }).want).toBeNull()
    expect(assess({ report: { ...ghost, nodeReachable: false }, progress: sixHoursOld }).want).toBeNull()
    expect(assess({ report: ghost, progress: sixHoursOld, switchRetryAt: NOW + 1 }).want).toBeNull()
    expect(assess({ report: { ...ghost, mode: 'normal' }, progress: sixHoursOld }).want).toBeNull()
  })

  it('uses the reported thresholds before the pool’s, and the pool’s when none are reported', () => {
    // Pool settings 100/60 give max 288000: without reported thresholds, diff 4000 is far below it.
    expect(assess({ report: report({ nodeHeight: 5000 }) }).want).toMatchObject({ mode: 'ghost' })
    expect(assess({ report: report({ nodeHeight: 5000, thresholds: undefined }) }).want).toBeNull()
  })

  it('does not start anything on a sidecar that is not serving, or during a retry wait', () => {
    const far = { nodeHeight: 1200 }
    expect(assess({ report: report({ ...far, activity: 'restarting' }) }).want).toBeNull()
    expect(assess({ report: report({ ...far, nodeReachable: false }) }).want).toBeNull()
    expect(assess({ report: report(far), switchRetryAt: NOW + 1 }).want).toBeNull()
    expect(assess({ report: report(far), switchRetryAt: NOW }).want).not.toBeNull()
  })
})

describe('assessSidecar: prunes', () => {
  const ghost = (overrides: Partial<SidecarReport> = {}) =>
    report({ mode: 'ghost', nodeHeight: 1080, nodeBase: 500, ...overrides })

  it('prunes a ghost node to min(pool, node) − margin when due', () => {
    expect(assess({ report: ghost() }).want).toMatchObject({
      kind: 'prune',
      height: 998,
      blocks: 498,
      basedOnPoolHeight: 1000,
    })
    expect(
      assess({
        report: ghost({ nodeHeight: 1090 }),
        progress: progress({ poolHeightKey: '1020', poolHeight: 1020 }),
      }).want,
    ).toMatchObject({ height: 1018 })
  })

  it('waits a full pruning interval after the last prune (reported or seen done)', () => {
    const lastPrune = { height: 400, at: NOW - 23 * HOUR }
    expect(assess({ report: ghost({ lastPrune }) }).want).toBeNull()
    expect(assess({ report: ghost({ lastPrune: { height: 400, at: NOW - 24 * HOUR } }) }).want).toMatchObject(
      { kind: 'prune' },
    )
    expect(assess({ report: ghost(), pruneDoneAt: NOW - HOUR }).want).toBeNull()
    expect(assess({ report: ghost(), pruneRetryAt: NOW + 1 }).want).toBeNull()
  })

  it('never prunes in normal mode, behind the pool, or not above the base', () => {
    expect(assess({ report: report({ nodeHeight: 1060, nodeBase: 500 }) }).want).toBeNull()
    expect(assess({ report: ghost({ nodeHeight: 990 }) }).want).toMatchObject({
      kind: 'switch',
      mode: 'normal',
    })
    expect(assess({ report: ghost({ nodeBase: 998 }) }).note).toMatch(/not above the node's base/)
  })
})

describe('assessSidecar: a pending command', () => {
  const pendingPrune = (overrides: Partial<Command> = {}): Command =>
    ({
      kind: 'prune',
      height: 997,
      basedOnPoolHeight: 1000,
      poolFetchedAt: NOW - 1000,
      issuedAt: NOW - 5000,
      token: { epoch: 2, generation: 5 },
      pickedUpAt: null,
      reason: 'prune to 997',
      ...overrides,
    }) as Command
  // A ghost node the pool caught up with: diff 40 ≤ min 50.
  const caughtUp = report({ mode: 'ghost', nodeHeight: 1040, appliedEpoch: 2, appliedGeneration: 5 })

  it('lets a return to normal supersede a prune the sidecar is not running (pending or refused)', () => {
    for (const command of [pendingPrune(), pendingPrune({ pickedUpAt: NOW - 4000 })]) {
      const assessment = assess({ report: caughtUp, command })
      expect(assessment.want).toMatchObject({ kind: 'switch', mode: 'normal' })
      expect(assessment.note).toMatch(/supersedes the pending prune to 997/)
    }
    // On a stale pool height too, when the pool could have caught up (the stale-pool valve).
    const sixHoursOld = progress({ poolHeightKey: '10000', poolHeight: 10_000, fetchedAt: NOW - 6 * HOUR })
    expect(
      assess({ report: { ...caughtUp, nodeHeight: 11_000 }, command: pendingPrune(), progress: sixHoursOld })
        .want,
    ).toMatchObject({ kind: 'switch', mode: 'normal' })
  })

  it('keeps a pending prune when the node stays ghost, and anything the sidecar is running', () => {
    const prune = pendingPrune()
    // Diff 70: between the thresholds, ghost holds, and so does the prune.
    const holding = assess({ report: { ...caughtUp, nodeHeight: 1070 }, command: prune })
    expect(holding.want).toBeNull()
    expect(holding.note).toBe('in progress: prune to 997')
    // The sidecar reports the prune running (or its node down): it finishes before anything else.
    expect(assess({ report: { ...caughtUp, activity: 'pruning' }, command: prune }).want).toBeNull()
    expect(assess({ report: { ...caughtUp, nodeReachable: false }, command: prune }).want).toBeNull()
    // A retry wait after a withdrawn switch still applies.
    expect(assess({ report: caughtUp, command: prune, switchRetryAt: NOW + 1 }).want).toBeNull()
    // A pending switch is never replaced.
    const toGhost: Command = { ...pendingPrune(), kind: 'switch', mode: 'ghost' } as Command
    expect(assess({ report: caughtUp, command: toGhost }).want).toBeNull()
  })
})

describe('advanceCommand', () => {
  const prune = (overrides: Partial<Command> = {}): Command =>
    ({
      kind: 'prune',
      height: 998,
      basedOnPoolHeight: 1000,
      poolFetchedAt: NOW,
      issuedAt: NOW,
      token: { epoch: 3, generation: 7 },
      pickedUpAt: null,
      reason: 'test',
      ...overrides,
    }) as Command
  const toGhost = (): Command => ({
    kind: 'switch',
    mode: 'ghost',
    issuedAt: NOW,
    token: { epoch: 3, generation: 7 },
    pickedUpAt: null,
    reason: 'test',
  })

  it('is done when the report shows the effect', () => {
    expect(advanceCommand(prune(), report({ lastPrune: { height: 998, at: NOW } }), NOW, TIMING).state).toBe(
      'done',
    )
    expect(advanceCommand(prune(), report({ nodeBase: 998 }), NOW, TIMING).state).toBe('done')
    expect(advanceCommand(prune(), report({ lastPrune: { height: 997, at: NOW } }), NOW, TIMING).state).toBe(
      'pending',
    )
    expect(advanceCommand(toGhost(), report({ mode: 'ghost' }), NOW, TIMING).state).toBe('done')
    expect(
      advanceCommand(toGhost(), report({ mode: 'ghost', activity: 'restarting' }), NOW, TIMING).state,
    ).toBe('pending')
  })

  it('times out when the sidecar never picks it up', () => {
    expect(advanceCommand(toGhost(), report(), NOW + 60_000, TIMING).state).toBe('pending')
    expect(advanceCommand(toGhost(), report(), NOW + 60_001, TIMING)).toMatchObject({
      state: 'withdrawn',
      outcome: 'timeout',
    })
  })

  it('counts as refused when picked up (token applied) but serving without effect past the settle time', () => {
    const command = prune()
    const applied = report({ mode: 'ghost', appliedEpoch: 3, appliedGeneration: 7 })
    expect(advanceCommand(command, applied, NOW + 1000, TIMING).state).toBe('pending')
    expect(command.pickedUpAt).toBe(NOW + 1000)
    expect(advanceCommand(command, applied, NOW + 121_000, TIMING).state).toBe('pending')
    expect(advanceCommand(command, applied, NOW + 121_001, TIMING)).toMatchObject({ outcome: 'refused' })
    // A later epoch counts as applied too.
    const later = prune()
    advanceCommand(later, report({ appliedEpoch: 4, appliedGeneration: 1 }), NOW, TIMING)
    expect(later.pickedUpAt).toBe(NOW)
  })

  it('never times out while the sidecar is busy, or silent', () => {
    const command = prune()
    expect(advanceCommand(command, report({ activity: 'pruning' }), NOW + 10 * HOUR, TIMING).state).toBe(
      'pending',
    )
    expect(advanceCommand(command, report({ activity: 'pruning' }), NOW + 20 * HOUR, TIMING).state).toBe(
      'pending',
    )
    expect(advanceCommand(prune(), null, NOW + 20 * HOUR, TIMING).state).toBe('pending')
  })
})

describe('budget', () => {
  it('counts silent, busy, unreachable and commanded sidecars as unavailable', () => {
    const command = { kind: 'prune' } as Command
    expect(budgetActivity(report(), false, null)).toBe('serving')
    expect(budgetActivity(report(), true, null)).toBe('unknown')
    expect(budgetActivity(report({ activity: 'restarting' }), false, null)).toBe('restarting')
    expect(budgetActivity(report({ nodeReachable: false }), false, null)).toBe('unknown')
    expect(budgetActivity(report(), false, command)).toBe('pruning')
  })

  it('lets at most maxUnavailable start, counting those already down', () => {
    expect(planBudget(new Map(), ['a', 'b', 'c'], 2).allowed).toEqual(['a', 'b'])
    expect(planBudget(new Map([['x', 'unknown']]), ['a', 'b'], 2).allowed).toEqual(['a'])
    expect(planBudget(new Map([['x', 'pruning']]), ['a'], 1).allowed).toEqual([])
  })

  it('orders returns to normal first, then switches to ghost, then the longest-unpruned prunes', () => {
    const wants: Array<{ id: string; want: Want }> = [
      {
        id: 'p-new',
        want: {
          kind: 'prune',
          height: 1,
          blocks: 10,
          basedOnPoolHeight: 2,
          poolFetchedAt: 0,
          reason: '',
          lastPruneAt: 5,
        },
      },
      {
        id: 'p-old',
        want: {
          kind: 'prune',
          height: 1,
          blocks: 10,
          basedOnPoolHeight: 2,
          poolFetchedAt: 0,
          reason: '',
          lastPruneAt: null,
        },
      },
      { id: 'ghost', want: { kind: 'switch', mode: 'ghost', reason: '', urgency: 5 } },
      { id: 'normal', want: { kind: 'switch', mode: 'normal', reason: '', urgency: 1 } },
    ]
    expect([...wants].sort(compareWants).map((w) => w.id)).toEqual(['normal', 'ghost', 'p-old', 'p-new'])
  })
})

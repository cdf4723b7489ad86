import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type PruneInput, parseHeightKey, safePruneHeight } from '../src/index.js'

const NOW = 1_750_000_000_000
const MAX_AGE = 600_000

function input(patch: Partial<PruneInput> = {}): PruneInput {
  return {
    pool: { height: '1000000', fetchedAt: NOW - 5_000 },
    now: NOW,
    maxPoolAgeMs: MAX_AGE,
    nodeHeight: 1_010_000,
    nodeBase: 900_000,
    margin: 1,
    ...patch,
  }
}

function refusal(patch: Partial<PruneInput>) {
  const decision = safePruneHeight(input(patch))
  if (decision.prune) throw new Error(`expected a refusal, got prune to ${decision.height}`)
  return decision
}

describe('safePruneHeight: examples', () => {
  it('prunes to min(pool, node) − margin, keeping that height', () => {
    expect(safePruneHeight(input())).toEqual({ prune: true, height: 999_999, blocks: 99_999 })
    expect(safePruneHeight(input({ margin: 100 }))).toEqual({ prune: true, height: 999_900, blocks: 99_900 })
  })

  it('prunes when the node is exactly at the pool height', () => {
    expect(safePruneHeight(input({ nodeHeight: 1_000_000 }))).toEqual({
      prune: true,
      height: 999_999,
      blocks: 99_999,
    })
  })

  it('treats base 0 on a node with blocks as base 1, as CometBFT loads it', () => {
    expect(safePruneHeight(input({ nodeBase: 0, pool: { height: '3', fetchedAt: NOW } }))).toEqual({
      prune: true,
      height: 2,
      blocks: 1,
    })
    expect(refusal({ nodeBase: 0, pool: { height: '2', fetchedAt: NOW } }).reason).toBe('nothing-to-prune')
  })

  it('accepts a pool height fetched exactly at the staleness limit, or slightly in the future (clock skew)', () => {
    expect(safePruneHeight(input({ pool: { height: '1000000', fetchedAt: NOW - MAX_AGE } })).prune).toBe(true)
    expect(safePruneHeight(input({ pool: { height: '1000000', fetchedAt: NOW + 2_000 } })).prune).toBe(true)
  })

  it('refuses when the pool height is unknown', () => {
    const unknown = refusal({ pool: { height: null, fetchedAt: NOW } })
    expect(unknown).toEqual({
      prune: false,
      reason: 'pool-height-unknown',
      detail: 'the pool height is unknown (no current_key or start_key yet)',
    })
    expect(refusal({ pool: { height: '', fetchedAt: NOW } }).reason).toBe('pool-height-unknown')
  })

  it('refuses when the pool height is stale, of unknown age, or stamped far in the future', () => {
    const old = refusal({ pool: { height: '1000000', fetchedAt: NOW - MAX_AGE - 1 } })
    expect(old.reason).toBe('pool-height-stale')
    expect(old.detail).toBe('pool height 1000000 was fetched 600001 ms ago, more than the 600000 ms limit')
    expect(refusal({ pool: { height: '1000000', fetchedAt: null } })).toEqual({
      prune: false,
      reason: 'pool-height-stale',
      detail: 'pool height 1000000 has no fetch time, so it cannot be trusted',
    })
    const future = refusal({ pool: { height: '1000000', fetchedAt: NOW + MAX_AGE + 1 } })
    expect(future.reason).toBe('pool-height-stale')
    expect(future.detail).toContain('in the future')
  })

  it.each(['1000000/3', '12a', '-5', '007', ' 1000000', '1e6', '9007199254740993'])(
    'refuses the non-integer pool key %j',
    (key) => {
      const decision = refusal({ pool: { height: key, fetchedAt: NOW } })
      expect(decision.reason).toBe('pool-key-not-integer')
      expect(decision.detail).toContain(JSON.stringify(key))
    },
  )

  it('refuses while the node is behind the pool', () => {
    expect(refusal({ nodeHeight: 999_999 })).toEqual({
      prune: false,
      reason: 'node-behind-pool',
      detail: 'node height 999999 is behind pool height 1000000; prune once the node is ahead of the pool',
    })
  })

  it('refuses when the prune height would not be above the base', () => {
    const atBase = refusal({ nodeBase: 999_999 })
    expect(atBase).toEqual({
      prune: false,
      reason: 'nothing-to-prune',
      detail:
        "prune height 999999 (min(pool 1000000, node 1010000) − margin 1) is not above the node's base 999999",
    })
    expect(refusal({ nodeBase: 1_000_000 }).reason).toBe('nothing-to-prune')
    expect(refusal({ margin: 1_000_000 }).reason).toBe('nothing-to-prune')
    expect(refusal({ pool: { height: '0', fetchedAt: NOW }, nodeHeight: 0, nodeBase: 0 }).reason).toBe(
      'nothing-to-prune',
    )
  })

  it.each<[string, Partial<PruneInput>, string]>([
    ['margin 0', { margin: 0 }, 'margin must be an integer ≥ 1, got 0'],
    ['fractional margin', { margin: 1.5 }, 'margin must be an integer ≥ 1, got 1.5'],
    ['negative node height', { nodeHeight: -1 }, 'nodeHeight must be an integer ≥ 0, got -1'],
    ['NaN node height', { nodeHeight: Number.NaN }, 'nodeHeight must be an integer ≥ 0, got NaN'],
    ['fractional node height', { nodeHeight: 1_010_000.5 }, 'nodeHeight must be an integer ≥ 0'],
    ['unsafe node height', { nodeHeight: 2 ** 53 }, 'nodeHeight must be an integer ≥ 0'],
    ['negative base', { nodeBase: -1 }, 'nodeBase must be an integer ≥ 0, got -1'],
    ['base above height', { nodeBase: 1_010_001 }, 'nodeBase 1010001 is above nodeHeight 1010000'],
    ['NaN now', { now: Number.NaN }, 'now must be epoch milliseconds, got NaN'],
    ['zero max age', { maxPoolAgeMs: 0 }, 'maxPoolAgeMs must be a number > 0, got 0'],
    ['NaN max age', { maxPoolAgeMs: Number.NaN }, 'maxPoolAgeMs must be a number > 0, got NaN'],
    ['NaN fetchedAt', { pool: { height: '1000000', fetchedAt: Number.NaN } }, 'pool.fetchedAt must be epoch'],
    [
      'numeric pool height',
      { pool: { height: 1000000 as never, fetchedAt: NOW } },
      'pool.height must be a key',
    ],
    [
      'string node height',
      { nodeHeight: '1010000' as never },
      'nodeHeight must be an integer ≥ 0, got "1010000"',
    ],
  ])('refuses invalid input: %s', (_name, patch, detail) => {
    const decision = refusal(patch)
    expect(decision.reason).toBe('invalid-input')
    expect(decision.detail).toContain(detail)
  })

  it('refuses a missing pool object instead of throwing', () => {
    expect(safePruneHeight({ ...input(), pool: undefined as never })).toMatchObject({
      reason: 'invalid-input',
    })
    expect(safePruneHeight(null as never)).toMatchObject({ reason: 'invalid-input' })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Properties. The generators mix valid and broken values so every branch is hit thousands of times.

const height = fc.oneof(fc.nat({ max: 2_000 }), fc.nat({ max: 50_000_000 }), fc.maxSafeNat())
const poolKey = fc.oneof(
  { weight: 6, arbitrary: height.map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, '', '007', '-5', '12a', ' 5', '1e3', '5.0', '9007199254740993'),
  },
  { weight: 1, arbitrary: fc.tuple(height, fc.nat({ max: 20 })).map(([h, chunk]) => `${h}/${chunk}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
)
const age = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_AGE }) },
  { weight: 1, arbitrary: fc.integer({ min: -2 * MAX_AGE, max: 3 * MAX_AGE }) },
)
const badNumber = fc.constantFrom(-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53)
const maybeBad = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 20, arbitrary: good }, { weight: 1, arbitrary: badNumber as fc.Arbitrary<number> })

const pruneInput: fc.Arbitrary<PruneInput> = fc
  .record({
    key: poolKey,
    age: fc.option(age, { freq: 12 }),
    nodeHeight: maybeBad(height),
    baseBelow: maybeBad(
      fc.oneof({ weight: 1, arbitrary: fc.nat({ max: 100 }) }, { weight: 4, arbitrary: height }),
    ),
    margin: maybeBad(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1_000_000 }))),
    nodeAhead: fc.boolean(),
  })
  .map(({ key, age, nodeHeight, baseBelow, margin, nodeAhead }) => {
    // Half the time put the node at or above the pool, so the prune branch is reached often.
    const pool = key === null ? null : parseHeightKey(key)
    const node =
      nodeAhead && pool !== null && Number.isSafeInteger(nodeHeight)
        ? pool + (nodeHeight % 100_000)
        : nodeHeight
    const base =
      Number.isSafeInteger(node) && Number.isSafeInteger(baseBelow)
        ? Math.max(0, node - baseBelow)
        : baseBelow
    return {
      pool: { height: key, fetchedAt: age === null ? null : NOW - age },
      now: NOW,
      maxPoolAgeMs: MAX_AGE,
      nodeHeight: Number.isSafeInteger(node) ? node : nodeHeight,
      nodeBase: base,
      margin,
    }
  })

function isFresh(fetchedAt: number | null): boolean {
  return fetchedAt !== null && Math.abs(NOW - fetchedAt) <= MAX_AGE
}

describe('safePruneHeight: properties', () => {
  it('never prunes above min(pool, node) − margin, never to or below the base, never below 1', () => {
    fc.assert(
      fc.property(pruneInput, (inp) => {
        const decision = safePruneHeight(inp)
        if (!decision.prune) return
        const pool = parseHeightKey(inp.pool.height ?? '')
        expect(pool).not.toBeNull()
        expect(decision.height).toBeLessThanOrEqual(Math.min(pool!, inp.nodeHeight) - inp.margin)
        expect(decision.height).toBeGreaterThan(inp.nodeBase)
        expect(decision.height).toBeGreaterThanOrEqual(1)
        expect(decision.blocks).toBeGreaterThan(0)
        expect(decision.blocks).toBe(decision.height - Math.max(inp.nodeBase, 1))
      }),
      { numRuns: 10_000 },
    )
  })

  it('never prunes while the pool height is unknown, stale, or not an integer key', () => {
    fc.assert(
      fc.property(pruneInput, (inp) => {
        const decision = safePruneHeight(inp)
        const key = inp.pool.height
        if (key === null || key === '' || parseHeightKey(key) === null || !isFresh(inp.pool.fetchedAt)) {
          expect(decision.prune).toBe(false)
        }
        if (!decision.prune && decision.reason !== 'invalid-input') {
          if (key === null || key === '') expect(decision.reason).toBe('pool-height-unknown')
          else if (parseHeightKey(key) === null) expect(decision.reason).toBe('pool-key-not-integer')
          else if (!isFresh(inp.pool.fetchedAt)) expect(decision.reason).toBe('pool-height-stale')
        }
      }),
      { numRuns: 10_000 },
    )
  })

  it('never prunes on invalid numbers, and never throws', () => {
    fc.assert(
      fc.property(pruneInput, (inp) => {
        const decision = safePruneHeight(inp)
        const valid =
          Number.isSafeInteger(inp.nodeHeight) &&
          inp.nodeHeight >= 0 &&
          Number.isSafeInteger(inp.nodeBase) &&
          inp.nodeBase >= 0 &&
          inp.nodeBase <= inp.nodeHeight &&
          Number.isSafeInteger(inp.margin) &&
          inp.margin >= 1
        if (!valid) expect(decision).toMatchObject({ prune: false, reason: 'invalid-input' })
      }),
      { numRuns: 10_000 },
    )
  })

  it('prunes exactly to min(pool, node) − margin whenever every check passes', () => {
    // Without this, a function that always refused would satisfy every safety property above.
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000_000 }),
        fc.nat({ max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.nat({ max: 10_000_000 }),
        fc.integer({ min: -MAX_AGE, max: MAX_AGE }),
        (pool, ahead, margin, below, skew) => {
          const node = pool + ahead
          const base = Math.max(0, Math.min(node, pool - margin - 1 - (below % (pool + 1))))
          const expected = pool - margin
          fc.pre(expected > Math.max(base, node > 0 ? 1 : 0))
          const decision = safePruneHeight({
            pool: { height: String(pool), fetchedAt: NOW - skew },
            now: NOW,
            maxPoolAgeMs: MAX_AGE,
            nodeHeight: node,
            nodeBase: base,
            margin,
          })
          expect(decision).toEqual({ prune: true, height: expected, blocks: expected - Math.max(base, 1) })
        },
      ),
      { numRuns: 5000 },
    )
  })
})

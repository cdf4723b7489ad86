import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computeThresholds, ThresholdsError } from '../src/index.js'

function thrown(fn: () => unknown): ThresholdsError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ThresholdsError)
    return error as ThresholdsError
  }
  throw new Error('expected a ThresholdsError, nothing was thrown')
}

describe('computeThresholds', () => {
  it('gives two days of bundles as max, half of it as min and three days as keepRecent', () => {
    expect(computeThresholds({ maxBundleSize: 20, uploadInterval: 300 })).toEqual({
      heightDifferenceMax: 11520,
      heightDifferenceMin: 5760,
      keepRecent: 17280,
    })
    // An Osmosis-like pool: 100 blocks every 60 s.
    expect(computeThresholds({ maxBundleSize: 100, uploadInterval: 60 })).toEqual({
      heightDifferenceMax: 288000,
      heightDifferenceMin: 144000,
      keepRecent: 432000,
    })
  })

  it('truncates an odd max when halving it (Go integer division)', () => {
    // 49 / 768 × 86400 × 2 = 11025 exactly; 11025 / 2 = 5512 in Go.
    expect(computeThresholds({ maxBundleSize: 49, uploadInterval: 768 }).heightDifferenceMin).toBe(5512)
  })

  it('evaluates the float expression in the same order as supervysor, not in exact arithmetic', () => {
    // In exact arithmetic 49 / 768 × 86400 × 3 = 16537.5 → 16538. Go computes
    // ((((49.0 / 768) * 60) * 60) * 24) * 3 = 16537.499999999996 → 16537. We must agree with Go.
    expect(computeThresholds({ maxBundleSize: 49, uploadInterval: 768 })).toEqual({
      heightDifferenceMax: 11025,
      heightDifferenceMin: 5512,
      keepRecent: 16537,
    })
    expect(computeThresholds({ maxBundleSize: 101, uploadInterval: 768 }).keepRecent).toBe(34087)
    expect(computeThresholds({ maxBundleSize: 193, uploadInterval: 768 }).keepRecent).toBe(65137)
  })

  it('rounds an exact half away from zero (Go math.Round), not to even', () => {
    // 5 / 345600 × 172800 = 2.5 exactly → 3 (banker's rounding would give 2); × 259200 = 3.75 → 4.
    expect(computeThresholds({ maxBundleSize: 5, uploadInterval: 345600 })).toEqual({
      heightDifferenceMax: 3,
      heightDifferenceMin: 1,
      keepRecent: 4,
    })
  })

  it('keeps min below max and keepRecent at or above max for every realistic pool', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 86_400 }),
        (size, interval) => {
          const perDay = (size / interval) * 86400
          fc.pre(perDay >= 2) // fewer blocks than that give min = 0, which is refused (tested below)
          const t = computeThresholds({ maxBundleSize: size, uploadInterval: interval })
          expect(t.heightDifferenceMin).toBe(Math.floor(t.heightDifferenceMax / 2))
          expect(t.heightDifferenceMin).toBeGreaterThan(0)
          expect(t.heightDifferenceMin).toBeLessThan(t.heightDifferenceMax)
          expect(t.keepRecent).toBeGreaterThanOrEqual(t.heightDifferenceMax)
          expect(Math.abs(t.heightDifferenceMax - perDay * 2)).toBeLessThanOrEqual(0.5 + 1e-6)
          expect(Math.abs(t.keepRecent - perDay * 3)).toBeLessThanOrEqual(0.5 + 1e-6)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it.each([
    ['upload_interval', { maxBundleSize: 20, uploadInterval: 0 }, 'number of seconds, got 0'],
    ['upload_interval', { maxBundleSize: 20, uploadInterval: -60 }, 'number of seconds, got -60'],
    ['upload_interval', { maxBundleSize: 20, uploadInterval: 1.5 }, 'number of seconds, got 1.5'],
    ['upload_interval', { maxBundleSize: 20, uploadInterval: Number.NaN }, 'number of seconds, got NaN'],
    [
      'upload_interval',
      { maxBundleSize: 20, uploadInterval: Number.POSITIVE_INFINITY },
      'number of seconds, got Infinity',
    ],
    ['upload_interval', { maxBundleSize: 20, uploadInterval: '60' }, 'number of seconds, got "60"'],
    ['max_bundle_size', { maxBundleSize: 0, uploadInterval: 60 }, 'number of blocks, got 0'],
    ['max_bundle_size', { maxBundleSize: null, uploadInterval: 60 }, 'number of blocks, got null'],
    ['max_bundle_size', { maxBundleSize: 'abc', uploadInterval: 60 }, 'number of blocks, got "abc"'],
    ['max_bundle_size', { uploadInterval: 60 }, 'number of blocks, got nothing'],
  ])('rejects a bad %s: %o', (name, settings, expected) => {
    const error = thrown(() => computeThresholds(settings as never))
    expect(error.message).toContain(`${name} must be a positive integer ${expected}`)
  })

  it('words the upload_interval error exactly as operators will see it', () => {
    expect(thrown(() => computeThresholds({ maxBundleSize: 20, uploadInterval: 0 })).message).toBe(
      'upload_interval must be a positive integer number of seconds, got 0',
    )
  })

  it('reports both bad settings at once', () => {
    const error = thrown(() => computeThresholds({ maxBundleSize: -1, uploadInterval: 0 }))
    expect(error.problems).toHaveLength(2)
  })

  it('refuses settings that give no usable thresholds, naming the pool settings', () => {
    // 1 block per 4 days: max = round(0.5) = 1, so min = 0.
    const error = thrown(() => computeThresholds({ maxBundleSize: 1, uploadInterval: 345600 }))
    expect(error.message).toContain('heightDifferenceMin must be a positive integer number of blocks, got 0')
    expect(error.message).toContain('computed from the pool settings')
    expect(error.message).toContain('max_bundle_size 1, upload_interval 345600')
  })

  it('refuses settings whose thresholds overflow the safe integer range', () => {
    const error = thrown(() =>
      computeThresholds({ maxBundleSize: Number.MAX_SAFE_INTEGER, uploadInterval: 1 }),
    )
    expect(error.message).toContain('heightDifferenceMax must be a positive integer number of blocks')
  })

  it('lets operator overrides win', () => {
    const settings = { maxBundleSize: 20, uploadInterval: 300 }
    expect(computeThresholds(settings, { heightDifferenceMax: 15000 })).toEqual({
      heightDifferenceMax: 15000,
      heightDifferenceMin: 5760,
      keepRecent: 17280,
    })
    expect(
      computeThresholds(settings, { heightDifferenceMax: 100, heightDifferenceMin: 10, keepRecent: 100 }),
    ).toEqual({ heightDifferenceMax: 100, heightDifferenceMin: 10, keepRecent: 100 })
  })

  it('checks the merged set, and says which value is an override', () => {
    const settings = { maxBundleSize: 20, uploadInterval: 300 }
    expect(computeThresholds(settings, { heightDifferenceMax: 15000, keepRecent: 30000 })).toEqual({
      heightDifferenceMax: 15000,
      heightDifferenceMin: 5760,
      keepRecent: 30000,
    })
    expect(computeThresholds(settings, { heightDifferenceMin: 1 }).heightDifferenceMin).toBe(1)

    const minAboveMax = thrown(() => computeThresholds(settings, { heightDifferenceMin: 11520 }))
    expect(minAboveMax.message).toContain(
      'heightDifferenceMin (11520, override) must be less than heightDifferenceMax (11520, computed from the pool settings)',
    )
    const keepTooShort = thrown(() => computeThresholds(settings, { keepRecent: 11519 }))
    expect(keepTooShort.message).toContain(
      'keepRecent (11519, override) must be at least heightDifferenceMax (11520, computed from the pool settings)',
    )
    // Overriding max upward without keepRecent leaves the computed keepRecent too short.
    const maxAboveKeep = thrown(() => computeThresholds(settings, { heightDifferenceMax: 20000 }))
    expect(maxAboveKeep.message).toContain(
      'keepRecent (17280, computed from the pool settings) must be at least',
    )
  })

  it.each([
    [
      { heightDifferenceMin: 0 },
      'heightDifferenceMin must be a positive integer number of blocks, got 0 (override)',
    ],
    [{ keepRecent: -5 }, 'keepRecent must be a positive integer number of blocks, got -5 (override)'],
    [
      { heightDifferenceMax: 1.5 },
      'heightDifferenceMax must be a positive integer number of blocks, got 1.5',
    ],
    [
      { heightDifferenceMax: Number.NaN },
      'heightDifferenceMax must be a positive integer number of blocks, got NaN',
    ],
    [{ keepRecent: '100' }, 'keepRecent must be a positive integer number of blocks, got "100" (override)'],
  ])('rejects the override %o', (overrides, expected) => {
    const error = thrown(() =>
      computeThresholds({ maxBundleSize: 20, uploadInterval: 300 }, overrides as never),
    )
    expect(error.message).toContain(expected)
  })

  it('lets overrides rescue a pool whose computed thresholds are unusable', () => {
    const overrides = { heightDifferenceMin: 1, heightDifferenceMax: 4, keepRecent: 6 }
    expect(computeThresholds({ maxBundleSize: 1, uploadInterval: 345600 }, overrides)).toEqual({
      heightDifferenceMax: 4,
      heightDifferenceMin: 1,
      keepRecent: 6,
    })
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF, InvalidOptionsError } from '../src/index.js'

describe('backoffDelay', () => {
  const options = { initialMs: 500, maxMs: 30_000 }

  it('grows exponentially from initialMs (random just below 1 gives the ceiling)', () => {
    const top = () => 0.999_999
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, options, top))).toEqual([
      499, 999, 1999, 3999, 7999, 15_999,
    ])
  })

  it('is capped at maxMs, also for huge attempts where 2^n overflows', () => {
    const top = () => 0.999_999
    expect(backoffDelay(6, options, top)).toBe(29_999)
    expect(backoffDelay(60, options, top)).toBe(29_999)
    expect(backoffDelay(5000, options, top)).toBe(29_999)
  })

  it('is full jitter: the random number scales the whole window', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0)
    expect(backoffDelay(3, options, () => 0.25)).toBe(1000)
    expect(backoffDelay(3, options, () => 0.5)).toBe(2000)
  })

  it('stays in [0, min(maxMs, initialMs * 2^attempt)) for any random value (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (attempt, r, initialMs, extra) => {
          const maxMs = initialMs + extra
          const delay = backoffDelay(attempt, { initialMs, maxMs }, () => r)
          return (
            delay >= 0 && delay < Math.max(1, Math.min(maxMs, initialMs * 2 ** attempt)) && delay <= maxMs
          )
        },
      ),
    )
  })

  it('defaults to 500 ms initial and a 30 s cap', () => {
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 500, maxMs: 30_000 })
  })

  it('rejects a random source outside [0, 1) and unusable options', () => {
    expect(() => backoffDelay(0, options, () => 1)).toThrow(InvalidOptionsError)
    expect(() => backoffDelay(0, options, () => -0.1)).toThrow(InvalidOptionsError)
    expect(() => backoffDelay(0, options, () => Number.NaN)).toThrow(InvalidOptionsError)
    expect(() => backoffDelay(-1, options, () => 0)).toThrow(InvalidOptionsError)
    expect(() => backoffDelay(0, { initialMs: 0, maxMs: 10 }, () => 0)).toThrow(InvalidOptionsError)
    expect(() => backoffDelay(0, { initialMs: 100, maxMs: 10 }, () => 0)).toThrow(InvalidOptionsError)
  })
})

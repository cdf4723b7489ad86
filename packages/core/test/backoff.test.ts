import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../src/index.js'

describe('backoffDelay', () => {
  it('doubles from initialMs to the cap without jitter', () => {
    const curve = { initialMs: 10, maxMs: 100 }
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, curve))).toEqual([
      10, 20, 40, 80, 100, 100,
    ])
    expect(backoffDelay(5000, curve)).toBe(100)
    expect(backoffDelay(5000, { initialMs: 0, maxMs: 100 })).toBe(0)
  })

  it('grows by the factor and never drops below minMs', () => {
    const curve = { initialMs: 1, factor: 10, minMs: 50, maxMs: 5000 }
    expect([0, 1, 2, 3, 4].map((attempt) => backoffDelay(attempt, curve))).toEqual([50, 50, 100, 1000, 5000])
  })

  it('full jitter is uniform in [0, delay), equal jitter in [delay/2, delay]', () => {
    const full = { initialMs: 1000, maxMs: 1000, jitter: 'full' } as const
    expect(backoffDelay(0, full, () => 0)).toBe(0)
    expect(backoffDelay(0, full, () => 0.5)).toBe(500)
    expect(backoffDelay(0, full, () => 0.999999)).toBe(999)
    const equal = { initialMs: 1000, maxMs: 1000, jitter: 'equal' } as const
    expect(backoffDelay(0, equal, () => 0)).toBe(500)
    expect(backoffDelay(0, equal, () => 0.5)).toBe(750)
    expect(backoffDelay(0, equal, () => 0.999999)).toBe(999)
  })
})

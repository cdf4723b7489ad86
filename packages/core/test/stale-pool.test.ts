import { describe, expect, it } from 'vitest'
import { projectStalePool, type StalePoolInput, StalePoolInputError } from '../src/index.js'

const HOUR = 3_600_000
// 100 blocks per 60 s: the pool validates at most 5/3 blocks a second.
const input: StalePoolInput = {
  mode: 'ghost',
  nodeHeight: 11_000,
  poolHeight: 10_000,
  poolAgeMs: 6 * HOUR,
  maxBundleSize: 100,
  uploadInterval: 60,
  heightDifferenceMin: 500,
}

describe('projectStalePool', () => {
  it('sends a ghost node back to normal when the pool could have caught up (node 11000, pool 10000 seen 6 h ago)', () => {
    expect(projectStalePool(input)).toEqual({
      returnToNormal: true,
      projectedPoolHeight: 46_000,
      projectedDiff: -35_000,
      reason:
        'the last pool height (10000) is 21600 s old; advancing at its fastest the pool could be at 46000, ' +
        'within 0 blocks of the node (min 500): normal, to be safe',
    })
  })

  it('holds ghost while even the fastest pool stays far enough behind', () => {
    // 60 s at 5/3 blocks/s: at most 100 blocks, so the pool is at most at 10100, 900 behind the node.
    const verdict = projectStalePool({ ...input, poolAgeMs: 60_000 })
    expect(verdict).toMatchObject({ returnToNormal: false, projectedPoolHeight: 10_100, projectedDiff: 900 })
    expect(verdict.reason).toMatch(/at most at 10100, 900 blocks behind the node \(min 500\)/)
  })

  it('returns exactly at the threshold (diff ≤ min is normal, as in the hysteresis)', () => {
    // 500 blocks behind the node = pool at 10500 = 300 s at 5/3 blocks/s.
    expect(projectStalePool({ ...input, poolAgeMs: 300_000 }).returnToNormal).toBe(true)
    expect(projectStalePool({ ...input, poolAgeMs: 299_000 }).returnToNormal).toBe(false)
  })

  it('never changes a normal node (it syncs anyway)', () => {
    expect(projectStalePool({ ...input, mode: 'normal' }).returnToNormal).toBe(false)
  })

  it.each([
    ['a negative node height', { nodeHeight: -1 }, /nodeHeight must be an integer ≥ 0/],
    ['a fractional pool height', { poolHeight: 1.5 }, /poolHeight must be an integer ≥ 0/],
    ['a zero upload interval', { uploadInterval: 0 }, /uploadInterval must be a number > 0/],
    ['an infinite age', { poolAgeMs: Number.POSITIVE_INFINITY }, /poolAgeMs must be a finite number/],
  ])('refuses %s', (_what, patch, message) => {
    expect(() => projectStalePool({ ...input, ...patch })).toThrow(StalePoolInputError)
    expect(() => projectStalePool({ ...input, ...patch })).toThrow(message)
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decideMode, ModeInputError, type NodeMode, type Thresholds } from '../src/index.js'

const thresholds: Thresholds = { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 }
const POOL = 1_000_000

function decide(diff: number, currentMode: NodeMode) {
  return decideMode({ nodeHeight: POOL + diff, poolHeight: POOL, currentMode, thresholds })
}

describe('decideMode', () => {
  it('enters ghost mode at diff ≥ max, from either mode', () => {
    expect(decide(11520, 'normal')).toEqual({
      mode: 'ghost',
      changed: true,
      diff: 11520,
      reason: 'node is 11520 blocks ahead of the pool (max 11520): ghost',
    })
    expect(decide(12000, 'normal').reason).toBe('node is 12000 blocks ahead of the pool (max 11520): ghost')
    expect(decide(12000, 'ghost')).toMatchObject({ mode: 'ghost', changed: false })
  })

  it('returns to normal mode at diff ≤ min, from either mode', () => {
    expect(decide(5760, 'ghost')).toEqual({
      mode: 'normal',
      changed: true,
      diff: 5760,
      reason: 'node is 5760 blocks ahead of the pool (min 5760): normal',
    })
    expect(decide(5760, 'normal')).toMatchObject({ mode: 'normal', changed: false })
    expect(decide(-300, 'ghost')).toEqual({
      mode: 'normal',
      changed: true,
      diff: -300,
      reason: 'node is 300 blocks behind the pool (min 5760): normal',
    })
    expect(decide(0, 'normal').reason).toBe('node is level with the pool (min 5760): normal')
  })

  it('keeps the current mode strictly between min and max (hysteresis)', () => {
    for (const diff of [5761, 8000, 11519]) {
      expect(decide(diff, 'ghost')).toMatchObject({ mode: 'ghost', changed: false })
      expect(decide(diff, 'normal')).toMatchObject({ mode: 'normal', changed: false })
    }
    expect(decide(8000, 'ghost').reason).toBe(
      'node is 8000 blocks ahead of the pool (between min 5760 and max 11520): stays ghost',
    )
  })

  it('matches the hysteresis rule for any heights and thresholds, and is stable once applied', () => {
    const thresholdSets = fc
      .tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000 }))
      .map(([min, gap]) => ({
        heightDifferenceMin: min,
        heightDifferenceMax: min + gap,
        keepRecent: min + gap,
      }))
    fc.assert(
      fc.property(
        fc.nat({ max: 50_000_000 }),
        fc.nat({ max: 50_000_000 }),
        fc.constantFrom<NodeMode>('normal', 'ghost'),
        thresholdSets,
        (nodeHeight, poolHeight, currentMode, t) => {
          const decision = decideMode({ nodeHeight, poolHeight, currentMode, thresholds: t })
          const diff = nodeHeight - poolHeight
          const expected =
            diff >= t.heightDifferenceMax ? 'ghost' : diff <= t.heightDifferenceMin ? 'normal' : currentMode
          expect(decision.mode).toBe(expected)
          expect(decision.diff).toBe(diff)
          expect(decision.changed).toBe(expected !== currentMode)
          const again = decideMode({ nodeHeight, poolHeight, currentMode: decision.mode, thresholds: t })
          expect(again).toMatchObject({ mode: decision.mode, changed: false })
        },
      ),
      { numRuns: 5000 },
    )
  })

  it.each([
    [{ nodeHeight: -1 }, 'nodeHeight must be an integer ≥ 0, got -1'],
    [{ nodeHeight: Number.NaN }, 'nodeHeight must be an integer ≥ 0, got NaN'],
    [{ poolHeight: 1.5 }, 'poolHeight must be an integer ≥ 0, got 1.5'],
    [{ poolHeight: '100' }, 'poolHeight must be an integer ≥ 0, got "100"'],
    [{ currentMode: 'Ghost' }, 'currentMode must be "normal" or "ghost", got "Ghost"'],
    [{ thresholds: { ...thresholds, heightDifferenceMin: 11520 } }, 'must be less than heightDifferenceMax'],
    [
      { thresholds: { heightDifferenceMax: 100, heightDifferenceMin: 50 } },
      'keepRecent must be a positive integer',
    ],
  ])('rejects %o', (patch, message) => {
    const input = { nodeHeight: 10, poolHeight: 5, currentMode: 'normal', thresholds, ...patch }
    expect(() => decideMode(input as never)).toThrow(ModeInputError)
    expect(() => decideMode(input as never)).toThrow(message)
  })
})

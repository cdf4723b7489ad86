import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isIntegerKey, parseHeightKey } from '../src/index.js'

describe('parseHeightKey / isIntegerKey', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['22183520', 22183520],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('reads %s as a height', (key, height) => {
    expect(parseHeightKey(key)).toBe(height)
    expect(isIntegerKey(key)).toBe(true)
  })

  it.each([
    ['', 'no key at all'],
    ['12a', 'trailing garbage'],
    ['-5', 'negative'],
    ['+5', 'explicit sign'],
    ['007', 'leading zeros: no runtime writes them'],
    ['00', 'leading zeros'],
    [' 5', 'leading space'],
    ['5 ', 'trailing space'],
    ['5\n', 'trailing newline'],
    ['5.0', 'decimal point'],
    ['1e6', 'exponent'],
    ['0x10', 'hex'],
    ['Infinity', 'Infinity'],
    ['100/3', 'state-sync height/chunk key'],
    ['١٢٣', 'non-ASCII digits'],
    [String(Number.MAX_SAFE_INTEGER + 1), 'beyond the safe integer range'],
    ['9007199254740993', 'beyond the safe integer range (rounds to a safe-looking neighbour)'],
    ['1'.repeat(400), 'huge'],
  ])('rejects %j (%s)', (key) => {
    expect(parseHeightKey(key)).toBeNull()
    expect(isIntegerKey(key)).toBe(false)
  })

  it('round-trips every safe non-negative integer and nothing else', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (height) => {
        expect(parseHeightKey(String(height))).toBe(height)
      }),
      { numRuns: 5000 },
    )
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 24 }), (key) => {
        const height = parseHeightKey(key)
        if (height !== null) expect(String(height)).toBe(key)
      }),
      { numRuns: 5000 },
    )
  })
})

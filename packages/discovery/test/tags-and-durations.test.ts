import { describe, expect, it } from 'vitest'
import { parseGoDuration } from '../src/go-duration.js'
import { parseTargetTags, sidecarTags } from '../src/index.js'

describe('sidecar tags', () => {
  it('round-trips chain, pool and mode through tags', () => {
    const tags = sidecarTags({ chainId: 'kyve-1', poolId: 12, mode: 'ghost' })
    expect(tags).toEqual(['chain:kyve-1', 'pool:12', 'mode:ghost'])
    expect(parseTargetTags([...tags, 'other'])).toEqual({
      values: { chainId: 'kyve-1', poolId: 12, mode: 'ghost' },
      problems: [],
    })
  })

  it('leaves out malformed values instead of guessing', () => {
    expect(parseTargetTags(['pool:01', 'chain:', 'mode:Ghost'])).toEqual({
      values: {},
      problems: [
        'tag "pool:01": expected a pool id (an integer ≥ 0)',
        'tag "chain:": expected a chain id such as "kyve-1" (letters, digits, . _ -, at most 50 characters)',
        'tag "mode:Ghost": expected one of normal, ghost',
      ],
    })
  })
})

describe('parseGoDuration', () => {
  it('reads what Consul reads', () => {
    expect(parseGoDuration('10s')).toBe(10_000)
    expect(parseGoDuration('1m30s')).toBe(90_000)
    expect(parseGoDuration('250ms')).toBe(250)
    expect(parseGoDuration('1.5h')).toBe(5_400_000)
    expect(parseGoDuration('0')).toBe(0)
  })

  it('refuses what Consul refuses', () => {
    for (const text of ['10', '', 's', '10 s', '1d', '1m30', '-'])
      expect(parseGoDuration(text), text).toBeUndefined()
  })
})

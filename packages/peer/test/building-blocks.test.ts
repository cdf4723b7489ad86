import { describe, expect, it } from 'vitest'
import { canonicalRequest, parseContentRange, parseRange } from '../src/index.js'
import { ReplayCache } from '../src/replay-cache.js'
import { SenderRateLimiter } from '../src/sender-rate-limiter.js'

describe('parseRange', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=900-', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=900-5000', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-10', { kind: 'partial', start: 990, end: 999 }],
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=5-4', { kind: 'none' }],
    ['bytes=0-1,3-4', { kind: 'none' }],
    ['items=0-1', { kind: 'none' }],
    ['bytes=-', { kind: 'none' }],
  ])('%s of 1000 bytes → %j', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected)
  })

  it('reads Content-Range back', () => {
    expect(parseContentRange('bytes 5-9/10')).toEqual({ start: 5, end: 9, size: 10 })
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, end: 9, size: null })
    expect(parseContentRange('bytes */10')).toBeNull()
  })
})

describe('ReplayCache', () => {
  it('refuses a nonce seen inside its window and forgets it after', () => {
    const cache = new ReplayCache(10)
    expect(cache.check('a', 10_000, 0)).toBe('fresh')
    expect(cache.check('a', 10_000, 9_999)).toBe('replayed')
    expect(cache.check('a', 20_000, 10_000)).toBe('fresh')
    expect(cache.size).toBe(1)
  })

  it('refuses new nonces when full instead of forgetting live ones', () => {
    const cache = new ReplayCache(2)
    expect(cache.check('a', 5_000, 0)).toBe('fresh')
    expect(cache.check('b', 9_000, 0)).toBe('fresh')
    expect(cache.check('c', 9_000, 0)).toBe('full')
    expect(cache.check('a', 5_000, 1)).toBe('replayed')
    // Once a's window has passed, there is room again.
    expect(cache.check('c', 9_000, 5_000)).toBe('fresh')
    expect(cache.size).toBe(2)
  })
})

describe('SenderRateLimiter', () => {
  it('allows a burst, then refills at the rate, per sender', () => {
    const limiter = new SenderRateLimiter(2, 3, 100)
    for (let i = 0; i < 3; i++) expect(limiter.take('a', 0)).toEqual({ allowed: true })
    expect(limiter.take('a', 0)).toEqual({ allowed: false, retryAfterMs: 500 })
    expect(limiter.take('b', 0)).toEqual({ allowed: true })
    expect(limiter.take('a', 500)).toEqual({ allowed: true })
    expect(limiter.take('a', 500)).toMatchObject({ allowed: false })
  })

  it('remembers at most maxSenders buckets, forgetting the least recently seen', () => {
    const limiter = new SenderRateLimiter(0.1, 1, 2)
    expect(limiter.take('a', 0).allowed).toBe(true)
    expect(limiter.take('b', 0).allowed).toBe(true)
    expect(limiter.take('a', 0).allowed).toBe(false)
    // c pushes out b (a was seen more recently); b starts full again.
    expect(limiter.take('c', 0).allowed).toBe(true)
    expect(limiter.take('b', 0).allowed).toBe(true)
    expect(limiter.take('a', 0).allowed).toBe(true)
  })
})

describe('canonical request', () => {
  it('is the documented v1 string', () => {
    expect(
      canonicalRequest({
        method: 'get',
        target: '/rpc/block?height=5',
        bodySha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        timestampMs: 1_700_000_000_000,
        nonce: '00112233445566778899aabbccddeeff',
        sender: 'osmosis-a',
        range: '',
      }),
    ).toBe(
      'ghostfleet-peer-request-v1\nGET\n/rpc/block?height=5\n' +
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n1700000000000\n' +
        '00112233445566778899aabbccddeeff\nosmosis-a\n',
    )
  })
})

import { describe, expect, it } from 'vitest'
import { assertKeyPart, InvalidKeyPartError, InvalidOptionsError, keyspace } from '../src/index.js'

/** The hash tag Redis Cluster hashes: the text between the first `{` and the next `}`. */
function hashTag(key: string): string {
  const open = key.indexOf('{')
  const close = key.indexOf('}', open + 1)
  return open === -1 || close === -1 || close === open + 1 ? key : key.slice(open + 1, close)
}

describe('keyspace', () => {
  const keys = keyspace()

  it('builds the documented layout under gf:', () => {
    expect(keys.report('osmosis-a')).toBe('gf:{sc:osmosis-a}:report')
    expect(keys.desired('osmosis-a')).toBe('gf:{sc:osmosis-a}:desired')
    expect(keys.notify('osmosis-a')).toBe('gf:{sc:osmosis-a}:notify')
    expect(keys.reports).toBe('gf:reports')
    expect(keys.sidecars).toBe('gf:sidecars')
    expect(keys.poolProgress('osmosis-1', 1)).toBe('gf:{pool:osmosis-1:1}:progress')
    expect(keys.leader).toBe('gf:{tracker}:leader')
    expect(keys.epoch).toBe('gf:{tracker}:epoch')
  })

  it('puts keys used together in one atomic operation in the same Cluster slot', () => {
    expect(hashTag(keys.report('x'))).toBe(hashTag(keys.desired('x')))
    expect(hashTag(keys.desired('x'))).toBe(hashTag(keys.notify('x')))
    expect(hashTag(keys.leader)).toBe(hashTag(keys.epoch))
    expect(hashTag(keys.desired('x'))).not.toBe(hashTag(keys.desired('y')))
  })

  it('uses a configured namespace', () => {
    expect(keyspace('staging').report('a')).toBe('staging:{sc:a}:report')
    expect(() => keyspace('a{b}')).toThrow(InvalidOptionsError)
  })

  it.each([
    ['', 'must not be empty'],
    ['a{b', 'no braces'],
    ['a}b', 'no braces'],
    ['a:b', 'colons'],
    ['a b', 'whitespace'],
    ['x'.repeat(129), 'longer than 128'],
  ])('rejects the sidecar id %j', (id, reason) => {
    expect(() => keys.report(id)).toThrow(InvalidKeyPartError)
    expect(() => keys.report(id)).toThrow(reason)
  })

  it('accepts numeric pool ids but not negative or fractional ones', () => {
    expect(assertKeyPart('pool id', 0)).toBe('0')
    expect(() => keys.poolProgress('osmosis-1', -1)).toThrow(InvalidKeyPartError)
    expect(() => keys.poolProgress('osmosis-1', 1.5)).toThrow(InvalidKeyPartError)
    expect(() => keys.poolProgress('osmo:1', 1)).toThrow(InvalidKeyPartError)
  })
})

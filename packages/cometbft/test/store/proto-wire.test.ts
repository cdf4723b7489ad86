import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ProtoDecodeError,
  ProtoEncodeError,
  ProtoReader,
  ProtoWriter,
  WireType,
} from '../../src/store/index.js'
import { fromHex, hex } from './helpers.js'

function readOne(bytes: Uint8Array, read: (r: ProtoReader, tag: ReturnType<ProtoReader['next']>) => unknown) {
  const r = new ProtoReader(bytes)
  const tag = r.next()
  const v = read(r, tag)
  expect(r.done).toBe(true)
  return v
}

describe('ProtoWriter / ProtoReader', () => {
  it('encodes varints as Go does, including 64-bit values', () => {
    const cases: Array<[number, string]> = [
      [1, '0801'],
      [127, '087f'],
      [128, '088001'],
      [2500, '08c413'],
      [2 ** 32, '088080808010'],
      [Number.MAX_SAFE_INTEGER, '08ffffffffffffff0f'],
      [-1, '08ffffffffffffffffff01'],
      [-62135596800, '088092b8c398feffffff01'],
    ]
    for (const [value, bytes] of cases) {
      const w = new ProtoWriter()
      w.int64(1, value)
      expect(hex(w.finish()), String(value)).toBe(bytes)
      expect(readOne(fromHex(bytes), (r, t) => r.int64(t))).toBe(value)
    }
  })

  it('round-trips every safe int64', () => {
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const w = new ProtoWriter()
        w.int64(3, v)
        const bytes = w.finish()
        if (v === 0) return bytes.length === 0
        return readOne(bytes, (r, t) => r.int64(t)) === v
      }),
    )
  })

  it('omits proto3 zero scalars and empty bytes/strings', () => {
    const w = new ProtoWriter()
    w.int64(1, 0)
    w.uint32(2, 0)
    w.bool(3, false)
    w.bytes(4, new Uint8Array(0))
    w.string(5, '')
    expect(w.finish().length).toBe(0)
  })

  it('always writes length-delimited fields (non-nullable messages, repeated elements)', () => {
    const w = new ProtoWriter()
    w.lengthDelimited(1, new Uint8Array(0))
    w.repeatedString(2, '')
    expect(hex(w.finish())).toBe('0a001200')
  })

  it('rejects values beyond Number.MAX_SAFE_INTEGER instead of rounding them', () => {
    // 2^53 as a varint
    expect(() => readOne(fromHex('0880808080808080 10'), (r, t) => r.int64(t))).toThrow(ProtoDecodeError)
    expect(() => readOne(fromHex('0880808080808080 10'), (r, t) => r.uint64(t))).toThrow(/MAX_SAFE_INTEGER/)
    const w = new ProtoWriter()
    expect(() => w.int64(1, 2 ** 53)).toThrow(ProtoEncodeError)
    expect(() => w.int64(1, 1.5)).toThrow(ProtoEncodeError)
    expect(() => w.uint32(1, 2 ** 32)).toThrow(ProtoEncodeError)
  })

  it('decodes negative int32 sign-extended to 10 bytes', () => {
    const w = new ProtoWriter()
    w.int32(2, -1)
    expect(hex(w.finish())).toBe('10ffffffffffffffffff01')
    expect(readOne(fromHex('10ffffffffffffffffff01'), (r, t) => r.int32(t))).toBe(-1)
  })

  it('skips unknown fields of every wire type, including groups', () => {
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, field 13 group {field 1 varint}, then field 1 = 7
    const bytes = fromHex('48ac02 51 0102030405060708 5a03616263 65 01020304 6b 0801 6c 0807')
    const r = new ProtoReader(bytes)
    let found = 0
    while (!r.done) {
      const t = r.next()
      if (t.field === 1) found = r.int64(t)
      else r.skip(t)
    }
    expect(found).toBe(7)
  })

  it('fails clearly on truncated or malformed input', () => {
    expect(() => readOne(fromHex('0a05 0102'), (r, t) => r.bytes(t))).toThrow(/runs past the end/)
    expect(() => readOne(fromHex('08ff'), (r, t) => r.int64(t))).toThrow(/truncated varint/)
    expect(() => readOne(fromHex('0a0101'), (r, t) => r.int64(t))).toThrow(/wire type 2, expected 0/)
    expect(() => new ProtoReader(fromHex('0f')).next()).toThrow(/invalid wire type/)
    expect(() => readOne(fromHex('08ffffffffffffffffffff01'), (r, t) => r.int64(t))).toThrow(ProtoDecodeError)
    const r = new ProtoReader(fromHex('0b 0801'))
    expect(() => r.skip(r.next())).toThrow(/unterminated group/)
  })

  it('exposes the wire type constants', () => {
    expect(WireType).toEqual({
      Varint: 0,
      Fixed64: 1,
      LengthDelimited: 2,
      StartGroup: 3,
      EndGroup: 4,
      Fixed32: 5,
    })
  })
})

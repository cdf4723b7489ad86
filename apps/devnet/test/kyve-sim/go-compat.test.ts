import { describe, expect, it } from 'vitest'
import { bech32Encode, moduleAddress } from '../../src/kyve-sim/bech32.js'
import { goDecodeBytes, goParseBool, goParseUint } from '../../src/kyve-sim/go-strconv.js'
import { encodeJsonpb } from '../../src/kyve-sim/json-encoding.js'
import { formatRfc3339Local } from '../../src/kyve-sim/responses.js'

describe('strconv.ParseUint as runtime.Uint64 calls it (base 0)', () => {
  it.each([
    ['0', 0n],
    ['42', 42n],
    ['0x2a', 42n],
    ['0X2A', 42n],
    ['0o52', 42n],
    ['052', 42n],
    ['0b101010', 42n],
    ['4_2', 42n],
    ['0x_2a', 42n],
    ['18446744073709551615', 18446744073709551615n],
  ])('parses %s', (text, value) => {
    expect(goParseUint(text, 0, 64)).toBe(value)
  })

  it.each([
    ['', 'invalid syntax'],
    ['abc', 'invalid syntax'],
    ['-1', 'invalid syntax'],
    ['+1', 'invalid syntax'],
    ['1.0', 'invalid syntax'],
    ['08', 'invalid syntax'],
    ['_42', 'invalid syntax'],
    ['42_', 'invalid syntax'],
    ['4__2', 'invalid syntax'],
    [' 1', 'invalid syntax'],
    ['18446744073709551616', 'value out of range'],
  ])('rejects %j with %s, quoting the input like Go', (text, reason) => {
    expect(() => goParseUint(text, 0, 64)).toThrow(
      `strconv.ParseUint: parsing ${JSON.stringify(text)}: ${reason}`,
    )
  })

  it('honours the bit size and base 10', () => {
    expect(() => goParseUint('4294967296', 0, 32)).toThrow('value out of range')
    expect(() => goParseUint('0x10', 10, 64)).toThrow('invalid syntax')
    expect(() => goParseUint('1_0', 10, 64)).toThrow('invalid syntax')
  })
})

describe('other gateway parsers', () => {
  it("ParseBool accepts exactly Go's spellings", () => {
    for (const yes of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(goParseBool(yes)).toBe(true)
    for (const no of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(goParseBool(no)).toBe(false)
    expect(() => goParseBool('yes')).toThrow('strconv.ParseBool: parsing "yes": invalid syntax')
  })

  it('decodes []byte query values as padded base64, standard or URL-safe', () => {
    expect(goDecodeBytes('AAAAAAAAAAM=')).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 3]))
    expect(goDecodeBytes('_-8=')).toEqual(Buffer.from([0xff, 0xef]))
    expect(() => goDecodeBytes('AAA')).toThrow(/illegal base64 data/)
  })
})

describe('bech32 module addresses', () => {
  it('matches well-known Cosmos Hub module accounts', () => {
    expect(moduleAddress('gov', 'cosmos')).toBe('cosmos10d07y265gmmuvt4z0w9aw880jnsr700j6zn9kn')
    expect(moduleAddress('fee_collector', 'cosmos')).toBe('cosmos17xpfvakm2amg962yls6f84z3kell8c5lserqta')
  })

  it('matches the BIP-173 test vector', () => {
    // BIP-173: "a12uel5l" is the valid bech32 string with HRP "a" and no data.
    expect(bech32Encode('a', new Uint8Array())).toBe('a12uel5l')
  })
})

describe('gogoproto jsonpb rendering', () => {
  const value = { a: '1', list: [], nested: { items: ['x', 'y'], objects: [{ k: true }] }, n: 3 }

  it('is plain compact JSON for chain >= v1.5', () => {
    expect(encodeJsonpb(value, '1.5')).toBe(JSON.stringify(value))
  })

  it('indents like jsonpb for chain v1.4, empty lists included', () => {
    expect(encodeJsonpb(value, '1.4')).toBe(
      [
        '{',
        '  "a": "1",',
        '  "list": [',
        '  ],',
        '  "nested": {',
        '    "items": [',
        '      "x",',
        '      "y"',
        '    ],',
        '    "objects": [',
        '      {',
        '        "k": true',
        '      }',
        '    ]',
        '  },',
        '  "n": 3',
        '}',
      ].join('\n'),
    )
  })
})

describe('finalized_at.timestamp', () => {
  it('is RFC 3339 with whole seconds in the local zone, like Go time.Format(time.RFC3339)', () => {
    const text = formatRfc3339Local(1_700_000_000)
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$/)
    expect(Date.parse(text)).toBe(1_700_000_000_000)
  })

  it('writes the zone offset, or Z for UTC', () => {
    const saved = process.env.TZ
    try {
      process.env.TZ = 'Asia/Kolkata'
      expect(formatRfc3339Local(1_700_000_000)).toBe('2023-11-15T03:43:20+05:30')
      process.env.TZ = 'America/New_York'
      expect(formatRfc3339Local(1_700_000_000)).toBe('2023-11-14T17:13:20-05:00')
      process.env.TZ = 'UTC'
      expect(formatRfc3339Local(1_700_000_000)).toBe('2023-11-14T22:13:20Z')
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })
})

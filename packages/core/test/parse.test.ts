import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  desiredStateSchema,
  parseWith,
  sidecarConfigSchema,
  sidecarReportSchema,
  trackerConfigSchema,
  ValidationError,
} from '../src/index.js'

const schema = z.strictObject({
  pool: z.strictObject({
    poolId: z.int({ error: 'expected an integer ≥ 0' }).min(0, { error: 'expected an integer ≥ 0' }),
  }),
  list: z.array(z.string()).optional(),
  mode: z.enum(['a', 'b']).optional(),
  'odd-key': z.number().optional(),
  big: z.number().max(10).optional(),
  name: z.string().min(3).optional(),
})

function failure(input: unknown, source = 'config.toml'): ValidationError {
  try {
    parseWith(schema, input, source)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return error as ValidationError
  }
  throw new Error('expected a ValidationError')
}

describe('parseWith', () => {
  it('returns the parsed value', () => {
    expect(parseWith(schema, { pool: { poolId: 3 } }, 'x')).toEqual({ pool: { poolId: 3 } })
  })

  it('names the source, the path and the received value', () => {
    const error = failure({ pool: { poolId: 'abc' } })
    expect(error.message).toBe('config.toml: pool.poolId: expected an integer ≥ 0, got "abc"')
    expect(error.source).toBe('config.toml')
    expect(error.issues).toEqual(['pool.poolId: expected an integer ≥ 0, got "abc"'])
    expect(error.name).toBe('ValidationError')
  })

  it('distinguishes a string from a number and shows NaN, null, tables and arrays', () => {
    expect(failure({ pool: { poolId: '5' } }).issues[0]).toBe('pool.poolId: expected an integer ≥ 0, got "5"')
    expect(failure({ pool: { poolId: Number.NaN } }).issues[0]).toBe(
      'pool.poolId: expected an integer ≥ 0, got NaN',
    )
    expect(failure({ pool: { poolId: null } }).issues[0]).toBe(
      'pool.poolId: expected an integer ≥ 0, got null',
    )
    expect(failure({ pool: { poolId: { a: 1 } } }).issues[0]).toBe(
      'pool.poolId: expected an integer ≥ 0, got a table {"a":1}',
    )
    expect(failure({ pool: { poolId: [1] } }).issues[0]).toBe(
      'pool.poolId: expected an integer ≥ 0, got an array [1]',
    )
    expect(failure({ pool: { poolId: 10n } }).issues[0]).toBe('pool.poolId: expected an integer ≥ 0, got 10')
    expect(failure({ pool: { poolId: new Date(0) } }).issues[0]).toBe(
      'pool.poolId: expected an integer ≥ 0, got 1970-01-01T00:00:00.000Z',
    )
  })

  it('says when a value is missing', () => {
    expect(failure({ pool: {} }).issues).toEqual(['pool.poolId: expected an integer ≥ 0, but it is missing'])
  })

  it('formats array indexes and keys that are not identifiers', () => {
    expect(failure({ pool: { poolId: 1 }, list: ['a', 5] }).issues).toEqual([
      'list[1]: expected a string, got 5',
    ])
    expect(failure({ pool: { poolId: 1 }, 'odd-key': 'x' }).issues).toEqual([
      '["odd-key"]: expected a number, got "x"',
    ])
  })

  it('words issues the schema did not word itself', () => {
    expect(failure({ pool: { poolId: 1 }, mode: 'c' }).issues).toEqual(['mode: expected "a" or "b", got "c"'])
    expect(failure({ pool: { poolId: 1 }, big: 11 }).issues).toEqual(['big: expected a number ≤ 10, got 11'])
    expect(failure({ pool: { poolId: 1 }, name: 'ab' }).issues).toEqual([
      'name: expected at least 3 characters, got "ab"',
    ])
    expect(failure({ pool: { poolId: 1 }, extra: 1 }).issues).toEqual(['unknown key "extra"'])
    expect(failure('text').issues).toEqual(['expected a table, got "text"'])
  })

  it('words the remaining kinds of zod issue', () => {
    const misc = z.strictObject({
      either: z.union([z.number(), z.boolean()]).optional(),
      step: z.number().multipleOf(5).optional(),
      mail: z.email().optional(),
      short: z.string().max(2).optional(),
      few: z.array(z.number()).min(2).optional(),
      above: z.number().gt(3).optional(),
      fixed: z.literal(7).optional(),
    })
    const lines = (input: unknown) => {
      try {
        parseWith(misc, input, 's')
      } catch (error) {
        return (error as ValidationError).issues
      }
      throw new Error('expected a ValidationError')
    }
    expect(lines({ either: 'x' })).toEqual(['either: does not match any of the accepted forms, got "x"'])
    expect(lines({ step: 7 })).toEqual(['step: expected a multiple of 5, got 7'])
    expect(lines({ mail: 'nope' })).toEqual(['mail: expected a valid email, got "nope"'])
    expect(lines({ short: 'abc' })).toEqual(['short: expected at most 2 characters, got "abc"'])
    expect(lines({ few: [1] })).toEqual(['few: expected at least 2 items, got an array [1]'])
    expect(lines({ above: 3 })).toEqual(['above: expected a number > 3, got 3'])
    expect(lines({ fixed: 8 })).toEqual(['fixed: expected 7, got 8'])
  })

  it('puts one problem on each line, all of them in issues, and caps the message', () => {
    const many = z.array(z.number())
    try {
      parseWith(
        many,
        Array.from({ length: 30 }, () => 'x'),
        'big.json',
      )
      throw new Error('expected a ValidationError')
    } catch (error) {
      const { issues, message } = error as ValidationError
      expect(issues).toHaveLength(30)
      const lines = message.split('\n')
      expect(lines).toHaveLength(21)
      expect(lines[0]).toBe('big.json: [0]: expected a number, got "x"')
      expect(lines[20]).toBe('big.json: … and 10 more problems')
    }
  })

  it('masks credentials in URLs it quotes back', () => {
    const urls = z.strictObject({ url: z.number() })
    try {
      parseWith(urls, { url: 'redis://admin:hunter2@redis:6379' }, 'c')
      throw new Error('expected a ValidationError')
    } catch (error) {
      expect((error as ValidationError).message).toBe(
        'c: url: expected a number, got "redis://admin:***@redis:6379"',
      )
    }
  })

  it('cuts very long values', () => {
    const line = failure({ pool: { poolId: 'x'.repeat(500) } }).issues[0]!
    expect(line.length).toBeLessThan(140)
    expect(line.endsWith('…')).toBe(true)
  })
})

describe('parseWith on mangled input', () => {
  const validSidecar = {
    node: { binary: '/bin/osmosisd', home: '/home/osmo', launcher: 'binary', output: 'file', logFile: '/l' },
    pool: { chainId: 'kyve-1', poolId: 1, endpoints: ['https://api.kyve.network'] },
    thresholds: { heightDifferenceMax: 100, heightDifferenceMin: 50, keepRecent: 150 },
    pruning: { margin: 2 },
    supervision: { restartBackoffInitialSeconds: 1, restartBackoffMaxSeconds: 2 },
    fleet: { trackerTimeoutSeconds: 10, reportIntervalSeconds: 1 },
  }
  const validTracker = {
    redisUrl: 'redis://h:1',
    pools: [{ chainId: 'kyve-1', poolId: 1, thresholds: { heightDifferenceMin: 1, heightDifferenceMax: 2 } }],
    chains: { 'kyve-1': ['https://a'] },
  }
  const validReport = {
    v: 1,
    sidecarId: 'a',
    chainId: 'kyve-1',
    poolId: 1,
    mode: 'ghost',
    nodeHeight: 5,
    nodeBase: 1,
    nodeReachable: true,
    catchingUp: false,
    activity: 'serving',
    dataBytes: 1,
    appliedEpoch: 0,
    appliedGeneration: 0,
    lastPrune: null,
    decidedBy: 'local',
    version: '1',
    reportedAt: 1,
    thresholds: { heightDifferenceMax: 100, heightDifferenceMin: 50, keepRecent: 150 },
  }
  const validDesired = {
    v: 1,
    sidecarId: 'a',
    mode: 'ghost',
    pruneToHeight: 5,
    basedOnPoolHeight: 10,
    poolFetchedAt: 1,
    epoch: 1,
    generation: 1,
    issuedAt: 1,
    reason: '',
  }

  /** Replace the value at one random path (any depth) with an arbitrary value, or delete it. */
  function mangle(value: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
    if (path.length === 0 || typeof value !== 'object' || value === null) return replacement
    const entries = Object.entries(value)
    if (entries.length === 0) return replacement
    const index = path[0]! % entries.length
    const [key, inner] = entries[index]!
    const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as never) : { ...value }
    if (remove && path.length === 1) delete copy[key]
    else copy[key] = mangle(inner, path.slice(1), replacement, remove)
    return copy
  }

  it.each([
    ['sidecar config', sidecarConfigSchema, validSidecar],
    ['tracker config', trackerConfigSchema, validTracker],
    ['report', sidecarReportSchema, validReport],
    ['desired state', desiredStateSchema, validDesired],
  ] as const)('%s: accepts the valid form, and only ever throws ValidationError', (_name, target, valid) => {
    expect(() => parseWith(target as z.ZodType, valid, 'valid')).not.toThrow()
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.oneof(fc.anything(), fc.constantFrom(0, -1, 1.5, Number.NaN, '', null, undefined, [], {})),
        fc.boolean(),
        (path, replacement, remove) => {
          const input = mangle(valid, path, replacement, remove)
          try {
            parseWith(target as z.ZodType, input, 'fuzz')
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError)
            const { issues } = error as ValidationError
            expect(issues.length).toBeGreaterThan(0)
            for (const issue of issues)
              expect(issue).not.toMatch(/Invalid input|Unrecognized key|\[object Object\]/)
          }
        },
      ),
      { numRuns: 2000 },
    )
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  parseWith,
  REDACTED,
  redactUrl,
  redactUrlsIn,
  sidecarConfigSchema,
  ValidationError,
} from '../src/index.js'

/** Every character that means something in a URL, plus quoting and escaping characters. */
const SPECIALS = [...'@/:?#%+=&;,$!*\'"()[]{}<>\\|^`~ \t']
/** A marker no scheme, user name or host below contains, so "the password is not in the output" means something. */
const MARKER = 'Ωs3cr'

const passwordArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...SPECIALS),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    { minLength: 0, maxLength: 24 },
  )
  .map((parts) => `${MARKER}${parts.join('')}`)

const hostArb = fc.oneof(
  fc.ipV4(),
  fc.domain(),
  fc.ipV6().map((address) => `[${address}]`),
)

const urlPartsArb = fc.record({
  scheme: fc.constantFrom('redis:', 'rediss:', 'http:', 'https:'),
  user: fc.stringMatching(/^[a-z0-9_-]{0,10}$/),
  password: passwordArb,
  encode: fc.boolean(),
  host: hostArb,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  path: fc.constantFrom('', '/0', '/15', '/v1/kyve'),
})

describe('redactUrl', () => {
  it('hides the password of the issue example, whose "/" stops WHATWG URL parsing', () => {
    expect(redactUrl('redis://:Ab/Cd+Ef=@10.0.0.5:6379')).toBe('redis://:***@10.0.0.5:6379')
  })

  it('hides a password with "@" in full, up to the last "@" before the host', () => {
    expect(redactUrl('redis://user:p@ss@word@redis.internal:6379/2')).toBe(
      'redis://user:***@redis.internal:6379/2',
    )
  })

  it('hides a password that WHATWG URL would read as host and path', () => {
    // new URL() accepts this with host "u:12" and no password at all.
    expect(redactUrl('redis://u:12/x@h:6379')).toBe('redis://u:***@h:6379')
  })

  it('hides a bare userinfo token whole', () => {
    expect(redactUrl('https://ghp_token@kyve.example.com/api')).toBe('https://***@kyve.example.com/api')
  })

  it('hides credential query parameters and keeps the others', () => {
    expect(redactUrl('http://127.0.0.1:8500/v1/agent?token=abc&dc=eu1&api_key=x')).toBe(
      'http://127.0.0.1:8500/v1/agent?token=***&dc=eu1&api_key=***',
    )
  })

  it('leaves a URL without credentials as it was', () => {
    expect(redactUrl('https://api.kyve.network')).toBe('https://api.kyve.network')
    expect(redactUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0')
    expect(redactUrl('127.0.0.1:6379')).toBe('127.0.0.1:6379')
  })

  it('prints nothing of a text with an "@" but no scheme', () => {
    expect(redactUrl(':pass@host')).toBe(REDACTED)
  })

  it('never shows a password with any special character or unicode, and always shows the host (fuzz)', () => {
    fc.assert(
      fc.property(urlPartsArb, ({ scheme, user, password, encode, host, port, path }) => {
        const hostPort = port === undefined ? host : `${host}:${port}`
        const written = encode ? encodeURIComponent(password) : password
        const url = `${scheme}//${user}:${written}@${hostPort}${path}`
        const redacted = redactUrl(url)
        expect(redacted).toBe(`${scheme}//${user}:${REDACTED}@${hostPort}${path}`)
        expect(redacted).not.toContain(MARKER)
        expect(redacted).not.toContain(encodeURIComponent(MARKER))
        expect(redacted).toContain(hostPort)
      }),
      { numRuns: 2000 },
    )
  })

  it('redacts URLs inside a log line or error message (fuzz, passwords without whitespace)', () => {
    fc.assert(
      fc.property(urlPartsArb, ({ scheme, user, password, encode, host, port, path }) => {
        const clean = password.replace(/\s/g, '')
        const hostPort = port === undefined ? host : `${host}:${port}`
        const written = encode ? encodeURIComponent(clean) : clean
        const line = `connect to ${scheme}//${user}:${written}@${hostPort}${path} failed: ECONNREFUSED`
        const redacted = redactUrlsIn(line)
        expect(redacted).toBe(
          `connect to ${scheme}//${user}:${REDACTED}@${hostPort}${path} failed: ECONNREFUSED`,
        )
        expect(redacted).not.toContain(MARKER)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('config errors never echo a URL password', () => {
  it('names fleet.redisUrl and shows the host, not the password', () => {
    const input = {
      node: { binary: '/usr/bin/osmosisd', home: '/home/kyve/.osmosisd', launcher: 'binary' },
      pool: { chainId: 'kyve-1', poolId: 1 },
      thresholds: {},
      fleet: { redisUrl: 'ftp://:Ab/Cd+Ef=@10.0.0.5:6379' },
    }
    let message = ''
    try {
      parseWith(sidecarConfigSchema, input, 'config.toml')
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError)
      message = (error as Error).message
    }
    expect(message).toContain('fleet.redisUrl')
    expect(message).toContain('10.0.0.5:6379')
    expect(message).not.toContain('Ab/Cd+Ef=')
  })

  it('redacts URLs inside arrays too (fuzz)', () => {
    fc.assert(
      fc.property(passwordArb, (password) => {
        const input = {
          node: { binary: '/usr/bin/osmosisd', home: '/home/kyve/.osmosisd', launcher: 'binary' },
          pool: { chainId: 'kyve-1', poolId: 1, endpoints: 7 },
          thresholds: {},
          fleet: { redisUrl: [`redis://u:${password}@h:1`] },
        }
        try {
          parseWith(sidecarConfigSchema, input, 'config.toml')
        } catch (error) {
          expect((error as Error).message).not.toContain(MARKER)
          return
        }
        throw new Error('accepted')
      }),
      { numRuns: 300 },
    )
  })
})

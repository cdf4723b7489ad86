import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ConnectionStatusEvent,
  closeRedis,
  createRedis,
  InvalidOptionsError,
  keysOf,
  LeaderElection,
  parseRedisUrl,
  publishReport,
  ReportConsumer,
  reconnectDelay,
  redactRedisUrl,
} from '../src/index.js'
import { connect, makeReport } from './fixtures.js'

describe('parseRedisUrl', () => {
  it('reads redis:// and rediss:// URLs', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380/2')).toEqual({
      tls: false,
      host: '127.0.0.1',
      port: 6380,
      db: 2,
    })
    expect(parseRedisUrl('rediss://user:p%40ss@redis.example')).toEqual({
      tls: true,
      host: 'redis.example',
      port: 6379,
      db: 0,
      username: 'user',
      password: 'p@ss',
    })
    expect(parseRedisUrl('redis://[::1]:7000').host).toBe('::1')
  })

  it.each([
    ['http://localhost:6379', 'scheme "http" is not supported'],
    ['localhost:6379', 'scheme "localhost" is not supported'],
    ['redis://host:6379/x', 'database "x" is not a number'],
    ['redis://host:6379/0?tls=1', 'query strings'],
    ['not a url', 'is not a URL'],
    ['', 'is empty'],
  ])('rejects %j saying why', (url, reason) => {
    expect(() => parseRedisUrl(url)).toThrow(InvalidOptionsError)
    expect(() => parseRedisUrl(url)).toThrow(reason)
  })

  it('never repeats the password in an error', () => {
    expect(() => parseRedisUrl('redis://u:hunter2@host:6379/x')).toThrow(/u:\*\*\*@host/)
    expect(() => parseRedisUrl('redis://u:hunter2@host:6379/x')).not.toThrow(/hunter2/)
    expect(redactRedisUrl('rediss://:s3cret@h')).toBe('rediss://:***@h')
  })

  it('never repeats a password containing "/" or "@" (WHATWG URL cannot parse it)', () => {
    for (const url of ['redis://:Ab/Cd+Ef=@10.0.0.5:6379', 'redis://u:p@ss/w?rd#x@10.0.0.5:6379']) {
      let message = ''
      try {
        parseRedisUrl(url)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError)
        message = (error as Error).message
      }
      expect(message).toContain('10.0.0.5:6379')
      expect(message).toContain('percent-encoded')
      expect(message).not.toMatch(/Ab\/Cd|p@ss|w\?rd/)
    }
  })

  it('refuses a password that WHATWG URL would read as host and path, without echoing it', () => {
    // new URL() parses this as host "u:12", path "/x@h": the password would be a port and a database.
    expect(() => parseRedisUrl('redis://u:12/x9@h:6379')).toThrow(/percent-encoded/)
    expect(() => parseRedisUrl('redis://u:12/x9@h:6379')).not.toThrow(/12\/x9|x9@/)
  })

  it('reports a stray "%" in the password as a configuration error, not a URIError', () => {
    expect(() => parseRedisUrl('redis://u:100%zz@h:6379')).toThrow(InvalidOptionsError)
    expect(() => parseRedisUrl('redis://u:100%zz@h:6379')).not.toThrow(/100%zz/)
  })

  it('round-trips any percent-encoded password and never shows it in an error (fuzz)', () => {
    const marker = 'Ωs3cr'
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.constantFrom('', '/x', '/0', ':99999', '?a=1'),
        fc.boolean(),
        (tail, suffix, encode) => {
          const password = `${marker}${tail}`
          const written = encode ? encodeURIComponent(password) : password
          const url = `redis://gf-sidecar-a:${written}@10.0.0.5:6379${suffix}`
          try {
            const parsed = parseRedisUrl(url)
            if (encode) expect(parsed.password).toBe(password)
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidOptionsError)
            expect((error as Error).message).not.toContain(marker)
            expect((error as Error).message).toContain('10.0.0.5')
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('createRedis options', () => {
  it.each([
    [{ role: 'sidecar' as const }, 'no Redis configured'],
    // The environment is the binaries' to read (their settings step), never this package's.
    [{ role: 'sidecar' as const, env: { GHOSTFLEET_REDIS_URL: 'redis://127.0.0.1:1' } }, 'env'],
    [
      { role: 'sidecar' as const, url: 'redis://a', cluster: [{ host: 'b', port: 1 }] },
      'only one of url, sentinels, cluster',
    ],
    [{ role: 'sidecar' as const, sentinels: [{ host: 's', port: 26379 }] }, 'sentinelName is required'],
    [{ role: 'sidecar' as const, cluster: [{ host: 'c', port: 70000 }] }, 'cluster[0].port'],
    [{ role: 'tracker' as const, url: 'redis://:y@a', password: 'x' }, 'give them in one place'],
    [{ role: 'tracker' as const, url: 'redis://a', tls: true }, 'tls is part of the URL'],
    [{ role: 'tracker' as const, url: 'redis://a', keyPrefix: 'a{b}' }, 'keyPrefix'],
    [
      { role: 'tracker' as const, url: 'redis://a', reconnect: { minDelayMs: 5000, maxDelayMs: 10 } },
      'must not exceed',
    ],
    [{ role: 'monitor', url: 'redis://a' }, 'role must be "tracker" or "sidecar"'],
    [{ role: 'tracker', url: 'redis://a', sentinal: [] }, 'sentinal'],
  ])('rejects %j', (options, reason) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong options, as they would come from a config file
    expect(() => createRedis(options as any)).toThrow(InvalidOptionsError)
    // biome-ignore lint/suspicious/noExplicitAny: see above
    expect(() => createRedis(options as any)).toThrow(reason)
  })

  it('connects to the URL and applies the namespace', async () => {
    const redis = createRedis({
      role: 'sidecar',
      url: 'redis://127.0.0.1:1',
      keyPrefix: 'staging:',
    })
    expect(redis.options).toMatchObject({ host: '127.0.0.1', port: 1 })
    expect(keysOf(redis).report('a')).toBe('staging:{sc:a}:report')
    await closeRedis(redis)
  })
})

describe('timer options stay within Node’s 32-bit range', () => {
  const huge = 2 ** 31
  it.each([
    ['commandTimeoutMs', { commandTimeoutMs: huge }],
    ['connectTimeoutMs', { connectTimeoutMs: huge }],
    ['reconnect.maxDelayMs', { reconnect: { maxDelayMs: huge } }],
  ])('createRedis refuses %s above an hour', (name, extra) => {
    const attempt = () => createRedis({ role: 'tracker', url: 'redis://127.0.0.1:1', ...extra })
    expect(attempt).toThrow(InvalidOptionsError)
    expect(attempt).toThrow(`${name}: must be at most 3600000 ms`)
  })

  it('LeaderElection and ReportConsumer refuse delays above an hour', () => {
    const redis = createRedis({ role: 'tracker', url: 'redis://127.0.0.1:1' })
    try {
      for (const options of [{ leaseMs: huge }, { renewIntervalMs: huge }, { retryIntervalMs: huge }]) {
        expect(() => new LeaderElection({ redis, candidateId: 'a', ...options })).toThrow(
          /at most 3600000 ms/,
        )
      }
      expect(
        () => new ReportConsumer({ redis, consumerName: 'a', onReport: () => {}, claimIdleMs: huge }),
      ).toThrow(InvalidOptionsError)
      expect(
        () => new ReportConsumer({ redis, consumerName: 'a', onReport: () => {}, blockMs: huge }),
      ).toThrow(InvalidOptionsError)
    } finally {
      redis.disconnect()
    }
  })
})

describe('reconnectDelay', () => {
  it('stays within [base/2, base] with base = max(min(e^n, 20000), 1000)', () => {
    for (const attempt of [1, 2, 5, 7, 10, 50]) {
      const base = Math.max(Math.min(Math.exp(attempt), 20_000), 1000)
      expect(reconnectDelay(attempt, undefined, () => 0)).toBe(Math.floor(base / 2))
      expect(reconnectDelay(attempt, undefined, () => 0.999999)).toBeLessThanOrEqual(base)
    }
    expect(reconnectDelay(100, undefined, () => 0.999999)).toBeLessThanOrEqual(20_000)
  })
})

describe('connection loss (real redis-server killed and restarted)', () => {
  let server: TestRedis
  beforeAll(async () => {
    server = await startRedis()
  })
  afterAll(async () => {
    await server.stop()
  })

  it('sidecar commands fail fast while Redis is down, both roles reconnect after a restart', async () => {
    const events: ConnectionStatusEvent[] = []
    const sidecar = connect({ role: 'sidecar', url: server.url, onStatus: (event) => events.push(event) })
    const tracker = connect({ role: 'tracker', url: server.url })
    await eventually(() => expect(sidecar.status).toBe('ready'))
    await eventually(() => expect(tracker.status).toBe('ready'))
    await publishReport(sidecar, makeReport(), { intervalMs: 10_000 })

    await server.kill()
    await eventually(() => expect(sidecar.status).not.toBe('ready'))
    // Fails at once, refused by the client because nothing may queue: not after a command timeout (which would
    // mean the sidecar's control loop waited on Redis) and not after a reconnect.
    const failure = await publishReport(sidecar, makeReport(), { intervalMs: 10_000 }).then(
      () => null,
      (error: unknown) => error,
    )
    expect(failure).toBeInstanceOf(Error)
    expect(String(failure)).toMatch(/enableOfflineQueue options is false|Connection is closed/)
    expect(events.map((event) => event.status)).toContain('disconnected')

    await server.restart()
    await eventually(() => expect(sidecar.status).toBe('ready'), { timeoutMs: 15_000 })
    await eventually(() => expect(tracker.status).toBe('ready'), { timeoutMs: 15_000 })
    await publishReport(sidecar, makeReport(), { intervalMs: 10_000 })
    expect(await tracker.exists(keysOf(tracker).report('osmosis-a'))).toBe(1)
    expect(events.filter((event) => event.status === 'ready').length).toBeGreaterThanOrEqual(2)
  })
})

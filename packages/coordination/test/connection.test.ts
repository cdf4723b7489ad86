import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ConnectionStatusEvent,
  closeRedis,
  createRedis,
  InvalidOptionsError,
  keysOf,
  parseRedisUrl,
  publishReport,
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
})

describe('createRedis options', () => {
  it.each([
    [{ role: 'sidecar' as const, env: {} }, 'no Redis configured'],
    [
      { role: 'sidecar' as const, url: 'redis://a', cluster: [{ host: 'b', port: 1 }] },
      'only one of url, sentinels, cluster',
    ],
    [{ role: 'sidecar' as const, sentinels: [{ host: 's', port: 26379 }] }, 'sentinelName is required'],
    [{ role: 'sidecar' as const, cluster: [{ host: 'c', port: 70000 }] }, 'cluster[0].port'],
    [{ role: 'tracker' as const, url: 'redis://a', password: 'x' }, 'part of the URL'],
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

  it('falls back to GHOSTFLEET_REDIS_URL and applies the namespace', async () => {
    const redis = createRedis({
      role: 'sidecar',
      env: { GHOSTFLEET_REDIS_URL: 'redis://127.0.0.1:1' },
      keyPrefix: 'staging:',
    })
    expect(redis.options).toMatchObject({ host: '127.0.0.1', port: 1 })
    expect(keysOf(redis).report('a')).toBe('staging:{sc:a}:report')
    await closeRedis(redis)
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

import { describe, expect, it } from 'vitest'
import { parseWith, type TrackerConfig, trackerConfigSchema } from '../src/index.js'
import { rejectLines } from './helpers.js'

const minimal = { redisUrl: 'redis://127.0.0.1:6379' }

const full = {
  redisUrl: 'rediss://tracker:s3cret@redis.internal:6380/1',
  listen: '0.0.0.0:26680',
  pollIntervalSeconds: 15,
  leaseTtlMs: 15_000,
  maxPoolAgeSeconds: 300,
  defaults: { maxUnavailable: 2, pruningIntervalHours: 12, margin: 5 },
  pools: [
    { chainId: 'kyve-1', poolId: 1 },
    {
      chainId: 'kyve-1',
      poolId: 7,
      endpoints: ['https://api.kyve.network'],
      maxUnavailable: 1,
      pruningIntervalHours: 48,
      thresholds: { heightDifferenceMax: 20000, keepRecent: 30000 },
    },
    { chainId: 'kaon-1', poolId: 1, thresholds: { heightDifferenceMin: 100 } },
  ],
  chains: { 'kyve-1': ['https://api.kyve.network', 'https://api-eu-1.kyve.network'] },
  peer: { listen: '0.0.0.0:26681', ratePerSecond: 2, burst: 10 },
  bootstrap: { requestTtlSeconds: 3600 },
}

describe('trackerConfigSchema', () => {
  it('applies every default', () => {
    const config: TrackerConfig = parseWith(trackerConfigSchema, minimal, 'tracker.toml')
    expect(config).toEqual({
      redisUrl: 'redis://127.0.0.1:6379',
      listen: '127.0.0.1:26680',
      pollIntervalSeconds: 10,
      leaseTtlMs: 10_000,
      maxPoolAgeSeconds: 600,
      defaults: { maxUnavailable: 1, pruningIntervalHours: 24, margin: 1 },
      pools: [],
      chains: {},
      peer: { ratePerSecond: 5, burst: 20 },
      bootstrap: { requestTtlSeconds: 1800 },
    })
  })

  it('accepts a realistic full config unchanged', () => {
    expect(parseWith(trackerConfigSchema, full, 'tracker.toml')).toEqual(full)
  })

  it('fills defaults inside a partly written [defaults] table', () => {
    expect(parseWith(trackerConfigSchema, { ...minimal, defaults: { margin: 3 } }, 't').defaults).toEqual({
      maxUnavailable: 1,
      pruningIntervalHours: 24,
      margin: 3,
    })
  })

  it('rejects unknown keys, including inside [[pools]] and their threshold overrides', () => {
    expect(rejectLines(trackerConfigSchema, { ...minimal, pollInterval: 5 }, 'tracker.toml')).toEqual([
      'tracker.toml: unknown key "pollInterval"; allowed: redisUrl, listen, pollIntervalSeconds, leaseTtlMs, maxPoolAgeSeconds, defaults, peer, bootstrap, pools, chains',
    ])
    expect(
      rejectLines(
        trackerConfigSchema,
        { ...minimal, pools: [{ chainId: 'kyve-1', poolId: 1, pool_id: 1 }] },
        'tracker.toml',
      ),
    ).toEqual([
      'tracker.toml: pools[0]: unknown key "pool_id" (did you mean "poolId"?); allowed: chainId, poolId, endpoints, maxUnavailable, pruningIntervalHours, thresholds',
    ])
    expect(
      rejectLines(trackerConfigSchema, {
        ...minimal,
        pools: [{ chainId: 'kyve-1', poolId: 1, thresholds: { keeprecent: 5 } }],
      }),
    ).toEqual([
      'config.toml: pools[0].thresholds: unknown key "keeprecent" (did you mean "keepRecent"?); allowed: heightDifferenceMax, heightDifferenceMin, keepRecent',
    ])
  })

  it('leaves the peer listener off unless [peer] listen is set, and bounds the request expiry', () => {
    expect(parseWith(trackerConfigSchema, minimal, 't').peer.listen).toBeUndefined()
    expect(
      rejectLines(trackerConfigSchema, {
        ...minimal,
        peer: { listen: 'nowhere', burst: 0 },
        bootstrap: { requestTtlSeconds: 0 },
      }),
    ).toEqual([
      'config.toml: peer.listen: expected host:port, e.g. "127.0.0.1:26670" or "[::1]:26670", got "nowhere"',
      'config.toml: peer.burst: expected an integer ≥ 1, got 0',
      'config.toml: bootstrap.requestTtlSeconds: must be between 1 and 86400 seconds, got 0',
    ])
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'missing redisUrl',
      { redisUrl: undefined },
      'redisUrl: expected a redis:// or rediss:// URL with a host, but it is missing',
    ],
    [
      'bad listen',
      { listen: 'localhost' },
      'listen: expected host:port, e.g. "127.0.0.1:26670" or "[::1]:26670", got "localhost"',
    ],
    [
      'poll 0',
      { pollIntervalSeconds: 0 },
      'pollIntervalSeconds: must be between 0.1 and 3600 seconds, got 0',
    ],
    [
      'lease too short',
      { leaseTtlMs: 50 },
      'leaseTtlMs: must be a whole number between 100 and 300000 milliseconds, got 50',
    ],
    [
      'lease fraction',
      { leaseTtlMs: 1000.5 },
      'leaseTtlMs: must be a whole number between 100 and 300000 milliseconds, got 1000.5',
    ],
    [
      'pool age ≤ poll interval',
      { maxPoolAgeSeconds: 10 },
      'maxPoolAgeSeconds: maxPoolAgeSeconds (10) must be greater than pollIntervalSeconds (10)',
    ],
    [
      'maxUnavailable 0',
      { defaults: { maxUnavailable: 0 } },
      'defaults.maxUnavailable: expected an integer ≥ 1, got 0',
    ],
    ['margin 0', { defaults: { margin: 0 } }, 'defaults.margin: expected an integer ≥ 1, got 0'],
    [
      'pools as a table',
      { pools: { chainId: 'kyve-1' } },
      'pools: expected an array of [[pools]] tables, got a table {"chainId":"kyve-1"}',
    ],
    [
      'pool id text',
      { pools: [{ chainId: 'kyve-1', poolId: 'one' }] },
      'pools[0].poolId: expected an integer ≥ 0, got "one"',
    ],
    [
      'pool chain missing',
      { pools: [{ poolId: 1 }] },
      'pools[0].chainId: expected a chain id such as "kyve-1"',
    ],
    [
      'pool endpoints empty',
      { pools: [{ chainId: 'kyve-1', poolId: 1, endpoints: [] }] },
      'pools[0].endpoints: expected at least one URL (leave the key out to use the chain preset), got an array []',
    ],
    [
      'pool threshold override order',
      {
        pools: [
          {
            chainId: 'kyve-1',
            poolId: 1,
            thresholds: { heightDifferenceMin: 500, heightDifferenceMax: 400 },
          },
        ],
      },
      'pools[0].thresholds.heightDifferenceMin: heightDifferenceMin (500) must be less than heightDifferenceMax (400)',
    ],
    [
      'pool threshold override value',
      { pools: [{ chainId: 'kyve-1', poolId: 1, thresholds: { keepRecent: 0 } }] },
      'pools[0].thresholds.keepRecent: expected a positive integer number of blocks, got 0',
    ],
    [
      'duplicate pool',
      {
        pools: [
          { chainId: 'kyve-1', poolId: 1 },
          { chainId: 'kaon-1', poolId: 1 },
          { chainId: 'kyve-1', poolId: 1 },
        ],
      },
      'pools[2]: pool 1 on kyve-1 is already configured in pools[0]',
    ],
    [
      'chain key',
      { chains: { 'kyve 1': ['https://api.kyve.network'] } },
      'chains["kyve 1"]: invalid key: expected a chain id',
    ],
    [
      'chain endpoint',
      { chains: { 'kyve-1': ['api.kyve.network'] } },
      'chains["kyve-1"][0]: expected an http:// or https:// URL',
    ],
    [
      'chains as list',
      { chains: ['https://api.kyve.network'] },
      'chains: expected a table of chain id = [endpoints]',
    ],
  ])('rejects %s', (_name, patch, expected) => {
    const lines = rejectLines(trackerConfigSchema, { ...minimal, ...patch }, 'tracker.toml')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`tracker.toml: ${expected}`)
  })
})

import { ConfigError, parseWith, sidecarConfigSchema } from '@ghostfleet/core'
import { describe, expect, it } from 'vitest'
import { resolveSidecarSettings } from '../src/config/sidecar-settings.js'

const file = '/etc/ghostfleet/config.toml'

function loaded(overrides: Record<string, unknown> = {}) {
  const config = parseWith(
    sidecarConfigSchema,
    {
      node: {
        binary: '/usr/local/bin/osmosisd',
        home: '/data/osmosis',
        launcher: 'binary',
        flags: '--x 1',
        stopGraceSeconds: 10,
      },
      pool: { chainId: 'kyve-1', poolId: 1, maxPoolAgeSeconds: 1200 },
      thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
      supervision: { intervalSeconds: 20 },
      ...overrides,
    },
    file,
  )
  return { configDir: '/etc/ghostfleet', file, config }
}

describe('resolveSidecarSettings', () => {
  it('turns every duration into ms and joins the node flags of the file and of start --flags', () => {
    const settings = resolveSidecarSettings(loaded(), { flags: '--y 2' }, {})
    expect(settings).toMatchObject({
      intervalMs: 20_000,
      maxPoolAgeMs: 1_200_000,
      poolRetry: { minMs: 20_000, maxMs: 300_000 },
      dataSizeEveryMs: 60_000,
      pruning: { intervalMs: 24 * 3_600_000 },
      launch: { flags: '--x 1 --y 2', home: '/data/osmosis', configDir: '/etc/ghostfleet' },
      node: { rpcTimeoutMs: 5_000, stopGraceMs: 10_000, idleTimeoutMs: 30_000 },
      fleet: null,
      consul: null,
    })
  })

  it('takes Redis from --redis over the file, and Consul from --consul over the environment', () => {
    const settings = resolveSidecarSettings(
      loaded({ fleet: { redisUrl: 'redis://file:6379' } }),
      { redis: 'redis://flag:6379', consul: 'http://127.0.0.1:8500' },
      { GHOSTFLEET_CONSUL_URL: 'http://10.0.0.1:8500' },
    )
    expect(settings.fleet?.redisUrl).toBe('redis://flag:6379')
    expect(settings.consul?.url).toBe('http://127.0.0.1:8500')
  })

  it('rejects a bad flag or variable with a ConfigError, without the secret', () => {
    expect(() => resolveSidecarSettings(loaded(), { redis: 'http://x' }, {})).toThrow(ConfigError)
    const withSecret = () =>
      resolveSidecarSettings(loaded(), {}, { GHOSTFLEET_CONSUL_URL: 'http://token-s3cret@consul:8500' })
    expect(withSecret).toThrow(ConfigError)
    expect(withSecret).not.toThrow(/s3cret/)
  })
})

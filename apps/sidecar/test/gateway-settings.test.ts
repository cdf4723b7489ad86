import { ConfigError, parseWith, sidecarConfigSchema } from '@ghostfleet/core'
import { describe, expect, it } from 'vitest'
import { resolveSidecarSettings } from '../src/config/sidecar-settings.js'

const file = '/etc/ghostfleet/config.toml'

function resolve(overrides: Record<string, unknown>) {
  const config = parseWith(
    sidecarConfigSchema,
    {
      node: { binary: '/usr/local/bin/osmosisd', home: '/data/osmosis', launcher: 'binary' },
      pool: { chainId: 'kyve-1', poolId: 1 },
      thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
      ...overrides,
    },
    file,
  )
  return resolveSidecarSettings({ configDir: '/etc/ghostfleet', file, config }, {}, {})
}

describe('[gateway] and [peer] settings', () => {
  it('leave both off unless the config turns them on (an upgrade opens no port)', () => {
    expect(resolve({})).toMatchObject({ gateway: null, peer: null })
  })

  it('resolve the gateway with its default port and the upstream timeout in ms', () => {
    expect(resolve({ gateway: { enabled: true } }).gateway).toEqual({
      listen: '127.0.0.1:26671',
      upstreamTimeoutMs: 10_000,
    })
    expect(
      resolve({ gateway: { enabled: true, upstreamTimeoutSeconds: 0.5 } }).gateway?.upstreamTimeoutMs,
    ).toBe(500)
  })

  it('advertise the listen address itself when it names a host, and the configured URL otherwise', () => {
    expect(resolve({ peer: { listen: '10.0.0.5:26672' } }).peer).toEqual({
      listen: '10.0.0.5:26672',
      advertiseUrl: null,
      maxConcurrent: 8,
      ratePerSecond: 50,
    })
    expect(
      resolve({ peer: { listen: '0.0.0.0:26672', advertiseUrl: 'http://node-a.internal:26672' } }).peer
        ?.advertiseUrl,
    ).toBe('http://node-a.internal:26672')
  })

  it('refuse a peer listener on every interface without the URL siblings reach it at', () => {
    expect(() => resolve({ peer: { listen: '0.0.0.0:26672' } })).toThrow(ConfigError)
    expect(() => resolve({ peer: { listen: '[::]:26672' } })).toThrow(
      /^peer\.advertiseUrl is required when peer\.listen \(\[::\]:26672\) listens on every interface/,
    )
  })

  it('bound the peer limits and the upstream timeout, naming the key', () => {
    expect(() => resolve({ peer: { listen: '10.0.0.5:1', maxConcurrent: 0 } })).toThrow(/peer\.maxConcurrent/)
    expect(() => resolve({ gateway: { upstreamTimeoutSeconds: 1000 } })).toThrow(
      /gateway\.upstreamTimeoutSeconds: must be between 0\.1 and 120 seconds/,
    )
  })
})

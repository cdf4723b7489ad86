import { parseWith, sidecarConfigSchema, ValidationError } from '@ghostfleet/core'
import { describe, expect, it } from 'vitest'
import { resolveSidecarSettings } from '../src/config/sidecar-settings.js'

/* The [checkpoints] table of the sidecar config, as `start` resolves it for the donor side of bootstrapping. */

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

describe('[checkpoints] settings', () => {
  it('default to a directory beside the node home, a 1 h TTL, a 50 GiB pinned cap, 4 transfers, no byte cap', () => {
    expect(resolve({}).checkpoints).toEqual({
      dir: '/data/osmosis-ghostfleet-checkpoints',
      ttlMs: 3_600_000,
      maxPinnedBytes: 50 * 1024 ** 3,
      maxTransfers: 4,
      transferBytesPerSecond: null,
    })
  })

  it('take what the file says, in bytes and milliseconds', () => {
    expect(
      resolve({
        checkpoints: {
          dir: '/ssd/checkpoints',
          ttlSeconds: 600,
          maxPinnedGiB: 0.5,
          maxTransfers: 2,
          transferMiBPerSecond: 100,
        },
      }).checkpoints,
    ).toEqual({
      dir: '/ssd/checkpoints',
      ttlMs: 600_000,
      maxPinnedBytes: 512 * 1024 ** 2,
      maxTransfers: 2,
      transferBytesPerSecond: 100 * 1024 ** 2,
    })
  })

  it("keep transfers below the peer listener's cap, so siblings' RPC reads always find a slot", () => {
    expect(
      resolve({ peer: { maxConcurrent: 4 }, checkpoints: { maxTransfers: 16 } }).checkpoints.maxTransfers,
    ).toBe(3)
    expect(resolve({ peer: { maxConcurrent: 1 } }).checkpoints.maxTransfers).toBe(1)
  })

  it('refuse values out of range, naming the key', () => {
    expect(() => resolve({ checkpoints: { ttlSeconds: 0 } })).toThrow(ValidationError)
    expect(() => resolve({ checkpoints: { ttlSeconds: 0 } })).toThrow(
      /checkpoints\.ttlSeconds: must be between 1 and 604800 seconds/,
    )
    expect(() => resolve({ checkpoints: { maxTransfers: 0 } })).toThrow(/checkpoints\.maxTransfers/)
    expect(() => resolve({ checkpoints: { maxPinnedGiB: -1 } })).toThrow(/checkpoints\.maxPinnedGiB/)
    expect(() => resolve({ checkpoints: { keepFor: 5 } })).toThrow(/checkpoints: unknown key "keepFor"/)
  })
})

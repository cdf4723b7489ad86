import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ValidationError } from '@ghostfleet/core'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveTrackerSettings } from '../src/config.js'
import {
  ConfigFileError,
  loadTrackerConfig,
  resolvePoolSettings,
  resolveTrackerConfig,
} from '../src/index.js'

describe('loadTrackerConfig', () => {
  let dir: TempDir
  beforeAll(async () => {
    dir = await tempDir('ghostfleet-tracker-config-')
  })
  afterAll(async () => {
    await dir.remove()
  })

  async function file(name: string, text: string): Promise<string> {
    const full = path.join(dir.path, name)
    await writeFile(full, text)
    return full
  }

  it('reads the file, then GHOSTFLEET_REDIS_URL, then the flags, and applies the defaults', async () => {
    const config = await file(
      'full.toml',
      [
        'redisUrl = "redis://file:6379"',
        'pollIntervalSeconds = 5',
        '[defaults]',
        'maxUnavailable = 2',
        '[[pools]]',
        'chainId = "kyve-1"',
        'poolId = 1',
        'maxUnavailable = 1',
        'pruningIntervalHours = 6',
        'thresholds = { heightDifferenceMax = 5000 }',
        '[chains]',
        '"kaon-1" = ["https://kaon.example"]',
      ].join('\n'),
    )
    const fromFile = await loadTrackerConfig({ file: config, env: {} })
    expect(fromFile).toMatchObject({
      redisUrl: 'redis://file:6379',
      listen: '127.0.0.1:26680',
      pollIntervalSeconds: 5,
    })
    const fromEnv = await loadTrackerConfig({
      file: config,
      env: { GHOSTFLEET_REDIS_URL: 'redis://env:6379' },
    })
    expect(fromEnv.redisUrl).toBe('redis://env:6379')
    const fromFlags = await loadTrackerConfig({
      file: config,
      redisUrl: 'redis://flag:6379',
      listen: '0.0.0.0:9000',
      env: { GHOSTFLEET_REDIS_URL: 'redis://env:6379' },
    })
    expect(fromFlags).toMatchObject({ redisUrl: 'redis://flag:6379', listen: '0.0.0.0:9000' })

    expect(resolvePoolSettings(resolveTrackerConfig(fromFile), { chainId: 'kyve-1', poolId: 1 })).toEqual({
      maxUnavailable: 1,
      pruningIntervalMs: 6 * 3_600_000,
      margin: 1,
      thresholdOverrides: { heightDifferenceMax: 5000 },
      endpoints: undefined,
    })
    expect(
      resolvePoolSettings(resolveTrackerConfig(fromFile), { chainId: 'kaon-1', poolId: 9 }),
    ).toMatchObject({
      maxUnavailable: 2,
      pruningIntervalMs: 24 * 3_600_000,
      endpoints: ['https://kaon.example'],
    })
  })

  it('works from flags alone', async () => {
    const config = await loadTrackerConfig({ redisUrl: 'redis://127.0.0.1:6379', env: {} })
    expect(config.pools).toEqual([])
  })

  it('names the file, the key and the value of every problem, and the source of an override', async () => {
    const bad = await file(
      'bad.toml',
      'redisUrl = "http://x"\npollIntervalSecs = 3\n[defaults]\nmaxUnavailable = 0\n',
    )
    const error = await loadTrackerConfig({ file: bad, env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    const message = (error as Error).message
    expect(message).toContain(
      `${bad}: redisUrl: expected a redis:// or rediss:// URL with a host, got "http://x"`,
    )
    expect(message).toContain('defaults.maxUnavailable: expected an integer ≥ 1, got 0')
    expect(message).toContain('unknown key "pollIntervalSecs"')

    const missing = await loadTrackerConfig({ env: {} }).catch((e: unknown) => e)
    expect((missing as Error).message).toMatch(/redisUrl: .*missing/)
    const badFlag = await loadTrackerConfig({ redisUrl: 'nope', env: {} }).catch((e: unknown) => e)
    expect((badFlag as Error).message).toMatch(/\(with --redis\): redisUrl/)
  })

  it('turns on the bootstrap API only with a fleet key, and resolves its request expiry', async () => {
    const config = await file(
      'peer.toml',
      [
        'redisUrl = "redis://file:6379"',
        '[peer]',
        'listen = "127.0.0.1:26681"',
        '[bootstrap]',
        'requestTtlSeconds = 90',
      ].join('\n'),
    )
    await expect(resolveTrackerSettings({ config }, {})).rejects.toThrow(
      /\[peer\] listen is set but GHOSTFLEET_FLEET_KEY is not: the tracker's peer listener authenticates every request with the fleet key/,
    )
    const settings = await resolveTrackerSettings(
      { config },
      { GHOSTFLEET_FLEET_KEY: randomBytes(32).toString('hex') },
    )
    expect(settings.config.peer).toEqual({ listen: '127.0.0.1:26681', ratePerSecond: 5, burst: 20 })
    expect(settings.config.bootstrap).toEqual({ requestTtlMs: 90_000 })
    const off = await loadTrackerConfig({ redisUrl: 'redis://x:1', env: {} })
    expect(resolveTrackerConfig(off).bootstrap).toEqual({ requestTtlMs: 1_800_000 })
    expect(off.peer.listen).toBeUndefined()
  })

  it('reports unreadable files and TOML syntax errors with the position', async () => {
    await expect(loadTrackerConfig({ file: path.join(dir.path, 'absent.toml'), env: {} })).rejects.toThrow(
      /absent\.toml: cannot read the config file \(ENOENT\)/,
    )
    const broken = await file('broken.toml', 'redisUrl = "redis://x:1"\n[defaults\n')
    const error = await loadTrackerConfig({ file: broken, env: {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigFileError)
    expect((error as Error).message).toMatch(
      new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: not valid TOML`),
    )
  })
})

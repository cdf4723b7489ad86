import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FleetConfigError, resolveFleetSettings } from '../src/fleet/fleet-settings.js'
import { sidecarIdFromHostname } from '../src/fleet/sidecar-id.js'

const fleet = (overrides: Record<string, unknown> = {}) => ({
  trackerTimeoutSeconds: 60,
  reportIntervalSeconds: 5,
  ...overrides,
})

describe('fleet settings', () => {
  it('stays standalone without a Redis URL', () => {
    expect(resolveFleetSettings({ fleet: fleet(), env: {} })).toBeNull()
  })

  it('takes --redis over the configured URL, hides its password, and converts the timings', () => {
    const settings = resolveFleetSettings({
      fleet: fleet({ redisUrl: 'redis://file:6379', sidecarId: 'osmo-a' }),
      redisFlag: 'redis://user:secret@flag:6380',
      env: {},
    })
    expect(settings).toMatchObject({
      redisUrl: 'redis://user:secret@flag:6380',
      redisUrlRedacted: 'redis://user:***@flag:6380',
      sidecarId: 'osmo-a',
      sidecarIdSource: 'config',
      fleetKey: null,
      reportIntervalMs: 5_000,
      trackerTimeoutMs: 60_000,
    })
  })

  it('refuses a bad --redis URL and a set but unusable fleet key, naming them', () => {
    expect(() => resolveFleetSettings({ fleet: fleet(), redisFlag: 'http://x', env: {} })).toThrow(
      /--redis.*scheme "http"/,
    )
    expect(() =>
      resolveFleetSettings({
        fleet: fleet({ redisUrl: 'redis://h:1' }),
        env: { GHOSTFLEET_FLEET_KEY: 'abcd' },
      }),
    ).toThrow(FleetConfigError)
    const key = randomBytes(32).toString('hex')
    expect(
      resolveFleetSettings({ fleet: fleet({ redisUrl: 'redis://h:1' }), env: { GHOSTFLEET_FLEET_KEY: key } })
        ?.fleetKey,
    ).not.toBeNull()
  })

  it('derives the sidecar id from the host name, within the id charset', () => {
    const settings = resolveFleetSettings({
      fleet: fleet({ redisUrl: 'redis://h:1' }),
      env: {},
      hostname: () => 'osmo host#1.example.org',
    })
    expect(settings).toMatchObject({ sidecarId: 'osmo-host-1.example.org', sidecarIdSource: 'hostname' })
    expect(sidecarIdFromHostname('a'.repeat(100))).toHaveLength(64)
    expect(sidecarIdFromHostname('{}:')).toBe('sidecar')
    expect(sidecarIdFromHostname('node_7-b.local')).toBe('node_7-b.local')
  })
})

describe('per-sidecar Redis credentials', () => {
  const secret = 'S3cr/et@p:ss?#%Ω'
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gf-fleet-settings-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Everything of the settings that may be printed: all but the credentials handed to createRedis. */
  const printable = (settings: ReturnType<typeof resolveFleetSettings>) => {
    const { redisCredentials: _hidden, ...rest } = settings ?? { redisCredentials: null }
    return JSON.stringify(rest)
  }

  it('takes the user name and password from the environment, apart from the URL', () => {
    const settings = resolveFleetSettings({
      fleet: fleet({ redisUrl: 'redis://10.0.0.5:6379', sidecarId: 'osmo-a' }),
      env: { GHOSTFLEET_REDIS_USERNAME: 'gf-sidecar-osmo-a', GHOSTFLEET_REDIS_PASSWORD: secret },
    })
    expect(settings?.redisCredentials).toEqual({ username: 'gf-sidecar-osmo-a', password: secret })
    expect(settings?.redisUser).toBe('gf-sidecar-osmo-a')
    expect(printable(settings)).not.toContain('S3cr')
  })

  it('reads the password from a file named in the config (one trailing newline dropped)', async () => {
    const file = path.join(dir, 'redis-password')
    await writeFile(file, `${secret}\n`)
    await chmod(file, 0o600)
    const settings = resolveFleetSettings({
      fleet: fleet({
        redisUrl: 'redis://10.0.0.5:6379',
        redisUsername: 'gf-sidecar-a',
        redisPasswordFile: file,
      }),
      env: {},
    })
    expect(settings?.redisCredentials).toEqual({ username: 'gf-sidecar-a', password: secret })
    // The environment's file wins over the config's.
    const other = path.join(dir, 'other')
    await writeFile(other, 'from-env-file')
    expect(
      resolveFleetSettings({
        fleet: fleet({ redisUrl: 'redis://h:1', redisUsername: 'u', redisPasswordFile: file }),
        env: { GHOSTFLEET_REDIS_PASSWORD_FILE: other },
      })?.redisCredentials?.password,
    ).toBe('from-env-file')
  })

  it('refuses a missing or empty password file, a user without password, and credentials in two places', async () => {
    const empty = path.join(dir, 'empty')
    await writeFile(empty, '\n')
    expect(() =>
      resolveFleetSettings({
        fleet: fleet({ redisUrl: 'redis://h:1', redisPasswordFile: path.join(dir, 'missing') }),
        env: {},
      }),
    ).toThrow(/fleet.redisPasswordFile .*missing.*ENOENT/)
    expect(() =>
      resolveFleetSettings({ fleet: fleet({ redisUrl: 'redis://h:1', redisPasswordFile: empty }), env: {} }),
    ).toThrow(/the password file is empty/)
    expect(() =>
      resolveFleetSettings({ fleet: fleet({ redisUrl: 'redis://h:1', redisUsername: 'u' }), env: {} }),
    ).toThrow(/fleet.redisUsername is set but no password/)
    let message = ''
    try {
      resolveFleetSettings({
        fleet: fleet({ redisUrl: `redis://u:${encodeURIComponent(secret)}@h:1` }),
        env: { GHOSTFLEET_REDIS_PASSWORD: 'other-secret' },
      })
    } catch (error) {
      expect(error).toBeInstanceOf(FleetConfigError)
      message = (error as Error).message
    }
    expect(message).toContain('keep them in one place')
    expect(message).toContain('redis://u:***@h:1')
    expect(message).not.toMatch(/S3cr|other-secret/)
  })

  it('hides a URL password with "/" or "@" in the error of a bad URL', () => {
    expect(() =>
      resolveFleetSettings({ fleet: fleet(), redisFlag: 'redis://:Ab/Cd+Ef=@10.0.0.5:6379', env: {} }),
    ).toThrow(/redis:\/\/:\*\*\*@10\.0\.0\.5:6379/)
    expect(() =>
      resolveFleetSettings({ fleet: fleet(), redisFlag: 'redis://:Ab/Cd+Ef=@10.0.0.5:6379', env: {} }),
    ).not.toThrow(/Ab\/Cd/)
  })
})

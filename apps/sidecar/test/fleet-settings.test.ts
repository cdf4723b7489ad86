import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
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

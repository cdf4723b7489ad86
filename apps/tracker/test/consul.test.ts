import { fileURLToPath } from 'node:url'
import { ConsulRegistration, ConsulSettingsError, sidecarTags } from '@ghostfleet/discovery'
import {
  eventually,
  type FakeConsul,
  freePort,
  getText,
  metricValue,
  startFakeConsul,
  startProcess,
  type TestProcess,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consulSettingsFrom, fleetViewSchema, type Tracker } from '../src/index.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { SimSidecar } from './helpers/sim-sidecar.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const wait = { timeoutMs: 20_000 }

async function fleetView(tracker: Tracker) {
  return fleetViewSchema.parse(await (await fetch(`${tracker.url}/v1/fleet`)).json())
}

describe('tracker with Consul', () => {
  let fleet: TestFleet
  let consul: FakeConsul
  let tracker: Tracker
  let silentInRedis: ConsulRegistration
  let reporting: SimSidecar

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 3, currentKey: '2000', paused: true }])
    consul = await startFakeConsul({
      minCheckIntervalMs: 20,
      minDeregisterCriticalAfterMs: 0,
      reapIntervalMs: 50,
    })
    tracker = await startTestTracker(trackerConfig(fleet), { id: 'consul-a', consul: { url: consul.url } })
    // Registered in Consul, never reports on Redis (crashed, or partitioned from Redis).
    silentInRedis = new ConsulRegistration({
      url: consul.url,
      service: 'ghostfleet-sidecar',
      id: 'ghost-in-consul',
      address: '127.0.0.1',
      port: 1,
      tags: sidecarTags({ chainId: 'kyve-1', poolId: 3, mode: 'normal' }),
      check: { http: 'http://127.0.0.1:1/readyz', interval: '1s' },
    })
    await silentInRedis.register()
    // Reports on Redis, never registered in Consul.
    reporting = new SimSidecar(fleet.sidecarRedis, { id: 'redis-only', poolId: 3, nodeHeight: 2010 })
    await reporting.tick()
    await waitUntilLeading(tracker)
  })
  afterAll(async () => {
    await silentInRedis?.close()
    await tracker?.stop()
    await consul?.close()
    await fleet?.stop()
  })

  it('registers itself as ghostfleet-tracker with an HTTP check on /readyz', async () => {
    await eventually(() => {
      const self = consul.services().get('ghostfleet-tracker-consul-a')
      expect(self?.definition.Name).toBe('ghostfleet-tracker')
      expect(self?.definition.Port).toBe(Number(new URL(tracker.url).port))
      expect(consul.checkStatuses('ghostfleet-tracker-consul-a')).toEqual(['passing'])
    }, wait)
  })

  it('shows sidecars registered but silent and reporting but unregistered in /v1/fleet and /metrics', async () => {
    await eventually(async () => {
      await reporting.tick()
      const discovery = (await fleetView(tracker)).tracker.discovery
      expect(discovery).toMatchObject({
        consul: consul.url,
        consulUp: true,
        registered: true,
        registeredButSilent: ['ghost-in-consul'],
        reportingButUnregistered: ['redis-only'],
        lastError: null,
      })
      const text = await getText(`${tracker.url}/metrics`)
      expect(metricValue(text, 'ghostfleet_tracker_consul_up')).toBe(1)
      expect(metricValue(text, 'ghostfleet_tracker_sidecars_registered_but_silent')).toBe(1)
      expect(metricValue(text, 'ghostfleet_tracker_sidecars_reporting_but_unregistered')).toBe(1)
    }, wait)
  })

  it('a sidecar in both lists is in neither', async () => {
    const both = new ConsulRegistration({
      url: consul.url,
      service: 'ghostfleet-sidecar',
      id: 'redis-only',
      address: '127.0.0.1',
      port: 2,
      check: { http: 'http://127.0.0.1:2/readyz', interval: '1s' },
    })
    try {
      await both.register()
      await eventually(async () => {
        await reporting.tick()
        const discovery = (await fleetView(tracker)).tracker.discovery
        expect(discovery?.reportingButUnregistered).toEqual([])
        expect(discovery?.registeredButSilent).toEqual(['ghost-in-consul'])
      }, wait)
    } finally {
      await both.deregister()
      await both.close()
    }
  })

  it('Consul down: shown and counted, decisions go on; back up and forgetful: registered again', async () => {
    await consul.stop()
    await eventually(async () => {
      const view = await fleetView(tracker)
      expect(view.tracker.discovery?.consulUp).toBe(false)
      expect(view.tracker.discovery?.lastError).not.toBeNull()
      expect(view.tracker.role).toBe('leader')
      expect(metricValue(await getText(`${tracker.url}/metrics`), 'ghostfleet_tracker_consul_up')).toBe(0)
    }, wait)
    await consul.restart()
    await eventually(async () => {
      expect(consul.services().has('ghostfleet-tracker-consul-a')).toBe(true)
      const discovery = (await fleetView(tracker)).tracker.discovery
      expect(discovery?.consulUp).toBe(true)
      expect(discovery?.lastError).toBeNull()
    }, wait)
  })

  it('stop deregisters', async () => {
    const second = await startTestTracker(trackerConfig(fleet), {
      id: 'consul-b',
      consul: { url: consul.url },
    })
    await eventually(() => expect(consul.services().has('ghostfleet-tracker-consul-b')).toBe(true), wait)
    await second.stop()
    expect(consul.services().has('ghostfleet-tracker-consul-b')).toBe(false)
    expect(consul.services().has('ghostfleet-tracker-consul-a')).toBe(true)
  })

  it('SIGTERM deregisters the process, which exits 0', async () => {
    const port = await freePort()
    const proc: TestProcess = startProcess(
      process.execPath,
      [CLI, 'start', '--redis', fleet.redis.url, '--listen', `127.0.0.1:${port}`, '--id', 'consul-proc'],
      { env: { GHOSTFLEET_CONSUL_URL: consul.url, GHOSTFLEET_LOG_LEVEL: 'warn' } },
    )
    await eventually(() => {
      if (proc.hasExited()) throw new Error(`tracker exited: ${proc.output()}`)
      expect(consul.services().get('ghostfleet-tracker-consul-proc')?.definition.Port).toBe(port)
    }, wait)
    proc.child.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    expect(consul.services().has('ghostfleet-tracker-consul-proc')).toBe(false)
  })
})

describe('Consul settings from flags and environment', () => {
  it('--consul wins over GHOSTFLEET_CONSUL_URL; the token comes from GHOSTFLEET_CONSUL_TOKEN', () => {
    expect(consulSettingsFrom(undefined, {})).toBeNull()
    expect(consulSettingsFrom(undefined, { GHOSTFLEET_CONSUL_URL: 'http://10.0.0.1:8500' })).toEqual({
      url: 'http://10.0.0.1:8500',
    })
    expect(
      consulSettingsFrom('http://127.0.0.1:8500/', {
        GHOSTFLEET_CONSUL_URL: 'http://10.0.0.1:8500',
        GHOSTFLEET_CONSUL_TOKEN: 'secret-token',
      }),
    ).toEqual({ url: 'http://127.0.0.1:8500', token: 'secret-token' })
  })

  it('rejects a malformed URL or token naming where it came from', () => {
    expect(() => consulSettingsFrom('consul:8500', {})).toThrow(ConsulSettingsError)
    expect(() => consulSettingsFrom('consul:8500', {})).toThrow(
      /--consul "consul:8500": expected .*host:port/,
    )
    expect(() => consulSettingsFrom(undefined, { GHOSTFLEET_CONSUL_URL: 'http://consul' })).toThrow(
      /GHOSTFLEET_CONSUL_URL "http:\/\/consul"/,
    )
    expect(() =>
      consulSettingsFrom('http://127.0.0.1:8500', { GHOSTFLEET_CONSUL_TOKEN: 'has space' }),
    ).toThrow(/GHOSTFLEET_CONSUL_TOKEN: expected an ACL token/)
  })

  it('the CLI exits 2 on a bad --consul without starting', async () => {
    const proc = startProcess(process.execPath, [
      CLI,
      'start',
      '--redis',
      'redis://127.0.0.1:1',
      '--consul',
      'consul:8500',
    ])
    expect(await proc.exited).toBe(2)
    expect(proc.output()).toMatch(/--consul "consul:8500"/)
  })
})

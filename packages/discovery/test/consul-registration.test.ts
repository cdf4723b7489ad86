import { eventually, type FakeConsul, startFakeConsul } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ConsulDiscoverer,
  ConsulRegistration,
  type ConsulRegistrationOptions,
  ConsulRequestError,
  InvalidOptionsError,
  listSidecarsFromConsul,
  sidecarTags,
} from '../src/index.js'
import { captureLogger } from './helpers/capture-logger.js'
import { request } from './helpers/http-request.js'
import { type ReadyzServer, startReadyzServer } from './helpers/readyz-server.js'

const fast = { minCheckIntervalMs: 20, minDeregisterCriticalAfterMs: 0, reapIntervalMs: 50 }
const wait = { timeoutMs: 20_000 }

describe('ConsulRegistration against the fake agent', () => {
  let consul: FakeConsul
  let readyz: ReadyzServer
  const open: { close(): unknown }[] = []

  function registration(overrides: Partial<ConsulRegistrationOptions> = {}) {
    const logger = captureLogger()
    const created = new ConsulRegistration({
      url: consul.url,
      service: 'ghostfleet-sidecar',
      id: 'ghostfleet-sidecar-host1-1',
      address: '127.0.0.1',
      port: readyz.port,
      tags: sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'normal' }),
      meta: { version: '0.1.0', node_id: 'abc123' },
      check: {
        http: readyz.readyzUrl,
        interval: '50ms',
        timeout: '1s',
        deregisterCriticalServiceAfter: '5m',
      },
      logger,
      ...overrides,
    })
    open.push(created)
    return { registration: created, logger }
  }

  function discoverer(passingOnly = true) {
    const created = new ConsulDiscoverer({ url: consul.url, passingOnly })
    open.push(created)
    return created
  }

  beforeAll(async () => {
    consul = await startFakeConsul(fast)
    readyz = await startReadyzServer(200)
  })
  beforeEach(async () => {
    await consul.restart()
    readyz.setStatus(200)
  })
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close()
  })
  afterAll(async () => {
    await consul.close()
    await readyz.close()
  })

  it('registers: in the catalog at once, in health ?passing once /readyz answers 200', async () => {
    const { registration: sidecar } = registration()
    await sidecar.register()
    const catalog = await request('GET', `${consul.url}/v1/catalog/service/ghostfleet-sidecar`)
    expect(catalog.json()).toEqual([
      expect.objectContaining({
        ServiceID: 'ghostfleet-sidecar-host1-1',
        ServiceName: 'ghostfleet-sidecar',
        ServiceTags: ['chain:kyve-1', 'pool:1', 'mode:normal'],
        ServiceAddress: '127.0.0.1',
        ServicePort: readyz.port,
        ServiceMeta: { version: '0.1.0', node_id: 'abc123' },
      }),
    ])
    const checks = (await request('GET', `${consul.url}/v1/agent/checks`)).json()
    expect(checks).toEqual({
      'service:ghostfleet-sidecar-host1-1': expect.objectContaining({
        Definition: expect.objectContaining({
          HTTP: readyz.readyzUrl,
          Interval: '50ms',
          Timeout: '1s',
          DeregisterCriticalServiceAfter: '5m0s',
        }),
      }),
    })
    // A new check starts critical, so a just-registered sidecar is not offered to anyone yet.
    const consulDiscoverer = discoverer()
    await eventually(
      async () =>
        expect(await consulDiscoverer.discover()).toEqual([
          {
            id: 'ghostfleet-sidecar-host1-1',
            address: `127.0.0.1:${readyz.port}`,
            chainId: 'kyve-1',
            poolId: 1,
            mode: 'normal',
            healthy: true,
            meta: { version: '0.1.0', node_id: 'abc123' },
          },
        ]),
      wait,
    )
    expect(sidecar.status()).toMatchObject({ state: 'idle', registered: true, consecutiveFailures: 0 })
  })

  it('a failing /readyz makes the check critical: gone from passing discovery, listed as unhealthy', async () => {
    const { registration: sidecar } = registration()
    await sidecar.register()
    const passing = discoverer()
    await eventually(async () => expect(await passing.discover()).toHaveLength(1), wait)
    readyz.setStatus(422)
    await eventually(async () => expect(await passing.discover()).toEqual([]), wait)
    const all = await listSidecarsFromConsul({ url: consul.url })
    expect(all).toEqual([expect.objectContaining({ id: 'ghostfleet-sidecar-host1-1', healthy: false })])
  })

  it('Consul deregisters a service critical for longer than deregisterCriticalServiceAfter', async () => {
    readyz.setStatus(503)
    const { registration: sidecar } = registration({
      check: {
        http: readyz.readyzUrl,
        interval: '50ms',
        timeout: '1s',
        deregisterCriticalServiceAfter: '300ms',
      },
    })
    await sidecar.register()
    expect(consul.services().has(sidecar.id)).toBe(true)
    await eventually(() => expect(consul.services().has(sidecar.id)).toBe(false), wait)
    expect(await listSidecarsFromConsul({ url: consul.url })).toEqual([])
  })

  it('a live sidecar reaped while not ready is registered again by the loop, so only dead ones stay gone', async () => {
    readyz.setStatus(503)
    const { registration: sidecar } = registration({
      check: {
        http: readyz.readyzUrl,
        interval: '50ms',
        timeout: '1s',
        deregisterCriticalServiceAfter: '300ms',
      },
    })
    sidecar.start(100)
    await eventually(() => expect(sidecar.status().reregistrationsTotal).toBeGreaterThanOrEqual(1), wait)
    readyz.setStatus(200)
    await eventually(() => expect(consul.checkStatuses(sidecar.id)).toEqual(['passing']), wait)
  })

  it('re-registers on its next tick after the agent restarted and forgot everything', async () => {
    const { registration: sidecar, logger } = registration()
    sidecar.start(50)
    await eventually(() => expect(consul.services().has(sidecar.id)).toBe(true), wait)
    await consul.restart()
    expect(consul.services().size).toBe(0)
    await eventually(() => expect(consul.services().has(sidecar.id)).toBe(true), wait)
    await eventually(() => expect(sidecar.status().reregistrationsTotal).toBe(1), wait)
    expect(consul.services().get(sidecar.id)?.definition.Tags).toEqual([
      'chain:kyve-1',
      'pool:1',
      'mode:normal',
    ])
    expect(logger.messages('info').join('\n')).toMatch(/does not hold the service/)
    expect(sidecar.status()).toMatchObject({ state: 'running', registered: true })
  })

  it('updateTags re-registers at once with the new mode', async () => {
    const { registration: sidecar } = registration()
    await sidecar.register()
    await sidecar.updateTags(sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'ghost' }))
    expect(consul.services().get(sidecar.id)?.definition.Tags).toEqual([
      'chain:kyve-1',
      'pool:1',
      'mode:ghost',
    ])
    const everyone = discoverer(false)
    expect(await everyone.discover()).toEqual([expect.objectContaining({ mode: 'ghost' })])
    expect(sidecar.status().tags).toEqual(['chain:kyve-1', 'pool:1', 'mode:ghost'])
  })

  it('updateTags refuses malformed tags and changes nothing', async () => {
    const { registration: sidecar } = registration()
    await sidecar.register()
    await expect(sidecar.updateTags(['chain:kyve-1', 'pool:one'])).rejects.toThrow(InvalidOptionsError)
    await expect(sidecar.updateTags(['mode:sleepy'])).rejects.toThrow(/expected one of normal, ghost/)
    expect(sidecar.status().tags).toEqual(['chain:kyve-1', 'pool:1', 'mode:normal'])
    expect(consul.services().get(sidecar.id)?.definition.Tags).toEqual([
      'chain:kyve-1',
      'pool:1',
      'mode:normal',
    ])
  })

  it('updateTags while Consul is down rejects, keeps the tags, and the loop applies them when it is back', async () => {
    const { registration: sidecar } = registration()
    sidecar.start(50)
    await eventually(() => expect(sidecar.status().registered).toBe(true), wait)
    await consul.stop()
    const ghost = sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'ghost' })
    const failure = await sidecar.updateTags(ghost).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ConsulRequestError)
    expect((failure as ConsulRequestError).status).toBeUndefined()
    expect(sidecar.status()).toMatchObject({ tags: ghost, registered: false })
    // The agent comes back with its data directory: it still holds the old tags.
    await consul.start()
    await eventually(() => expect(consul.services().get(sidecar.id)?.definition.Tags).toEqual(ghost), wait)
    await eventually(() => expect(sidecar.status().registered).toBe(true), wait)
  })

  it('deregister on shutdown removes the service and ends the loop', async () => {
    const { registration: sidecar } = registration()
    const { registration: witness } = registration({ id: 'ghostfleet-sidecar-host2-1' })
    sidecar.start(30)
    await eventually(() => expect(consul.services().has(sidecar.id)).toBe(true), wait)
    await sidecar.deregister()
    expect(consul.services().has(sidecar.id)).toBe(false)
    expect(sidecar.status()).toMatchObject({ state: 'stopped', registered: false })
    const requestsAfter = consul.requests.length
    // Another loop on the same agent ticks several times; the stopped one must not have sent anything since.
    witness.start(30)
    const witnessTicks = () =>
      consul.requests.slice(requestsAfter).filter((r) => r.path === '/v1/agent/services').length
    await eventually(() => expect(witnessTicks()).toBeGreaterThanOrEqual(4), wait)
    const sent = consul.requests.slice(requestsAfter)
    expect(sent.filter((r) => r.path === '/v1/agent/service/register')).toHaveLength(1) // the witness' own
    expect(consul.services().has(sidecar.id)).toBe(false)
  })

  it('deregister succeeds when the agent already forgot the service', async () => {
    const { registration: sidecar } = registration()
    await sidecar.register()
    await consul.restart()
    await expect(sidecar.deregister()).resolves.toBeUndefined()
  })

  it('Consul down: the loop survives, counts and logs failures, and registers again once the agent is back', async () => {
    const { registration: sidecar, logger } = registration()
    sidecar.start(50)
    await eventually(() => expect(sidecar.status().registered).toBe(true), wait)
    await consul.stop()
    await eventually(() => expect(sidecar.status().consecutiveFailures).toBeGreaterThanOrEqual(3), wait)
    expect(sidecar.status()).toMatchObject({ state: 'running', registered: false })
    expect(sidecar.status().lastError).toMatch(
      /no answer from http:\/\/127\.0\.0\.1:\d+\/v1\/agent\/services/,
    )
    expect(logger.messages('warn').length).toBeGreaterThanOrEqual(3)
    // register() itself tells its caller.
    await expect(sidecar.register()).rejects.toThrow(ConsulRequestError)
    // The agent comes back without its data directory.
    await consul.restart()
    await eventually(() => expect(consul.services().has(sidecar.id)).toBe(true), wait)
    await eventually(
      () => expect(sidecar.status()).toMatchObject({ registered: true, consecutiveFailures: 0 }),
      wait,
    )
    expect(sidecar.status().failuresTotal).toBeGreaterThanOrEqual(3)
  })

  it('register() reports an unreachable agent to its caller', async () => {
    const { registration: sidecar } = registration()
    await consul.stop()
    const error = await sidecar.register().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConsulRequestError)
    expect(String(error)).toMatch(
      /register service ghostfleet-sidecar-host1-1: no answer from .*ECONNREFUSED/,
    )
    await consul.start()
  })
})

describe('ConsulRegistration and ConsulDiscoverer with ACLs', () => {
  const token = 'c0ffee00-0000-4000-8000-00000000beef'
  let consul: FakeConsul
  let readyz: ReadyzServer
  const open: { close(): unknown }[] = []

  function registration(tokenOption: string | undefined) {
    const logger = captureLogger()
    const created = new ConsulRegistration({
      url: consul.url,
      ...(tokenOption === undefined ? {} : { token: tokenOption }),
      service: 'ghostfleet-tracker',
      id: 'ghostfleet-tracker-host1',
      address: '127.0.0.1',
      port: readyz.port,
      check: { http: readyz.readyzUrl, interval: '50ms' },
      logger,
    })
    open.push(created)
    return { registration: created, logger }
  }

  beforeAll(async () => {
    consul = await startFakeConsul({ ...fast, aclToken: token })
    readyz = await startReadyzServer(200)
  })
  afterEach(async () => {
    for (const item of open.splice(0)) await item.close()
    await consul.restart()
  })
  afterAll(async () => {
    await consul.close()
    await readyz.close()
  })

  it('without a token, registration is refused with 403 and the reason', async () => {
    const { registration: tracker } = registration(undefined)
    const error = await tracker.register().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConsulRequestError)
    expect((error as ConsulRequestError).status).toBe(403)
    expect((error as ConsulRequestError).reason).toMatch(
      /lacks permission 'service:write' on "ghostfleet-tracker"/,
    )
    expect(consul.services().size).toBe(0)
  })

  it('with an unknown token every call is refused: ACL not found; the loop logs and keeps going', async () => {
    const { registration: tracker, logger } = registration('not-the-token')
    await expect(tracker.register()).rejects.toThrow(/answered 403: ACL not found/)
    tracker.start(30)
    await eventually(() => expect(tracker.status().consecutiveFailures).toBeGreaterThanOrEqual(2), wait)
    expect(logger.lines.filter((line) => line.level === 'warn')[0]?.fields['err']).toMatch(/ACL not found/)
    const discoverer = new ConsulDiscoverer({
      url: consul.url,
      token: 'not-the-token',
      service: 'ghostfleet-tracker',
    })
    open.push(discoverer)
    await expect(discoverer.discover()).rejects.toMatchObject({ status: 403, reason: 'ACL not found' })
  })

  it('with the token it registers, and discovery needs the token too', async () => {
    const { registration: tracker } = registration(token)
    await tracker.register()
    expect(consul.services().has('ghostfleet-tracker-host1')).toBe(true)
    expect(consul.requests.filter((r) => r.path === '/v1/agent/service/register').at(-1)?.token).toBe('valid')

    const withToken = new ConsulDiscoverer({
      url: consul.url,
      token,
      service: 'ghostfleet-tracker',
      passingOnly: false,
    })
    open.push(withToken)
    expect(await withToken.discover()).toEqual([expect.objectContaining({ id: 'ghostfleet-tracker-host1' })])

    // Consul filters anonymous reads instead of refusing them: an empty list, and a warning to the operator.
    const logger = captureLogger()
    const anonymous = new ConsulDiscoverer({
      url: consul.url,
      service: 'ghostfleet-tracker',
      passingOnly: false,
      logger,
    })
    open.push(anonymous)
    expect(await anonymous.discover()).toEqual([])
    expect(await anonymous.discover()).toEqual([])
    expect(logger.messages('warn')).toEqual([
      expect.stringMatching(/default policy is deny: configure a token/),
    ])
  })
})

describe('ConsulRegistration options', () => {
  const valid: ConsulRegistrationOptions = {
    url: 'http://127.0.0.1:8500',
    service: 'ghostfleet-sidecar',
    id: 'ghostfleet-sidecar-host1-1',
    address: '10.0.0.5',
    port: 26670,
    tags: ['chain:kyve-1', 'pool:1', 'mode:normal'],
    meta: { version: '0.1.0', node_id: 'abc' },
    check: { http: 'http://10.0.0.5:26670/readyz' },
  }

  function problems(options: unknown): string {
    try {
      new ConsulRegistration(options as ConsulRegistrationOptions)
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError)
      return (error as Error).message
    }
    throw new Error('the options were accepted')
  }

  it('accepts valid options and fills the check defaults', async () => {
    const registration = new ConsulRegistration(valid)
    expect(registration.status()).toMatchObject({ state: 'idle', registered: false, tags: valid.tags })
    await registration.close()
  })

  it('names every bad option with what was expected and what it got', () => {
    expect(problems({ ...valid, url: 'consul:8500' })).toContain(
      'url: consul url must be http(s)://host:port, got "consul:8500"',
    )
    expect(problems({ ...valid, url: 'http://127.0.0.1' })).toContain(
      'consul url must be http(s)://host:port',
    )
    expect(problems({ ...valid, url: 'http://user:secret@127.0.0.1:8500' })).toContain(
      '"http://user:***@127.0.0.1:8500"',
    )
    expect(problems({ ...valid, service: 'sidecar' })).toContain(
      'service: expected one of "ghostfleet-sidecar"',
    )
    expect(problems({ ...valid, id: 'has space' })).toContain('id: expected a service id')
    expect(problems({ ...valid, address: '0.0.0.0' })).toContain('not a wildcard bind address')
    expect(problems({ ...valid, port: 0 })).toContain('port: expected a port from 1 to 65535, got 0')
    expect(problems({ ...valid, tags: ['pool:x'] })).toContain('tags[0]: expected a pool id')
    expect(problems({ ...valid, tags: ['a', 'a'] })).toContain('tags[1]: tag "a" is listed twice')
    expect(problems({ ...valid, meta: { 'consul-version': '1' } })).toContain('reserved by Consul')
    expect(problems({ ...valid, meta: { version: 1 } })).toContain('meta.version: expected a string value')
    expect(problems({ ...valid, check: { ...valid.check, interval: '10' } })).toContain(
      'check.interval: expected a duration such as "10s"',
    )
    expect(problems({ ...valid, check: { http: 'ftp://x/readyz' } })).toContain(
      'check.http: expected the http(s) URL',
    )
    expect(problems({ ...valid, token: 'abc\n' })).toContain('token: expected an ACL token')
    expect(problems({ ...valid, passingOnly: true })).toContain('unknown key "passingOnly"')
    const all = problems({ ...valid, url: 'x', port: -1 })
    expect(all).toContain('url:')
    expect(all).toContain('port:')
  })

  it('start() refuses an interval that is not a whole number of milliseconds ≥ 10', async () => {
    const registration = new ConsulRegistration(valid)
    expect(() => registration.start(0)).toThrow(InvalidOptionsError)
    expect(() => registration.start(1.5)).toThrow(/from 10 to 86400000/)
    expect(registration.status().state).toBe('idle')
    await registration.close()
  })
})

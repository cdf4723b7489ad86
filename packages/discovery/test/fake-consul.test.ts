/**
 * The fake must behave as the documented API does, or every other test here proves nothing. These tests talk
 * to it with plain `fetch`, so they do not depend on the `consul` client or on this package's code.
 */
import { eventually, type FakeConsul, startFakeConsul } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from './helpers/http-request.js'
import { type ReadyzServer, startReadyzServer } from './helpers/readyz-server.js'

const fast = { minCheckIntervalMs: 20, minDeregisterCriticalAfterMs: 0, reapIntervalMs: 50 }

async function put(consul: FakeConsul, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  return await request('PUT', `${consul.url}${path}`, text, headers)
}

async function get(consul: FakeConsul, path: string, headers: Record<string, string> = {}) {
  return await request('GET', `${consul.url}${path}`, undefined, headers)
}

function service(readyz: ReadyzServer, overrides: Record<string, unknown> = {}) {
  return {
    ID: 'sc-a',
    Name: 'ghostfleet-sidecar',
    Tags: ['chain:kyve-1', 'pool:1', 'mode:normal'],
    Address: '127.0.0.1',
    Port: readyz.port,
    Meta: { version: '0.1.0' },
    Check: {
      HTTP: readyz.readyzUrl,
      Interval: '50ms',
      Timeout: '1s',
      DeregisterCriticalServiceAfter: '300ms',
    },
    ...overrides,
  }
}

describe('fake Consul agent', () => {
  let consul: FakeConsul
  let readyz: ReadyzServer

  beforeAll(async () => {
    consul = await startFakeConsul(fast)
    readyz = await startReadyzServer(200)
  })
  afterEach(async () => {
    await consul.restart()
    readyz.setStatus(200)
  })
  afterAll(async () => {
    await consul.close()
    await readyz.close()
  })

  it('rejects register bodies as the agent does, with 400 and its reason, and registers nothing', async () => {
    const cases: [unknown, RegExp][] = [
      ['{not json', /^Request decode failed: /],
      [{ ID: 'x' }, /^Missing service name$/],
      [
        { Name: 'svc', Port: '80' },
        /^Request decode failed: json: cannot unmarshal string .*Port.* of type int$/,
      ],
      [{ Name: 'svc', Address: '0.0.0.0' }, /^Invalid service address$/],
      [
        { Name: 'svc', Meta: { 'bad key': 'v' } },
        /^Invalid Service Meta: .*Key contains invalid characters$/,
      ],
      [{ Name: 'svc', Meta: { 'consul-x': 'v' } }, /^Invalid Service Meta: .*reserved for internal use$/],
      [{ Name: 'svc', Check: { HTTP: 'http://127.0.0.1:1/' } }, /^Invalid check: Interval must be > 0/],
      [
        { Name: 'svc', Check: { HTTP: 'http://127.0.0.1:1/', Interval: '10' } },
        /^Request decode failed: time: missing unit/,
      ],
      [
        { Name: 'svc', Check: { HTTP: 'http://x/', Interval: '1s', Status: 'ok' } },
        /^Status for checks must/,
      ],
    ]
    for (const [body, reason] of cases) {
      const answer = await put(consul, '/v1/agent/service/register', body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.text).toMatch(reason)
    }
    expect(consul.services().size).toBe(0)
  })

  it('answers 501 for check kinds it does not run instead of pretending', async () => {
    const answer = await put(consul, '/v1/agent/service/register', { Name: 'svc', Check: { TTL: '10s' } })
    expect(answer.status).toBe(501)
    expect(consul.services().size).toBe(0)
  })

  it('accepts snake_case keys and defaults the id to the name', async () => {
    const answer = await put(consul, '/v1/agent/service/register', {
      name: 'svc',
      port: 1,
      check: { http: readyz.readyzUrl, interval: '1s', deregister_critical_service_after: '1m' },
    })
    expect(answer.status).toBe(200)
    const agent = (await get(consul, '/v1/agent/service/svc')).json() as Record<string, unknown>
    expect(agent).toMatchObject({ ID: 'svc', Service: 'svc', Port: 1, Tags: [], Meta: {} })
    expect(typeof agent['ContentHash']).toBe('string')
  })

  it('runs the HTTP check: critical until it passes, then critical again when /readyz fails', async () => {
    expect(
      (
        await put(
          consul,
          '/v1/agent/service/register',
          service(readyz, { Check: { ...service(readyz).Check, DeregisterCriticalServiceAfter: '' } }),
        )
      ).status,
    ).toBe(200)
    await eventually(() => expect(consul.checkStatuses('sc-a')).toEqual(['passing']), { timeoutMs: 15_000 })
    const healthy = (await get(consul, '/v1/health/service/ghostfleet-sidecar?passing')).json() as unknown[]
    expect(healthy).toHaveLength(1)
    expect(healthy[0]).toMatchObject({
      Node: { Node: 'fake-node', Address: '127.0.0.1', Datacenter: 'dc1' },
      Service: { ID: 'sc-a', Service: 'ghostfleet-sidecar', Port: readyz.port, Meta: { version: '0.1.0' } },
      Checks: [
        { CheckID: 'serfHealth', Status: 'passing' },
        { CheckID: 'service:sc-a', Status: 'passing' },
      ],
    })
    readyz.setStatus(503)
    await eventually(() => expect(consul.checkStatuses('sc-a')).toEqual(['critical']), { timeoutMs: 15_000 })
    expect((await get(consul, '/v1/health/service/ghostfleet-sidecar?passing=true')).json()).toEqual([])
    expect((await get(consul, '/v1/health/service/ghostfleet-sidecar')).json()).toHaveLength(1)
    readyz.setStatus(429)
    await eventually(() => expect(consul.checkStatuses('sc-a')).toEqual(['warning']), { timeoutMs: 15_000 })
    expect((await get(consul, '/v1/health/service/ghostfleet-sidecar?passing')).json()).toEqual([])
    expect((await get(consul, '/v1/health/service/ghostfleet-sidecar?passing=maybe')).status).toBe(400)
  })

  it('reaps a service whose check stays critical longer than DeregisterCriticalServiceAfter', async () => {
    readyz.setStatus(503)
    await put(consul, '/v1/agent/service/register', service(readyz))
    expect(consul.services().has('sc-a')).toBe(true)
    await eventually(() => expect(consul.services().has('sc-a')).toBe(false), { timeoutMs: 15_000 })
    expect((await get(consul, '/v1/catalog/services')).json()).toEqual({})
  })

  it('keeps a passing service that has DeregisterCriticalServiceAfter', async () => {
    await put(consul, '/v1/agent/service/register', service(readyz))
    await eventually(() => expect(consul.checkStatuses('sc-a')).toEqual(['passing']), { timeoutMs: 15_000 })
    const hitsBefore = readyz.hits()
    await eventually(() => expect(readyz.hits()).toBeGreaterThan(hitsBefore + 5), { timeoutMs: 15_000 })
    expect(consul.services().has('sc-a')).toBe(true)
  })

  it('applies the documented one-minute minimum to DeregisterCriticalServiceAfter by default', async () => {
    const strict = await startFakeConsul({ minCheckIntervalMs: 20, reapIntervalMs: 20 })
    try {
      readyz.setStatus(503)
      await put(strict, '/v1/agent/service/register', service(readyz))
      await eventually(() => expect(strict.checkStatuses('sc-a')).toEqual(['critical']), {
        timeoutMs: 15_000,
      })
      // Many reaper runs later (each 20 ms), the 300 ms setting has been raised to a minute: still there.
      const hits = readyz.hits()
      await eventually(() => expect(readyz.hits()).toBeGreaterThan(hits + 20), { timeoutMs: 15_000 })
      expect(strict.services().has('sc-a')).toBe(true)
    } finally {
      await strict.close()
    }
  })

  it('lists the catalog and answers deregistration like Consul ≥ 1.9', async () => {
    await put(consul, '/v1/agent/service/register', service(readyz))
    await put(
      consul,
      '/v1/agent/service/register',
      service(readyz, { ID: 'sc-b', Tags: ['chain:kyve-1', 'pool:2'] }),
    )
    expect((await get(consul, '/v1/catalog/services')).json()).toEqual({
      'ghostfleet-sidecar': ['chain:kyve-1', 'pool:1', 'mode:normal', 'pool:2'],
    })
    const nodes = (await get(consul, '/v1/catalog/service/ghostfleet-sidecar?tag=pool:2')).json()
    expect(nodes).toEqual([
      expect.objectContaining({
        Node: 'fake-node',
        ServiceID: 'sc-b',
        ServicePort: readyz.port,
        ServiceAddress: '127.0.0.1',
      }),
    ])
    expect((await put(consul, '/v1/agent/service/deregister/sc-a')).status).toBe(200)
    const unknown = await put(consul, '/v1/agent/service/deregister/sc-a')
    expect(unknown.status).toBe(404)
    expect(unknown.text).toMatch(/^Unknown service ID "sc-a"/)
    expect((await get(consul, '/v1/agent/service/sc-a')).status).toBe(404)
    expect(Object.keys((await get(consul, '/v1/agent/services')).json() as object)).toEqual(['sc-b'])
  })

  it('refuses the wrong method and another datacenter', async () => {
    expect((await get(consul, '/v1/agent/service/register')).status).toBe(405)
    const other = await get(consul, '/v1/health/service/ghostfleet-sidecar?dc=dc2')
    expect(other.status).toBe(500)
    expect(other.text).toBe('No path to datacenter')
    expect((await get(consul, '/v1/health/service/ghostfleet-sidecar?dc=dc1')).status).toBe(200)
  })

  it('blocks a query with ?index until the state changes', async () => {
    const first = await get(consul, '/v1/health/service/ghostfleet-sidecar')
    const index = Number(first.headers['x-consul-index'])
    expect(index).toBeGreaterThan(0)
    let answered = false
    const blocked = get(consul, `/v1/health/service/ghostfleet-sidecar?index=${index}&wait=30s`).then(
      (answer) => {
        answered = true
        return answer
      },
    )
    // The request is parked at the agent (it has arrived and not been answered).
    await eventually(() =>
      expect(consul.requests.filter((r) => r.query['index'] === String(index))).toHaveLength(1),
    )
    expect(answered).toBe(false)
    await put(consul, '/v1/agent/service/register', service(readyz))
    const answer = await blocked
    expect(Number(answer.headers['x-consul-index'])).toBeGreaterThan(index)
    expect(answer.json()).toHaveLength(1)
    expect((await get(consul, '/v1/health/service/x?index=abc')).status).toBe(400)
  })

  it('forgets everything on restart and refuses connections while stopped', async () => {
    await put(consul, '/v1/agent/service/register', service(readyz))
    await consul.stop()
    await expect(get(consul, '/v1/agent/services')).rejects.toThrow(/ECONNREFUSED/)
    await consul.start()
    expect(consul.services().has('sc-a')).toBe(true)
    await consul.restart()
    expect(consul.services().size).toBe(0)
  })
})

describe('fake Consul agent with ACLs', () => {
  let consul: FakeConsul
  let readyz: ReadyzServer
  const token = 'b1gs3cr3t-0000-4000-8000-000000000001'

  beforeAll(async () => {
    consul = await startFakeConsul({ ...fast, aclToken: token })
    readyz = await startReadyzServer(200)
  })
  afterAll(async () => {
    await consul.close()
    await readyz.close()
  })

  it('refuses writes without a token, and any request with an unknown token', async () => {
    const anonymous = await put(consul, '/v1/agent/service/register', service(readyz))
    expect(anonymous.status).toBe(403)
    expect(anonymous.text).toBe(
      `Permission denied: anonymous token lacks permission 'service:write' on "ghostfleet-sidecar"`,
    )
    const wrong = await get(consul, '/v1/health/service/ghostfleet-sidecar', { 'X-Consul-Token': 'nope' })
    expect(wrong.status).toBe(403)
    expect(wrong.text).toBe('ACL not found')
    expect(consul.services().size).toBe(0)
  })

  it('accepts the token as X-Consul-Token, as a bearer token, or as ?token=', async () => {
    expect(
      (await put(consul, '/v1/agent/service/register', service(readyz), { 'X-Consul-Token': token })).status,
    ).toBe(200)
    const bearer = await get(consul, '/v1/agent/services', { Authorization: `Bearer ${token}` })
    expect(Object.keys(bearer.json() as object)).toEqual(['sc-a'])
    expect((await get(consul, `/v1/agent/service/sc-a?token=${token}`)).status).toBe(200)
  })

  it('filters list reads for the anonymous token instead of refusing them, as Consul does', async () => {
    await put(consul, '/v1/agent/service/register', service(readyz), { 'X-Consul-Token': token })
    const anonymous = await get(consul, '/v1/health/service/ghostfleet-sidecar')
    expect(anonymous.status).toBe(200)
    expect(anonymous.json()).toEqual([])
    expect(anonymous.headers['x-consul-default-acl-policy']).toBe('deny')
    // Only authenticated callers learn that something was filtered.
    expect(anonymous.headers['x-consul-results-filtered-by-acls']).toBeUndefined()
    expect((await get(consul, '/v1/agent/service/sc-a')).status).toBe(403)
    const withToken = await get(consul, '/v1/health/service/ghostfleet-sidecar', { 'X-Consul-Token': token })
    expect(withToken.json()).toHaveLength(1)
  })
})

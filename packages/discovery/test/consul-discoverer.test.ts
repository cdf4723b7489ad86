import { once } from 'node:events'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { ValidationError } from '@ghostfleet/core'
import { type FakeConsul, startFakeConsul } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  ConsulDiscoverer,
  ConsulRequestError,
  InvalidOptionsError,
  listSidecarsFromConsul,
} from '../src/index.js'
import { captureLogger } from './helpers/capture-logger.js'
import { request } from './helpers/http-request.js'

/** Registers straight through the HTTP API, so these tests do not depend on ConsulRegistration. */
async function registerRaw(consul: FakeConsul, body: Record<string, unknown>): Promise<void> {
  const answer = await request('PUT', `${consul.url}/v1/agent/service/register`, JSON.stringify(body))
  expect(answer.status, answer.text).toBe(200)
}

describe('ConsulDiscoverer', () => {
  let consul: FakeConsul
  const open: ConsulDiscoverer[] = []
  const discoverer = (options: Partial<ConstructorParameters<typeof ConsulDiscoverer>[0]> = {}) => {
    const created = new ConsulDiscoverer({ url: consul.url, ...options })
    open.push(created)
    return created
  }

  beforeAll(async () => {
    consul = await startFakeConsul({
      minCheckIntervalMs: 20,
      minDeregisterCriticalAfterMs: 0,
      reapIntervalMs: 50,
    })
  })
  beforeEach(async () => {
    await consul.restart()
  })
  afterEach(() => {
    for (const item of open.splice(0)) item.close()
  })
  afterAll(async () => {
    await consul.close()
  })

  it('maps instances to targets: service address or node address, tags, meta, health', async () => {
    // Initial status given explicitly, so no check has to run for this test.
    await registerRaw(consul, {
      ID: 'a',
      Name: 'ghostfleet-sidecar',
      Address: '10.0.0.5',
      Port: 26670,
      Tags: ['chain:osmosis-1', 'pool:7', 'mode:ghost', 'extra'],
      Meta: { version: '0.1.0', node_id: 'n1' },
      Check: { TCP: '127.0.0.1:1', Interval: '1h', Status: 'passing' },
    })
    await registerRaw(consul, {
      ID: 'b',
      Name: 'ghostfleet-sidecar',
      Port: 26671,
      Check: { TCP: '127.0.0.1:1', Interval: '1h', Status: 'critical' },
    })
    await registerRaw(consul, { ID: 'v6', Name: 'ghostfleet-sidecar', Address: '::1', Port: 26672 })
    await registerRaw(consul, { ID: 'other', Name: 'something-else', Port: 1 })

    const all = await discoverer({ passingOnly: false }).discover()
    expect(all.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      {
        id: 'a',
        address: '10.0.0.5:26670',
        chainId: 'osmosis-1',
        poolId: 7,
        mode: 'ghost',
        healthy: true,
        meta: { version: '0.1.0', node_id: 'n1' },
      },
      { id: 'b', address: '127.0.0.1:26671', healthy: false, meta: {} },
      { id: 'v6', address: '[::1]:26672', healthy: true, meta: {} },
    ])
    const passing = await discoverer().discover()
    expect(passing.map((target) => target.id).sort()).toEqual(['a', 'v6'])
    expect(consul.requests.at(-1)?.query).toHaveProperty('passing', 'true')
  })

  it('keeps an instance with malformed tags, without the malformed values, and warns', async () => {
    await registerRaw(consul, {
      ID: 'x',
      Name: 'ghostfleet-sidecar',
      Port: 1,
      Tags: ['pool:one', 'mode:normal', 'mode:ghost'],
    })
    const logger = captureLogger()
    expect(await discoverer({ logger }).discover()).toEqual([
      { id: 'x', address: '127.0.0.1:1', healthy: true, meta: {} },
    ])
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          id: 'x',
          problems: [
            'tag "pool:one": expected a pool id (an integer ≥ 0)',
            'tag "mode:ghost" repeats mode:; the value is ignored',
          ],
        }),
      }),
    ])
  })

  it('skips an instance registered without a port, with a warning', async () => {
    await registerRaw(consul, { ID: 'noport', Name: 'ghostfleet-sidecar' })
    await registerRaw(consul, { ID: 'ok', Name: 'ghostfleet-sidecar', Port: 2 })
    const logger = captureLogger()
    expect((await discoverer({ logger }).discover()).map((target) => target.id)).toEqual(['ok'])
    expect(logger.messages('warn')).toEqual(['Consul instance skipped: it is not a usable target'])
  })

  it('a target removed from Consul is gone from the next answer', async () => {
    await registerRaw(consul, { ID: 'gone', Name: 'ghostfleet-sidecar', Port: 3 })
    const consulDiscoverer = discoverer()
    expect(await consulDiscoverer.discover()).toHaveLength(1)
    await request('PUT', `${consul.url}/v1/agent/service/deregister/gone`)
    expect(await consulDiscoverer.discover()).toEqual([])
  })

  it('queries the configured datacenter and reports the agent refusing', async () => {
    expect(await discoverer({ datacenter: 'dc1' }).discover()).toEqual([])
    const error = await discoverer({ datacenter: 'dc9' })
      .discover()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConsulRequestError)
    expect(error).toMatchObject({ status: 500, reason: 'No path to datacenter' })
    expect(String(error)).toContain('list passing instances of ghostfleet-sidecar: http://127.0.0.1:')
  })

  it('reports an unreachable agent', async () => {
    await consul.stop()
    try {
      const error = await discoverer()
        .discover()
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConsulRequestError)
      expect((error as ConsulRequestError).status).toBeUndefined()
      expect((error as ConsulRequestError).reason).toMatch(/ECONNREFUSED/)
    } finally {
      await consul.start()
    }
  })

  it('listSidecarsFromConsul lists critical instances too', async () => {
    await registerRaw(consul, {
      ID: 'sick',
      Name: 'ghostfleet-sidecar',
      Port: 4,
      Check: { TCP: '127.0.0.1:1', Interval: '1h', Status: 'critical' },
    })
    expect(await listSidecarsFromConsul({ url: consul.url })).toEqual([
      expect.objectContaining({ id: 'sick', healthy: false }),
    ])
  })
})

describe('ConsulDiscoverer against a misbehaving server', () => {
  let server: http.Server
  let silent: net.Server
  let url: string
  let silentUrl: string
  const sockets = new Set<net.Socket>()

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ not: 'a list' }))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    // Accepts connections and never answers: a hung agent.
    silent = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    silent.listen(0, '127.0.0.1')
    await once(silent, 'listening')
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.close()
    server.closeAllConnections()
    for (const socket of sockets) socket.destroy()
    silent.close()
  })

  it('rejects an answer that is not a list of service instances, naming the endpoint', async () => {
    const discoverer = new ConsulDiscoverer({ url })
    const error = await discoverer.discover().catch((caught: unknown) => caught)
    discoverer.close()
    expect(error).toBeInstanceOf(ValidationError)
    expect(String(error)).toContain(
      `${url}/v1/health/service/ghostfleet-sidecar: expected an array of service instances`,
    )
  })

  it('gives up after requestTimeoutMs on a hung agent', async () => {
    const discoverer = new ConsulDiscoverer({ url: silentUrl, requestTimeoutMs: 200 })
    const error = await discoverer.discover().catch((caught: unknown) => caught)
    discoverer.close()
    expect(error).toBeInstanceOf(ConsulRequestError)
    expect((error as ConsulRequestError).reason).toBe('timed out after 200 ms')
  })

  it('stops waiting when the caller aborts, with the signal reason', async () => {
    const discoverer = new ConsulDiscoverer({ url: silentUrl, requestTimeoutMs: 60_000 })
    const controller = new AbortController()
    const pending = discoverer.discover(controller.signal)
    controller.abort(new Error('scrape deadline'))
    await expect(pending).rejects.toThrow('scrape deadline')
    await expect(discoverer.discover(AbortSignal.abort(new Error('already')))).rejects.toThrow('already')
    discoverer.close()
  })
})

describe('ConsulDiscoverer options', () => {
  it('names every bad option', () => {
    const attempt = (options: unknown) => () => new ConsulDiscoverer(options as { url: string })
    expect(attempt({ url: 'https://consul.example.com' })).toThrow(
      'ConsulDiscoverer: invalid options: url: consul url must be http(s)://host:port, got "https://consul.example.com"',
    )
    expect(attempt({ url: 'http://127.0.0.1:8500/v1' })).toThrow(InvalidOptionsError)
    expect(attempt({ url: 'http://127.0.0.1:99999' })).toThrow(InvalidOptionsError)
    expect(attempt({ url: 'http://127.0.0.1:8500', service: 'bad name' })).toThrow(
      'service: expected a service name',
    )
    expect(attempt({ url: 'http://127.0.0.1:8500', datacenter: '' })).toThrow(
      'datacenter: expected a datacenter name',
    )
    expect(attempt({ url: 'http://127.0.0.1:8500', passingOnly: 'yes' })).toThrow(
      'passingOnly: expected true or false',
    )
    expect(attempt({ url: 'http://127.0.0.1:8500', logger: console.log })).toThrow(
      'logger: expected a logger',
    )
    expect(attempt({ url: 'http://127.0.0.1:8500', passing: true })).toThrow('unknown key "passing"')
    expect(attempt(undefined)).toThrow('expected an options object')
  })

  it('accepts https agents, and refuses IPv6 literals the consul client cannot connect to', () => {
    new ConsulDiscoverer({ url: 'https://consul.example.com:8501/' }).close()
    expect(() => new ConsulDiscoverer({ url: 'http://[::1]:8500' })).toThrow(
      'the consul client cannot connect to IPv6 literals',
    )
  })
})

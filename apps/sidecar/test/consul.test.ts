import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { NodeMode } from '@ghostfleet/core'
import { ConsulSettingsError, consulSettingsFrom } from '@ghostfleet/discovery'
import { createLogger } from '@ghostfleet/telemetry'
import { eventually, type FakeConsul, freePort, startFakeConsul, testConfig } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SidecarConsul, sidecarServiceId } from '../src/discovery/consul.js'
import { SimNet } from './helpers/simnet.js'

const wait = { timeoutMs: 20_000 }
const logger = createLogger({ name: 'consul-test', level: 'silent', pretty: false })

describe('the sidecar registration with the fake Consul agent', () => {
  let consul: FakeConsul
  let server: http.Server
  let httpUrl: string
  let ready = true

  beforeAll(async () => {
    consul = await startFakeConsul({
      minCheckIntervalMs: 20,
      minDeregisterCriticalAfterMs: 0,
      reapIntervalMs: 50,
    })
    // The sidecar's /readyz, as Consul's HTTP check sees it.
    server = http.createServer((req, res) => {
      res.statusCode = req.url === '/readyz' && ready ? 200 : 503
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    httpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await consul?.close()
    await new Promise((resolve) => server?.close(resolve))
  })

  it('registers with the fleet id, tags, meta and a /readyz check; follows the mode; survives an agent restart; deregisters', async () => {
    let mode: NodeMode = 'normal'
    const sidecar = new SidecarConsul({
      url: consul.url,
      serviceId: 'osmo-a',
      chainId: 'kyve-1',
      poolId: 1,
      version: '1.2.3',
      nodeId: 'abcdef0123',
      httpUrl,
      mode: () => mode,
      intervalMs: 50,
      modeCheckMs: 20,
      checkInterval: '100ms',
      logger,
    })
    sidecar.start()
    try {
      await eventually(() => {
        const held = consul.services().get('osmo-a')?.definition
        expect(held?.Name).toBe('ghostfleet-sidecar')
        expect(held?.Tags).toEqual(['chain:kyve-1', 'pool:1', 'mode:normal'])
        expect(held?.Meta).toEqual({ version: '1.2.3', node_id: 'abcdef0123' })
        expect(held?.Port).toBe(Number(new URL(httpUrl).port))
        expect(consul.checkStatuses('osmo-a')).toEqual(['passing'])
      }, wait)

      mode = 'ghost'
      await eventually(() => {
        expect(consul.services().get('osmo-a')?.definition.Tags).toEqual([
          'chain:kyve-1',
          'pool:1',
          'mode:ghost',
        ])
      }, wait)

      ready = false
      await eventually(() => expect(consul.checkStatuses('osmo-a')).toEqual(['critical']), wait)
      ready = true

      await consul.restart()
      await eventually(() => {
        expect(consul.services().get('osmo-a')?.definition.Tags).toEqual([
          'chain:kyve-1',
          'pool:1',
          'mode:ghost',
        ])
      }, wait)
      // Counted when the register call has returned, which can be just after the agent shows the service.
      await eventually(() => expect(sidecar.status().reregistrationsTotal).toBeGreaterThanOrEqual(1), wait)
    } finally {
      await sidecar.stop()
    }
    expect(consul.services().has('osmo-a')).toBe(false)
  })

  it('omits node_id when unknown, and a stop while the agent is down does not throw', async () => {
    const sidecar = new SidecarConsul({
      url: consul.url,
      serviceId: 'osmo-b',
      chainId: 'kyve-1',
      poolId: 2,
      version: '1.2.3',
      httpUrl,
      mode: () => 'normal',
      intervalMs: 50,
      logger,
    })
    sidecar.start()
    await eventually(
      () => expect(consul.services().get('osmo-b')?.definition.Meta).toEqual({ version: '1.2.3' }),
      wait,
    )
    await consul.stop()
    await expect(sidecar.stop()).resolves.toBeUndefined()
    await consul.start()
  })
})

describe('sidecar Consul settings and id', () => {
  it('uses the fleet id, else ghostfleet-sidecar-<hostname>-<pool>', () => {
    expect(sidecarServiceId({ fleetSidecarId: 'osmo-a', poolId: 1 })).toBe('osmo-a')
    expect(sidecarServiceId({ fleetSidecarId: null, poolId: 7, hostname: 'host one.example' })).toBe(
      'ghostfleet-sidecar-host-one.example-7',
    )
    const long = sidecarServiceId({ fleetSidecarId: null, poolId: 12, hostname: 'h'.repeat(80) })
    expect(long).toHaveLength(64)
    expect(long.endsWith('-12')).toBe(true)
  })

  it('--consul wins over GHOSTFLEET_CONSUL_URL; bad values are named', () => {
    expect(consulSettingsFrom(undefined, {})).toBeNull()
    expect(
      consulSettingsFrom('http://127.0.0.1:8500', {
        GHOSTFLEET_CONSUL_URL: 'http://10.0.0.1:8500',
        GHOSTFLEET_CONSUL_TOKEN: 'tok',
      }),
    ).toEqual({ url: 'http://127.0.0.1:8500', token: 'tok' })
    expect(() => consulSettingsFrom('consul:8500', {})).toThrow(ConsulSettingsError)
    expect(() => consulSettingsFrom(undefined, { GHOSTFLEET_CONSUL_URL: 'ftp://x:1' })).toThrow(
      /GHOSTFLEET_CONSUL_URL "ftp:\/\/x:1": expected/,
    )
  })
})

describe('ghostfleet-sidecar start --consul', () => {
  let net: SimNet | undefined
  let consul: FakeConsul | undefined
  afterAll(async () => {
    await net?.cleanup()
    await consul?.close()
  })

  it('registers the running sidecar, tags its mode, and deregisters on SIGTERM', async () => {
    consul = await startFakeConsul()
    net = await SimNet.create()
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    // The pool far behind the node: the sidecar goes to ghost mode.
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({
        binary: await net.nodeBinary(),
        follower,
        kyveUrl: kyve.url,
        httpPort,
        pruningEnabled: false,
      }),
    )
    const sidecar = net.startSidecar(configDir, httpPort, ['--consul', consul.url])
    const id = sidecarServiceId({ fleetSidecarId: null, poolId: 1 })
    const fake = consul
    await eventually(
      () => {
        if (sidecar.hasExited()) throw new Error(`sidecar exited: ${sidecar.output()}`)
        const held = fake.services().get(id)?.definition
        expect(held?.Name).toBe('ghostfleet-sidecar')
        expect(held?.Port).toBe(httpPort)
        expect(held?.Tags).toEqual(['chain:kyve-1', 'pool:1', 'mode:ghost'])
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'registered in ghost mode' },
    )
    sidecar.child.kill('SIGTERM')
    expect(await sidecar.exited).toBe(0)
    expect(fake.services().has(id)).toBe(false)
  })
})

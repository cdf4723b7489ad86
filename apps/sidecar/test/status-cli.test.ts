import { eventually, freePort, testConfig } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'
import { SimNet } from './helpers/simnet.js'

let net: SimNet | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
})

describe('ghostfleet-sidecar status', () => {
  it('shows the running sidecar view, and asks the node and the KYVE API itself when no sidecar runs', async () => {
    net = await SimNet.create('gf-status-')
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({ binary: await net.nodeBinary(), follower, kyveUrl: kyve.url, httpPort }),
    )
    const sidecar = net.startSidecar(configDir, httpPort)
    await eventually(async () => expect((await sidecar.status())['mode']).toBe('ghost'), {
      timeoutMs: 60_000,
      intervalMs: 200,
    })

    const live = await eventually(async () => {
      const r = await sidecarCli(['status', '--config', configDir])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^node {9}height \d+, base \d+/m)
      return r
    })
    expect(live.stdout).toMatch(/^sidecar {6}running/m)
    expect(live.stdout).toMatch(/^mode {9}ghost since /m)
    expect(live.stdout).toMatch(/^pool {9}kyve-1\/1: height 5/m)
    expect(live.stdout).toMatch(/ghost at ≥ 40, normal at ≤ 20; keep-recent 60/)
    expect(live.stdout).toMatch(/^next prune {3}.*\(in ghost mode\)/m)
    const json = JSON.parse((await sidecarCli(['status', '--config', configDir, '--json'])).stdout)
    expect(json).toMatchObject({ sidecarRunning: true, mode: 'ghost', pool: { poolId: 1, height: 5 } })

    sidecar.signal('SIGTERM')
    expect(await sidecar.exited).toBe(0)
    const offline = await sidecarCli(['status', '--config', configDir])
    expect(offline.code).toBe(0)
    expect(offline.stdout).toMatch(/^sidecar {6}not running \(values read directly\)/m)
    expect(offline.stdout).toMatch(/^mode {9}ghost/m)
    expect(offline.stdout).toMatch(/^node {9}unreachable/m)
    expect(offline.stdout).toMatch(/^pool {9}kyve-1\/1: height 5 from http/m)
    expect(offline.stdout).toMatch(/^data {9}\d+(\.\d)? (KiB|MiB)/m)
  }, 120_000)
})

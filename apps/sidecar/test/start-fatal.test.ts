import { rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { startKyveSimulator } from '@ghostfleet/devnet'
import { eventually, freePort, nodeStatus, testConfig } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'
import { SimNet } from './helpers/simnet.js'

/*
 * `start` exits non-zero only for local fatal errors, each with a message that says what to fix: 2 for a
 * configuration problem (nothing started, a restart cannot help), 1 for anything else (`EXIT_CODES` in core).
 */

let simnet: SimNet | undefined
afterEach(async () => {
  await simnet?.cleanup()
  simnet = undefined
})

async function setup() {
  simnet = await SimNet.create('gf-start-fatal-')
  const producer = await simnet.startProducer(200)
  const follower = await simnet.follower(producer)
  const kyve = await simnet.startKyve({ pools: [{ id: 1, paused: true, currentKey: '5' }] })
  const httpPort = await freePort()
  const configDir = simnet.path('sidecar')
  const config = testConfig({ binary: await simnet.nodeBinary(), follower, kyveUrl: kyve.url, httpPort })
  return { net: simnet, follower, httpPort, configDir, config }
}

describe('ghostfleet-sidecar start: local fatal errors', () => {
  it('exits 2 without a config and with an invalid config, 1 with a corrupt state file', async () => {
    const { net, configDir, config } = await setup()
    const none = await sidecarCli(['start', '--config', configDir])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/config\.toml does not exist\. Create it with `ghostfleet sidecar init/)

    await net.writeConfig(configDir, { ...config, pool: { ...config.pool, poolId: -1 } })
    const invalid = await sidecarCli(['start', '--config', configDir])
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toMatch(/pool\.poolId: expected an integer ≥ 0, got -1/)

    await net.writeConfig(configDir, config)
    await writeFile(path.join(configDir, 'state.json'), '{"version":1,"mode":"ghostly"}')
    const state = await sidecarCli(['start', '--config', configDir])
    expect(state.code).toBe(1)
    expect(state.stdout + state.stderr).toMatch(/state\.json: invalid content: mode/)
  })

  it('refuses to start when the pool validates another chain, before the node is launched', async () => {
    const { net, configDir, config, follower } = await setup()
    const other = await startKyveSimulator({
      sourceChainId: 'osmosis-1',
      pools: [{ id: 1, paused: true, currentKey: '5' }],
    })
    await net.writeConfig(configDir, { ...config, pool: { ...config.pool, endpoints: [other.url] } })
    const r = await sidecarCli(['start', '--config', configDir]).finally(() => other.stop())
    expect(r.code).toBe(1)
    // pino writes JSON: the quotes around the chain ids arrive escaped.
    expect(r.stdout).toMatch(/pool 1 serves chain \\?"osmosis-1\\?", but the node runs chain \\?"sim-1\\?"/)
    expect(await nodeStatus(follower.rpcUrl)).toBeNull()
  })

  it('exits 1 for a missing home, a missing binary and a port already taken', async () => {
    const { net, configDir, config, httpPort } = await setup()
    await net.writeConfig(configDir, { ...config, node: { ...config.node, home: net.path('nowhere') } })
    const home = await sidecarCli(['start', '--config', configDir])
    expect(home.code).toBe(1)
    expect(home.stdout).toMatch(/is not a CometBFT home: the directory does not exist/)

    await net.writeConfig(configDir, {
      ...config,
      node: { ...config.node, binary: net.path('bin', 'osmosisd') },
    })
    const binary = await sidecarCli(['start', '--config', configDir])
    expect(binary.code).toBe(1)
    expect(binary.stdout).toMatch(/osmosisd was not found/)

    const blocker = listenOn(httpPort)
    try {
      await net.writeConfig(configDir, config)
      const port = await sidecarCli(['start', '--config', configDir])
      expect(port.code).toBe(1)
      expect(port.stdout).toMatch(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE.*\(http\.listen in/)
    } finally {
      ;(await blocker).close()
    }
  })

  it('exits 1 when the node home disappears while it runs, stopping the node first', async () => {
    const { net, configDir, config, follower, httpPort } = await setup()
    await net.writeConfig(configDir, config)
    const sidecar = net.startSidecar(configDir, httpPort)
    await eventually(async () => expect(await nodeStatus(follower.rpcUrl)).not.toBeNull(), {
      timeoutMs: 30_000,
    })
    await rm(follower.home, { recursive: true, force: true })
    expect(await sidecar.exited).toBe(1)
    expect(sidecar.output()).toMatch(/local fatal error: .* is gone: the node home was removed/)
    expect(await nodeStatus(follower.rpcUrl)).toBeNull()
  })
})

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { KyveSimulator } from '@ghostfleet/devnet'
import { startKyveSimulator } from '@ghostfleet/devnet'
import { freePort, type Json, type TempDir, tempDir } from '@ghostfleet/testkit'
import { parse } from 'smol-toml'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'
import { SimNet } from './helpers/simnet.js'

/* `ghostfleet-sidecar init` against the simulated KYVE API and a real simnode home. Whatever goes wrong, nothing
 * is written: the config file does not appear and app.toml is byte-for-byte unchanged. */

let kyve: KyveSimulator
let net: SimNet
let binary: string

beforeAll(async () => {
  kyve = await startKyveSimulator({
    sourceChainId: 'sim-1',
    pools: [
      { id: 1, paused: true, currentKey: '1000', maxBundleSize: 100, uploadInterval: 60 },
      { id: 2, paused: true, currentKey: '500', maxBundleSize: 1, uploadInterval: 4320 },
      { id: 3, paused: true, runtime: '@kyvejs/tendermint-ssync' },
      { id: 4, paused: true, currentKey: '1000', sourceChainId: 'osmosis-1' },
    ],
  })
  net = await SimNet.create('gf-init-')
  binary = await net.nodeBinary()
})
afterAll(async () => {
  await kyve.stop()
  await net.cleanup()
})

let dir: TempDir
let home: string
let configDir: string
let appTomlBefore: string
beforeEach(async (context) => {
  dir = await tempDir('gf-init-case-')
  context.onTestFinished(() => dir.remove())
  const info = await net.initHome(`home-${Math.random().toString(36).slice(2)}`)
  home = info.home
  configDir = path.join(dir.path, 'cfg')
  appTomlBefore = await readFile(path.join(home, 'config', 'app.toml'), 'utf8')
})

async function exists(file: string): Promise<boolean> {
  return await stat(file).then(
    () => true,
    () => false,
  )
}

async function expectNothingWritten(): Promise<void> {
  expect(await exists(path.join(configDir, 'config.toml'))).toBe(false)
  expect(await readFile(path.join(home, 'config', 'app.toml'), 'utf8')).toBe(appTomlBefore)
}

function init(extra: string[], poolId = '1') {
  return sidecarCli([
    'init',
    '--binary',
    binary,
    '--home',
    home,
    '--pool-id',
    poolId,
    '--fallback-endpoints',
    kyve.url,
    '--config',
    configDir,
    ...extra,
  ])
}

describe('ghostfleet-sidecar init', () => {
  it('reads the pool, computes the thresholds, sets app.toml pruning with a backup and writes a valid config', async () => {
    const r = await init([
      '--seeds',
      'abcd@seed.example:26656',
      '--pruning-interval',
      '12',
      '--metrics-port',
      '36999',
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/validated height 1000, max_bundle_size 100, upload_interval 60 s/)
    expect(r.stdout).toMatch(/ghost at diff ≥ 288000, normal at diff ≤ 144000, keep-recent 432000/)
    // The command to run next, in the one executable's form.
    expect(r.stdout).toContain(`then \`ghostfleet sidecar start --config ${configDir}\``)
    const config = parse(await readFile(path.join(configDir, 'config.toml'), 'utf8')) as Json
    expect(config['thresholds']).toEqual({
      heightDifferenceMax: 288000,
      heightDifferenceMin: 144000,
      keepRecent: 432000,
    })
    expect(config['node']).toMatchObject({
      binary,
      home,
      launcher: 'binary',
      flags: '--p2p.seeds abcd@seed.example:26656',
      // From the node's config.toml rpc.laddr.
      rpcEndpoint: 'http://127.0.0.1:26657',
    })
    expect(config['pool']).toMatchObject({ chainId: 'kyve-1', poolId: 1, endpoints: [kyve.url] })
    expect(config['pruning']).toMatchObject({ enabled: true, intervalHours: 12, statePruning: true })
    expect(config['http']).toEqual({ enabled: true, listen: '127.0.0.1:36999' })
    expect(config['gateway']).toMatchObject({ enabled: true, listen: '127.0.0.1:26671' })
    expect(r.stdout).toMatch(
      /RPC gateway: give the KYVE protocol node http:\/\/127\.0\.0\.1:26671 as its RPC .*in place of http:\/\/127\.0\.0\.1:26657/,
    )
    const appToml = await readFile(path.join(home, 'config', 'app.toml'), 'utf8')
    expect(appToml).toMatch(/^pruning = "custom"$/m)
    expect(appToml).toMatch(/^pruning-keep-recent = "432000"$/m)
    expect(appToml).toMatch(/^pruning-interval = "10"$/m)
    expect(appToml).toMatch(/^min-retain-blocks = 0$/m)
    expect(appToml).toMatch(/^snapshot-interval = 0$/m)
    expect(await readFile(path.join(home, 'config', 'app.toml.ghostfleet-backup'), 'utf8')).toBe(
      appTomlBefore,
    )
  })

  it('explains an existing config and changes nothing without --force; --force overwrites', async () => {
    expect((await init([])).code).toBe(0)
    const configFile = path.join(configDir, 'config.toml')
    const written = await readFile(configFile, 'utf8')
    const appToml = await readFile(path.join(home, 'config', 'app.toml'), 'utf8')

    const same = await init([])
    expect(same.code).toBe(0)
    expect(same.stdout).toMatch(/already exists with these settings; nothing changed/)
    const different = await init([], '2')
    expect(different.code).toBe(1)
    expect(different.stderr).toMatch(/already exists and differs:\n {2}pool\.poolId: 1 → 2/)
    expect(different.stderr).toMatch(/--force/)
    expect(await readFile(configFile, 'utf8')).toBe(written)
    expect(await readFile(path.join(home, 'config', 'app.toml'), 'utf8')).toBe(appToml)

    const forced = await init(['--force'], '2')
    expect(forced.code).toBe(0)
    const config = parse(await readFile(configFile, 'utf8')) as Json
    expect(config['pool'].poolId).toBe(2)
    expect(config['thresholds']).toEqual({ heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 })
  })

  it('refuses an unknown pool', async () => {
    const r = await init([], '99')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^ghostfleet sidecar init: .*pool 99 does not exist on kyve-1/)
    expect(r.stderr).toMatch(/Nothing was written/)
    await expectNothingWritten()
  })

  it('refuses a pool whose keys are not block heights (state-sync)', async () => {
    const r = await init([], '3')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/runtime "@kyvejs\/tendermint-ssync", which is not a tendermint block runtime/)
    await expectNothingWritten()
  })

  it('refuses a pool that serves another chain, naming both chains', async () => {
    const r = await init([], '4')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/pool 4 serves chain "osmosis-1", but the node runs chain "sim-1"/)
    expect(r.stderr).toMatch(/Nothing was written/)
    await expectNothingWritten()
  })

  it('refuses a home without a readable genesis file (its chain is unknown)', async () => {
    await rm(path.join(home, 'config', 'genesis.json'))
    const r = await init([])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/genesis\.json: cannot read the node's genesis file/)
    await expectNothingWritten()
  })

  it('refuses when no KYVE endpoint answers', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const r = await sidecarCli([
      'init',
      '--binary',
      binary,
      '--home',
      home,
      '--pool-id',
      '1',
      '--endpoints',
      dead,
      '--config',
      configDir,
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot read pool 1 from the KYVE API/)
    expect(r.stderr).toContain(dead)
    await expectNothingWritten()
  })

  it('refuses a bad home and a missing binary', async () => {
    const badHome = await sidecarCli([
      'init',
      '--binary',
      binary,
      '--home',
      path.join(dir.path, 'no-home'),
      '--pool-id',
      '1',
      '--fallback-endpoints',
      kyve.url,
      '--config',
      configDir,
    ])
    expect(badHome.code).toBe(1)
    expect(badHome.stderr).toMatch(/is not a CometBFT home: the directory does not exist/)
    const noBinary = await sidecarCli([
      'init',
      '--binary',
      path.join(dir.path, 'osmosisd'),
      '--home',
      home,
      '--pool-id',
      '1',
      '--fallback-endpoints',
      kyve.url,
      '--config',
      configDir,
    ])
    expect(noBinary.code).toBe(1)
    expect(noBinary.stderr).toMatch(/osmosisd was not found/)
    await writeFile(path.join(dir.path, 'osmosisd'), '#!/bin/sh\n')
    const notExecutable = await sidecarCli([
      'init',
      '--binary',
      path.join(dir.path, 'osmosisd'),
      '--home',
      home,
      '--pool-id',
      '1',
      '--fallback-endpoints',
      kyve.url,
      '--config',
      configDir,
    ])
    expect(notExecutable.code).toBe(1)
    expect(notExecutable.stderr).toMatch(/is not executable/)
    await expectNothingWritten()
    const missing = await sidecarCli(['init', '--home', home, '--config', configDir])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^ghostfleet sidecar init: missing --binary, --pool-id/)
  })

  it('imports a supervysor config, says where each field went, and restores the address book it stashed', async () => {
    const supervysor = path.join(dir.path, 'supervysor.toml')
    await writeFile(
      supervysor,
      [
        `ABCIEndpoint = "http://127.0.0.1:36657"`,
        `BinaryPath = "${binary}"`,
        `ChainId = "kyve-1"`,
        'HeightDifferenceMax = 50',
        'HeightDifferenceMin = 25',
        `HomePath = "${home}"`,
        'Interval = 15',
        'Metrics = true',
        'MetricsPort = 36998',
        `PoolEndpoints = "${kyve.url}"`,
        'PoolId = 2',
        'PruningInterval = 8',
        `Seeds = "abcd@seed.example:26656"`,
        'StatePruning = false',
        'StateRequests = false',
        '',
      ].join('\n'),
    )
    // supervysor stopped in ghost mode: its stash at <home>/addrbook.json, a ghost-written book in config/.
    const stashed = JSON.stringify({ key: 'aaaaaaaaaaaaaaaaaaaaaaaa', addrs: [] }, null, '\t')
    const ghost = JSON.stringify({ key: 'bbbbbbbbbbbbbbbbbbbbbbbb', addrs: [] }, null, '\t')
    await writeFile(path.join(home, 'addrbook.json'), stashed)
    await writeFile(path.join(home, 'config', 'addrbook.json'), ghost)

    const r = await sidecarCli(['init', '--from-supervysor', supervysor, '--config', configDir])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    for (const line of [
      /BinaryPath → node\.binary/,
      /HomePath → node\.home/,
      /PoolId → pool\.poolId = 2/,
      /PoolEndpoints → pool\.endpoints/,
      /Seeds → passed as --p2p\.seeds in normal mode/,
      /ABCIEndpoint → node\.rpcEndpoint = http:\/\/127\.0\.0\.1:36657/,
      /Interval → supervision\.intervalSeconds = 15/,
      /PruningInterval → pruning\.intervalHours = 8/,
      /StatePruning → pruning\.statePruning = false/,
      /MetricsPort → http\.listen = 127\.0\.0\.1:36998/,
      /HeightDifferenceMax\/Min → thresholds\.heightDifferenceMax\/Min = 50\/25/,
      /StateRequests → not used/,
    ]) {
      expect(r.stdout).toMatch(line)
    }
    const config = parse(await readFile(path.join(configDir, 'config.toml'), 'utf8')) as Json
    expect(config['thresholds']).toEqual({ heightDifferenceMax: 50, heightDifferenceMin: 25, keepRecent: 60 })
    expect(config['pool']).toMatchObject({ poolId: 2, endpoints: [kyve.url] })
    expect(config['node']).toMatchObject({
      rpcEndpoint: 'http://127.0.0.1:36657',
      flags: '--p2p.seeds abcd@seed.example:26656',
    })
    expect(config['pruning']).toMatchObject({ intervalHours: 8, statePruning: false })
    expect(config['supervision']).toMatchObject({ intervalSeconds: 15 })
    expect(config['http']).toEqual({ enabled: true, listen: '127.0.0.1:36998' })
    // The stash wins: supervysor's copy is back in config/, the ghost book kept aside, the stash removed.
    expect(r.stdout).toMatch(/supervysor's stashed address book .* restored/)
    expect(await readFile(path.join(home, 'config', 'addrbook.json'), 'utf8')).toBe(stashed)
    expect(await readFile(path.join(home, 'config', 'addrbook.json.supervysor-ghost'), 'utf8')).toBe(ghost)
    expect(await exists(path.join(home, 'addrbook.json'))).toBe(false)
  })

  it('lets explicit flags win over the imported supervysor values', async () => {
    const supervysor = path.join(dir.path, 'supervysor.toml')
    await writeFile(
      supervysor,
      `BinaryPath = "${binary}"\nHomePath = "${home}"\nPoolId = 2\nPoolEndpoints = "${kyve.url}"\nPruningInterval = 8\n`,
    )
    const r = await sidecarCli([
      'init',
      '--from-supervysor',
      supervysor,
      '--config',
      configDir,
      '--pruning-interval',
      '30',
    ])
    expect(r.code).toBe(0)
    const config = parse(await readFile(path.join(configDir, 'config.toml'), 'utf8')) as Json
    expect(config['pruning'].intervalHours).toBe(30)
    expect(config['pool'].poolId).toBe(2)
  })

  it('rejects a file that is not a supervysor config', async () => {
    const bad = path.join(dir.path, 'bad.toml')
    await writeFile(bad, 'PoolId = "one"\n')
    const r = await sidecarCli(['init', '--from-supervysor', bad, '--config', configDir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/is not a supervysor config: PoolId/)
    await expectNothingWritten()
  })
})

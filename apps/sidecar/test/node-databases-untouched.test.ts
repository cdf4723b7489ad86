import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  type GoleveldbDigest,
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'
import { digestOfCopy, hashTree } from './helpers/node-files.js'
import { SimNet } from './helpers/simnet.js'

/*
 * Every command that looks at a node leaves its databases exactly as the node left them: `init` (also when it
 * migrates a supervysor setup), `status` and `backup`, run against a home whose stores goleveldb wrote — and
 * left with their newest writes only in goleveldb's journal, as a node killed mid-write does, the state in which
 * opening the stores with any LevelDB engine would rewrite them. Every file of the data directory is hashed
 * before and after, and goleveldb's own view (a digest taken on a copy) must not change either.
 */

requireGoleveldb()

let net: SimNet
let gl: GoleveldbTool
let home: string
let dataDir: string
let binary: string
let kyveUrl: string
let files: Record<string, string>
let digests: { blockstore: GoleveldbDigest; state: GoleveldbDigest }

async function goleveldbView(): Promise<{ blockstore: GoleveldbDigest; state: GoleveldbDigest }> {
  return {
    blockstore: await digestOfCopy(gl, path.join(dataDir, 'blockstore.db'), net.path()),
    state: await digestOfCopy(gl, path.join(dataDir, 'state.db'), net.path()),
  }
}

async function expectUntouched(): Promise<void> {
  expect(await hashTree(dataDir)).toEqual(files)
  expect(await goleveldbView()).toEqual(digests)
}

beforeAll(async () => {
  net = await SimNet.create('gf-untouched-')
  gl = await goleveldbTool()
  const kyve = await net.startKyve({
    pools: [{ id: 1, paused: true, currentKey: '1000', maxBundleSize: 100, uploadInterval: 60 }],
  })
  kyveUrl = kyve.url
  binary = await net.nodeBinary()
  home = (await net.initHome('home')).home
  await gl.generateHome({ home, chainId: 'sim-1', blocks: 1500, closeCleanly: false })
  dataDir = path.join(home, 'data')
  files = await hashTree(dataDir)
  digests = await goleveldbView()
  expect(digests.blockstore.blockStore).toEqual({ base: 1, height: 1500 })
}, 120_000)

afterAll(async () => {
  await net.cleanup()
})

describe("commands leave a goleveldb node's databases byte-identical", () => {
  it('init', async () => {
    const configDir = net.path('cfg-init')
    const r = await sidecarCli([
      'init',
      '--binary',
      binary,
      '--home',
      home,
      '--pool-id',
      '1',
      '--fallback-endpoints',
      kyveUrl,
      '--config',
      configDir,
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    await expectUntouched()
  })

  it('init --from-supervysor (migration)', async () => {
    const supervysor = net.path('supervysor.toml')
    await writeFile(
      supervysor,
      [
        `BinaryPath = "${binary}"`,
        `HomePath = "${home}"`,
        'PoolId = 1',
        `PoolEndpoints = "${kyveUrl}"`,
        'PruningInterval = 8',
        '',
      ].join('\n'),
    )
    const r = await sidecarCli([
      'init',
      '--from-supervysor',
      supervysor,
      '--config',
      net.path('cfg-migrated'),
    ])
    expect(r.code).toBe(0)
    await expectUntouched()
  })

  it('status (no sidecar running: it reads what it can itself)', async () => {
    const r = await sidecarCli(['status', '--config', net.path('cfg-init')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^data {9}\d/m)
    await expectUntouched()
  })

  it('backup, whose copy goleveldb reads exactly as the original', async () => {
    const dest = net.path('backups')
    const r = await sidecarCli(['backup', '--home', home, '--dest-path', dest, '--compression', 'none'])
    expect(r.code).toBe(0)
    await expectUntouched()
    const copy = path.join(dest, '1500', 'data')
    expect(await gl.digest(path.join(copy, 'blockstore.db'))).toEqual(digests.blockstore)
    expect(await gl.digest(path.join(copy, 'state.db'))).toEqual(digests.state)
  })
})

import { spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type KyveSimulator, startKyveSimulator } from '@ghostfleet/devnet'
import {
  eventually,
  freePort,
  type GoleveldbTool,
  goleveldbTool,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sidecarCli } from './helpers/cli.js'

/* `ghostfleet-sidecar prune` over a goleveldb-written home (the conformance kit): the pruner's semantics are
 * tested in @ghostfleet/cometbft; here the command's contract: refusals, CometBFT's messages, exit codes,
 * progress, the report (bytes on disk), and what the node's goleveldb sees afterwards. */

let dir: TempDir
let home: string
let tool: GoleveldbTool

/** What the node will see at its next start: the block store state as goleveldb reads it. */
async function base(): Promise<{ base: number; height: number } | null> {
  return (await tool.digest(path.join(home, 'data', 'blockstore.db'))).blockStore
}

async function bytesOnDisk(): Promise<number> {
  let total = 0
  for (const db of ['blockstore.db', 'state.db']) {
    for (const f of await readdir(path.join(home, 'data', db)))
      total += (await stat(path.join(home, 'data', db, f))).size
  }
  return total
}

/** "12.3 MiB"-style sizes as the command prints them, back to bytes (±0.05 of the unit). */
function parseSize(s: string): number {
  const m = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec(s)
  if (!m) throw new Error(`not a size: ${s}`)
  return Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }[m[2] as 'B']
}

beforeAll(async () => {
  tool = await goleveldbTool()
  dir = await tempDir('gf-prune-cli-')
  home = path.join(dir.path, 'home')
  await tool.generateHome({
    home,
    chainId: 'gen-1',
    blocks: 300,
    partSize: 2000,
    validatorChangeEvery: 50,
    paramsChangeEvery: 90,
  })
}, 300_000)
afterAll(async () => {
  await dir.remove()
})

describe('ghostfleet-sidecar prune', () => {
  it('prunes below the height, reports blocks, bytes and time, shows progress, and goleveldb then sees the base', async () => {
    const r = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '120'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pruned blocks 1\.\.119: 119 blocks, 119 states/)
    expect(r.stdout).toMatch(/base 1 → 120, height 300/)
    expect(r.stdout).toMatch(/databases .* → /)
    expect(r.stdout).toMatch(/took \d+\.\d s/)
    expect(r.stderr).toMatch(/blocks: 119\/119 \(100%\)/)
    expect(await base()).toEqual({ base: 120, height: 300 })
    const seen = await tool.digest(path.join(home, 'data', 'blockstore.db'))
    expect(seen.journalErrors).toEqual([])
    expect(seen.prefixes['H:']).toBe(181)

    // While a goleveldb process (the node) holds a database the prune is refused, naming the process; nothing
    // changes.
    const holder = spawn(tool.binary, ['hold', '--db', path.join(home, 'data', 'state.db')], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let held = ''
    holder.stderr.on('data', (c: Buffer) => {
      held += c.toString()
    })
    try {
      await eventually(() => expect(held).toContain('holding'), { description: 'goleveldb holds state.db' })
      const refused = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '200'])
      expect(refused.code).toBe(3)
      expect(refused.stderr).toMatch(/refused, the node's databases are in use/)
      expect(refused.stderr).toContain(`pid ${holder.pid}`)
    } finally {
      holder.stdin.end()
      await new Promise((resolve) => holder.once('exit', resolve))
    }
    expect(await base()).toEqual({ base: 120, height: 300 })
  })

  it('is a no-op when run again, and refuses heights CometBFT refuses with its messages', async () => {
    const again = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '120'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/nothing to prune: the base is already 120/)
    const below = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '50'])
    expect(below.code).toBe(3)
    expect(below.stderr).toMatch(
      /cannot prune to height 50, it is lower than base height 120; nothing was changed/,
    )
    const above = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '301'])
    expect(above.code).toBe(3)
    expect(above.stderr).toMatch(/cannot prune beyond the latest height 300; nothing was changed/)
    const zero = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '0'])
    expect(zero.code).toBe(2)
    expect(zero.stderr).toMatch(/--until-height must be between 1 and/)
    expect(await base()).toEqual({ base: 120, height: 300 })
  })

  it('--force-compact reports the bytes on disk before and after, and goleveldb reads the compacted store', async () => {
    const before = await bytesOnDisk()
    const r = await sidecarCli([
      'prune',
      '--force',
      '--home',
      home,
      '--until-height=250',
      '--state-pruning=false',
      '--force-compact',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pruned blocks 120\.\.249: 130 blocks\n/)
    const sizes = /databases (.+) → (.+) \(compacted\)/.exec(r.stdout)
    expect(sizes).not.toBeNull()
    const after = await bytesOnDisk()
    expect(Math.abs(parseSize(sizes?.[1] as string) - before)).toBeLessThan(0.06 * 1024 ** 2)
    expect(Math.abs(parseSize(sizes?.[2] as string) - after)).toBeLessThan(0.06 * 1024 ** 2)
    expect(after).toBeLessThan(before / 2)
    const seen = await tool.digest(path.join(home, 'data', 'blockstore.db'))
    expect(seen.journalErrors).toEqual([])
    expect(seen.blockStore).toEqual({ base: 250, height: 300 })
    expect(seen.prefixes['H:']).toBe(51)
  })

  it('rejects bad usage with exit 2', async () => {
    expect((await sidecarCli(['prune', '--force', '--home', home, '--until-height', 'abc'])).code).toBe(2)
    expect((await sidecarCli(['prune', '--force', '--home', home])).code).toBe(2)
    expect(
      (
        await sidecarCli([
          'prune',
          '--force',
          '--home',
          home,
          '--until-height',
          '260',
          '--state-pruning=maybe',
        ])
      ).code,
    ).toBe(2)
  })

  it('refuses pebbledb and rocksdb backends by name, changing nothing', async () => {
    const configFile = path.join(home, 'config', 'config.toml')
    const original = await readFile(configFile, 'utf8')
    expect(original).toMatch(/^db_backend = "goleveldb"$/m)
    const before = await base()
    try {
      for (const backend of ['pebbledb', 'rocksdb']) {
        await writeFile(
          configFile,
          original.replace(/^db_backend = "goleveldb"$/m, `db_backend = "${backend}"`),
        )
        const r = await sidecarCli(['prune', '--force', '--home', home, '--until-height', '260'])
        expect(r.code).toBe(3)
        expect(r.stderr).toMatch(new RegExp(`db_backend = "${backend}"; only goleveldb`))
      }
    } finally {
      await writeFile(configFile, original)
    }
    expect(await base()).toEqual(before)
  })

  it('refuses a directory that is not a node home', async () => {
    const r = await sidecarCli([
      'prune',
      '--force',
      '--home',
      path.join(dir.path, 'nothing'),
      '--until-height',
      '5',
    ])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/config\.toml/)
  })

  describe('asks the pool before deleting anything', () => {
    let poolHome: string
    let kyve: KyveSimulator

    beforeAll(async () => {
      kyve = await startKyveSimulator({
        sourceChainId: 'gen-1',
        pools: [
          { id: 1, paused: true, currentKey: '150' },
          { id: 2, paused: true, currentKey: '290', sourceChainId: 'osmosis-1' },
        ],
      })
      poolHome = path.join(dir.path, 'pool-home')
      await tool.generateHome({ home: poolHome, chainId: 'gen-1', blocks: 300, partSize: 500 })
      // The kit writes no genesis file; a real home always has one, and the check reads the chain id from it.
      await writeFile(
        path.join(poolHome, 'config', 'genesis.json'),
        JSON.stringify({ genesis_time: '2024-01-01T00:00:00Z', chain_id: 'gen-1', app_state: {} }),
      )
    }, 300_000)
    afterAll(async () => {
      await kyve.stop()
    })

    const prune = (...extra: string[]) =>
      sidecarCli(['prune', '--home', poolHome, '--fallback-endpoints', kyve.url, ...extra])
    const poolBase = async () => (await tool.digest(path.join(poolHome, 'data', 'blockstore.db'))).blockStore

    it('refuses a height the pool has not validated (minus the margin), naming the highest safe one', async () => {
      const r = await prune('--pool-id', '1', '--until-height', '150')
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/--until-height 150 is above what pool 1 has validated: its height is 150/)
      expect(r.stderr).toMatch(/the highest safe value is 149; nothing was changed/)
      expect(await poolBase()).toEqual({ base: 1, height: 300 })
    })

    it('refuses a pool that validates another chain, even with --force', async () => {
      const r = await prune('--pool-id', '2', '--until-height', '100', '--force')
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/pool 2 serves chain "osmosis-1", but the node runs chain "gen-1"/)
      expect(await poolBase()).toEqual({ base: 1, height: 300 })
    })

    it('without a pool, or when KYVE cannot answer, prunes only with --force, and warns', async () => {
      const none = await sidecarCli(['prune', '--home', poolHome, '--until-height', '100'])
      expect(none.code).toBe(3)
      expect(none.stderr).toMatch(/no pool to check --until-height against.*Pass --force/)
      const dead = `http://127.0.0.1:${await freePort()}`
      const unreachable = await sidecarCli([
        'prune',
        '--home',
        poolHome,
        '--pool-id',
        '1',
        '--fallback-endpoints',
        dead,
        '--until-height',
        '100',
      ])
      expect(unreachable.code).toBe(3)
      expect(unreachable.stderr).toMatch(/cannot read pool 1 on kyve-1.*Pass --force/)
      expect(await poolBase()).toEqual({ base: 1, height: 300 })

      const forced = await sidecarCli(['prune', '--home', poolHome, '--until-height', '100', '--force'])
      expect(forced.code).toBe(0)
      expect(forced.stderr).toMatch(/warning: no pool to check --until-height against.*--force/)
      expect(await poolBase()).toEqual({ base: 100, height: 300 })
    })

    it('prunes to a validated height of a pool that serves the node chain', async () => {
      const r = await prune('--pool-id', '1', '--until-height', '149')
      expect(r.code).toBe(0)
      expect(r.stderr).toMatch(/pool 1 on kyve-1 serves gen-1 and has validated up to 150/)
      expect(await poolBase()).toEqual({ base: 149, height: 300 })
    })
  })
})

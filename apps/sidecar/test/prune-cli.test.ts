import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ChainStore } from '@ghostfleet/cometbft'
import { eventually, freePort, startProcess, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateHome, sidecarCli } from './helpers/cli.js'
import { nodeStatus, SIMNODE_CLI } from './helpers/simnet.js'

/* `ghostfleet-sidecar prune` over a real generated store: the pruner's semantics are tested in
 * @ghostfleet/cometbft; here the command's contract: refusals, CometBFT's messages, exit codes, progress,
 * the report, and the base a restarted node reports. */

let dir: TempDir
let home: string

async function base(): Promise<{ base: number; height: number }> {
  const store = await ChainStore.open(path.join(home, 'data'), { readOnly: true })
  try {
    return { base: store.base(), height: store.height() }
  } finally {
    await store.close()
  }
}

beforeAll(async () => {
  dir = await tempDir('gf-prune-cli-')
  home = path.join(dir.path, 'home')
  await generateHome(home, 300)
})
afterAll(async () => {
  await dir.remove()
})

describe('ghostfleet-sidecar prune', () => {
  it('prunes below the height, reports blocks, bytes and time, shows progress, and the node then reports the base', async () => {
    const r = await sidecarCli(['prune', '--home', home, '--until-height', '120'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pruned blocks 1\.\.119: 119 blocks, 119 states/)
    expect(r.stdout).toMatch(/base 1 → 120, height 300/)
    expect(r.stdout).toMatch(/databases .* → /)
    expect(r.stdout).toMatch(/took \d+\.\d s/)
    expect(r.stderr).toMatch(/blocks: 119\/119 \(100%\)/)
    expect(await base()).toEqual({ base: 120, height: 300 })

    // A node started on the pruned home says so in /status.
    const rpcPort = await freePort()
    const node = startProcess(process.execPath, [
      SIMNODE_CLI,
      'start',
      '--home',
      home,
      '--rpc.laddr',
      `tcp://127.0.0.1:${rpcPort}`,
      '--p2p.laddr',
      `tcp://127.0.0.1:${await freePort()}`,
      '--log-level',
      'error',
    ])
    try {
      const status = await eventually(
        async () => {
          const s = await nodeStatus(`http://127.0.0.1:${rpcPort}`)
          if (s === null) throw new Error('node not up')
          return s
        },
        { timeoutMs: 20_000 },
      )
      expect(status.base).toBe(120)

      // While the node holds the databases the prune is refused, naming the process; nothing changes.
      const refused = await sidecarCli(['prune', '--home', home, '--until-height', '200'])
      expect(refused.code).toBe(3)
      expect(refused.stderr).toMatch(/refused, the node's databases are in use/)
      expect(refused.stderr).toContain(`pid ${node.pid}`)
    } finally {
      expect(await node.stop('SIGTERM')).toBe(0)
    }
    expect(await base()).toEqual({ base: 120, height: 300 })
  })

  it('is a no-op when run again, and refuses heights CometBFT refuses with its messages', async () => {
    const again = await sidecarCli(['prune', '--home', home, '--until-height', '120'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/nothing to prune: the base is already 120/)
    const below = await sidecarCli(['prune', '--home', home, '--until-height', '50'])
    expect(below.code).toBe(3)
    expect(below.stderr).toMatch(/cannot prune to height 50, it is lower than base height 120/)
    const above = await sidecarCli(['prune', '--home', home, '--until-height', '301'])
    expect(above.code).toBe(3)
    expect(above.stderr).toMatch(/cannot prune beyond the latest height 300/)
    expect(await base()).toEqual({ base: 120, height: 300 })
  })

  it('takes --state-pruning=false and --force-compact, and rejects bad usage with exit 2', async () => {
    const r = await sidecarCli([
      'prune',
      '--home',
      home,
      '--until-height=150',
      '--state-pruning=false',
      '--force-compact',
    ])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/pruned blocks 120\.\.149: 30 blocks\n/)
    expect(r.stdout).toMatch(/\(compacted\)/)
    expect(await base()).toEqual({ base: 150, height: 300 })
    expect((await sidecarCli(['prune', '--home', home, '--until-height', 'abc'])).code).toBe(2)
    expect((await sidecarCli(['prune', '--home', home])).code).toBe(2)
    expect(
      (await sidecarCli(['prune', '--home', home, '--until-height', '200', '--state-pruning=maybe'])).code,
    ).toBe(2)
  })

  it('refuses a non-goleveldb backend, changing nothing', async () => {
    const configFile = path.join(home, 'config', 'config.toml')
    const original = await readFile(configFile, 'utf8')
    expect(original).toMatch(/^db_backend = "goleveldb"$/m)
    const before = await base()
    await writeFile(configFile, original.replace(/^db_backend = "goleveldb"$/m, 'db_backend = "rocksdb"'))
    try {
      const r = await sidecarCli(['prune', '--home', home, '--until-height', '200'])
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/db_backend = "rocksdb"; only goleveldb/)
    } finally {
      await writeFile(configFile, original)
    }
    expect(await base()).toEqual(before)
  })

  it('refuses a directory that is not a node home', async () => {
    const r = await sidecarCli(['prune', '--home', path.join(dir.path, 'nothing'), '--until-height', '5'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/config\.toml/)
  })
})

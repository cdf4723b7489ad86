import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { holdFlock } from '@ghostfleet/cometbft'
import {
  eventually,
  freePort,
  type GoleveldbTool,
  goleveldbTool,
  nodeStatus,
  requireGoleveldb,
  runProcess,
  SIMNODE_CLI,
  startProcess,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupsToDelete, parseBackupName } from '../src/storage/backup.js'
import { generateHome, sidecarCli } from './helpers/cli.js'
import { digestOfCopy, hashTree } from './helpers/node-files.js'

/*
 * `ghostfleet-sidecar backup` on homes written by goleveldb (the engine of real nodes): the node's files are not
 * changed by a backup, a backup opened by goleveldb holds exactly what the original holds, the node cannot start
 * during the copy, and retention and the leftover sweep touch only what Ghostfleet itself made.
 */

requireGoleveldb()

describe('backup retention', () => {
  it('orders backups by height as a number, not as a string (supervysor deleted "1000" before "999")', () => {
    const names = ['999', '1000', '1001.tar.gz', '100.zip', 'notes.txt', '.partial-12-2000.tar.gz', '0999']
    expect(backupsToDelete(names, 2)).toEqual(['100.zip', '999'])
    expect(backupsToDelete(names, 1)).toEqual(['100.zip', '999', '1000'])
    expect(backupsToDelete(names, 0)).toEqual([])
    expect(backupsToDelete(names, 10)).toEqual([])
    expect(parseBackupName('123.tar.gz')).toEqual({ height: 123n, compression: 'tar.gz' })
    expect(parseBackupName('0999')).toBeNull()
    expect(parseBackupName('12.tar')).toBeNull()
  })
})

const HEIGHT = 1500

describe('ghostfleet-sidecar backup', () => {
  let dir: TempDir
  let gl: GoleveldbTool
  let home: string
  let dataDir: string

  beforeAll(async () => {
    dir = await tempDir('gf-backup-')
    gl = await goleveldbTool()
    home = path.join(dir.path, 'home')
    await gl.generateHome({ home, chainId: 'backup-1', blocks: HEIGHT })
    dataDir = path.join(home, 'data')
  }, 120_000)
  afterAll(async () => {
    await dir.remove()
  })

  const backup = (dest: string, ...extra: string[]) =>
    sidecarCli(['backup', '--home', home, '--dest-path', dest, ...extra])

  it('leaves every file of the node byte-identical, and goleveldb sees in the backup what it sees in the node', async () => {
    const before = await hashTree(dataDir)
    const digestBefore = await digestOfCopy(gl, path.join(dataDir, 'blockstore.db'), dir.path)
    const stateBefore = await digestOfCopy(gl, path.join(dataDir, 'state.db'), dir.path)
    expect(digestBefore.blockStore).toEqual({ base: 1, height: HEIGHT })

    const dest = path.join(dir.path, 'plain')
    const r = await backup(dest, '--compression', 'none')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`backup of height ${HEIGHT} written to .*${HEIGHT}`))
    expect(await hashTree(dataDir)).toEqual(before)
    expect(await digestOfCopy(gl, path.join(dataDir, 'blockstore.db'), dir.path)).toEqual(digestBefore)

    // The backup itself, opened by goleveldb (it is a copy: opening it is fine).
    const copy = path.join(dest, String(HEIGHT), 'data')
    expect(await gl.digest(path.join(copy, 'blockstore.db'))).toEqual(digestBefore)
    expect(await gl.digest(path.join(copy, 'state.db'))).toEqual(stateBefore)

    const manifest = JSON.parse(
      await readFile(path.join(dest, String(HEIGHT), 'ghostfleet-backup.json'), 'utf8'),
    )
    expect(manifest).toMatchObject({
      format: 'ghostfleet-backup',
      chainId: 'backup-1',
      blockStore: { base: 1, height: HEIGHT },
      compression: 'none',
      archiveBytes: null,
    })
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(Object.keys(before).sort())
  })

  it('writes a tar.gz named by the height, with its manifest inside and beside it; goleveldb reads it identically', async () => {
    const before = await hashTree(dataDir)
    const dest = path.join(dir.path, 'tgz')
    const r = await backup(dest, '--compression', 'tar.gz')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const archive = path.join(dest, `${HEIGHT}.tar.gz`)
    const listing = await runProcess('tar', ['-tzf', archive])
    expect(listing.stdout).toMatch(/^data\/blockstore\.db\/CURRENT$/m)
    expect(listing.stdout).toMatch(/^ghostfleet-backup\.json$/m)
    const companion = JSON.parse(await readFile(`${archive}.ghostfleet-backup.json`, 'utf8'))
    expect(companion.archiveBytes).toBe((await stat(archive)).size)
    expect(await hashTree(dataDir)).toEqual(before)
    const out = path.join(dir.path, 'tgz-extracted')
    await mkdir(out)
    expect((await runProcess('tar', ['-xzf', archive, '-C', out])).code).toBe(0)
    expect(await gl.digest(path.join(out, 'data', 'blockstore.db'))).toEqual(
      await digestOfCopy(gl, path.join(dataDir, 'blockstore.db'), dir.path),
    )
    const again = await backup(dest, '--compression', 'tar.gz')
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/already exists/)
  })

  it('writes a zip when zip is installed, and says how to get it when it is not (leaving nothing behind)', async () => {
    const zipDest = path.join(dir.path, 'zips')
    const r = await backup(zipDest, '--compression', 'zip')
    expect(r.code).toBe(0)
    expect((await stat(path.join(zipDest, `${HEIGHT}.zip`))).size).toBeGreaterThan(0)
    const listing = await runProcess('unzip', ['-l', path.join(zipDest, `${HEIGHT}.zip`)])
    if (listing.code === 0) expect(listing.stdout).toMatch(/ghostfleet-backup\.json/)
    const noZip = path.join(dir.path, 'nozip')
    const emptyPath = path.join(dir.path, 'empty-path')
    await mkdir(emptyPath, { recursive: true })
    // flock must stay reachable (it holds the node's locks); zip must not.
    await cp('/usr/bin/flock', path.join(emptyPath, 'flock'))
    await cp('/bin/sh', path.join(emptyPath, 'sh'))
    await cp('/bin/cat', path.join(emptyPath, 'cat'))
    const missing = await sidecarCli(
      ['backup', '--home', home, '--dest-path', noZip, '--compression', 'zip'],
      { PATH: emptyPath },
    )
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/zip is not installed/)
    expect((await readdir(noZip)).filter((n) => n.startsWith('.partial-'))).toEqual([])
  })

  it('retention deletes only backups ghostfleet made; other numerically named entries are kept and listed', async () => {
    const dest = path.join(dir.path, 'retention')
    // What supervysor or an operator left there: named like backups, but not made by ghostfleet.
    for (const name of ['99', '100', '1000', '99999'])
      await mkdir(path.join(dest, name, 'data'), { recursive: true })
    await writeFile(path.join(dest, '200.tar.gz'), 'an operator archive')
    await writeFile(path.join(dest, 'README'), 'not a backup')
    // Ghostfleet backups of three heights (three homes), oldest first.
    const heights = [700, 1100, HEIGHT]
    for (const height of heights.slice(0, 2)) {
      const other = path.join(dir.path, `home-${height}`)
      await gl.generateHome({ home: other, chainId: 'backup-1', blocks: height })
      const r = await sidecarCli(['backup', '--home', other, '--dest-path', dest, '--compression', 'none'])
      expect(r.code).toBe(0)
    }
    const r = await backup(dest, '--compression', 'none', '--max-backups', '2')
    expect(r.code).toBe(0)
    // Kept: the new one and the next highest of ours (1100); removed: 700. Everything else untouched.
    expect((await readdir(dest)).sort()).toEqual([
      '100',
      '1000',
      '1100',
      '1500',
      '200.tar.gz',
      '99',
      '99999',
      'README',
    ])
    expect(r.stdout).toMatch(/removed old backup 700 \(keeping 2\)/)
    expect(r.stderr).toMatch(/warning: left alone .*: 99, 100, 200\.tar\.gz, 1000, 99999/)
  }, 120_000)

  it('the sweep deletes only partial backups of processes that are gone', async () => {
    const dest = path.join(dir.path, 'sweep')
    await mkdir(dest, { recursive: true })
    // A live process "writing" a backup, and one that has exited.
    const live = startProcess(process.execPath, ['-e', 'setInterval(() => {}, 1000)'])
    const dead = await runProcess(process.execPath, ['-e', 'console.log(process.pid)'])
    const deadPid = Number(dead.stdout.trim())
    const startOf = async (pid: number) => {
      const text = await readFile(`/proc/${pid}/stat`, 'utf8')
      return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] as string
    }
    try {
      const livePartial = `.partial-${live.pid}-${await startOf(live.pid as number)}-1400.tar.gz`
      const deadPartial = `.partial-${deadPid}-12345-1300`
      // Our own pid with another start time: a previous process that had our pid.
      const reusedPartial = `.partial-${process.pid}-1-1200.zip`
      const foreign = ['.partial-notes', '.partial-12-2000.tar.gz']
      for (const name of [livePartial, reusedPartial, ...foreign]) await writeFile(path.join(dest, name), 'x')
      await mkdir(path.join(dest, deadPartial, 'data'), { recursive: true })
      const r = await backup(dest, '--compression', 'tar.gz')
      expect(r.code).toBe(0)
      const left = (await readdir(dest)).filter((n) => n.startsWith('.partial-')).sort()
      // The sidecar CLI is a child of this test process, so the test's own pid is alive: the "reused" partial has
      // a start time that does not match, so it counts as dead.
      expect(left).toEqual([livePartial, ...foreign].sort())
      expect(r.stdout).toContain(`removed ${deadPartial}`)
      expect(r.stdout).toContain(`removed ${reusedPartial}`)
    } finally {
      await live.stop('SIGTERM')
    }
  })

  it('holds the databases for the whole copy: goleveldb (the node) cannot open them until it is done', async () => {
    // A `tar` that waits for a gate file before archiving, so the test can act in the middle of the copy.
    const bin = path.join(dir.path, 'slow-tar-bin')
    const gate = path.join(dir.path, 'gate')
    const started = path.join(dir.path, 'tar-started')
    await mkdir(bin, { recursive: true })
    const realTar = (await runProcess('sh', ['-c', 'command -v tar'])).stdout.trim()
    await writeFile(
      path.join(bin, 'tar'),
      `#!/bin/sh\ntouch '${started}'\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\nexec '${realTar}' "$@"\n`,
      { mode: 0o755 },
    )
    const dest = path.join(dir.path, 'locked-copy')
    const before = await hashTree(dataDir)
    const run = sidecarCli(['backup', '--home', home, '--dest-path', dest, '--compression', 'tar.gz'], {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    })
    await eventually(async () => expect((await stat(started)).isFile()).toBe(true), { timeoutMs: 30_000 })
    // Mid-copy: a node opening its block store fails on the lock, exactly as goleveldb does it.
    await expect(gl.open(path.join(dataDir, 'blockstore.db'))).rejects.toThrow(
      /lock|resource temporarily unavailable/i,
    )
    await expect(gl.open(path.join(dataDir, 'state.db'))).rejects.toThrow(
      /lock|resource temporarily unavailable/i,
    )
    await writeFile(gate, '')
    const r = await run
    expect(r.code).toBe(0)
    expect(await hashTree(dataDir)).toEqual(before)
  })

  it('refuses while goleveldb holds the databases (flock), naming the holder, and writes nothing', async () => {
    // The lock goleveldb takes: flock(2) on the LOCK file, held by a helper process until released.
    const holder = await holdFlock(path.join(dataDir, 'blockstore.db', 'LOCK'))
    expect(holder).not.toBeNull()
    const dest = path.join(dir.path, 'held')
    try {
      const r = await backup(dest, '--compression', 'tar.gz')
      expect(r.stderr).toMatch(/databases are in use: blockstore\.db \(pid \d+/)
    } finally {
      await holder?.release()
    }
    await expect(stat(dest)).rejects.toThrow()
  })

  it('refuses a node whose db_backend is not goleveldb, naming it', async () => {
    const pebble = path.join(dir.path, 'pebble-home')
    await cp(home, pebble, { recursive: true })
    const configToml = path.join(pebble, 'config', 'config.toml')
    const text = await readFile(configToml, 'utf8')
    await writeFile(configToml, text.replace(/db_backend = "goleveldb"/, 'db_backend = "pebbledb"'))
    const r = await sidecarCli(['backup', '--home', pebble, '--dest-path', path.join(dir.path, 'pb')])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/db_backend = "pebbledb"/)
  })
})

describe('ghostfleet-sidecar backup of a running simulated node (C++ LevelDB, fcntl lock)', () => {
  let dir: TempDir
  let home: string
  beforeAll(async () => {
    dir = await tempDir('gf-backup-sim-')
    home = path.join(dir.path, 'home')
    await generateHome(home, 300)
  })
  afterAll(async () => {
    await dir.remove()
  })

  it('refuses while a node holds the databases: a copy of a live LevelDB is not a backup', async () => {
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
    const live = path.join(dir.path, 'live')
    try {
      await eventually(async () => expect(await nodeStatus(`http://127.0.0.1:${rpcPort}`)).not.toBeNull(), {
        timeoutMs: 20_000,
      })
      const r = await sidecarCli(['backup', '--home', home, '--dest-path', live, '--compression', 'tar.gz'])
      expect(r.code).toBe(3)
      expect(r.stderr).toMatch(/databases are in use/)
      expect(r.stderr).toContain(`pid ${node.pid}`)
    } finally {
      await node.stop('SIGTERM')
    }
    await expect(stat(live)).rejects.toThrow()
  })
})

import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { eventually, freePort, runProcess, startProcess, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupsToDelete, parseBackupName } from '../src/storage/backup.js'
import { generateHome, sidecarCli } from './helpers/cli.js'
import { nodeStatus, SIMNODE_CLI } from './helpers/simnet.js'

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

describe('ghostfleet-sidecar backup', () => {
  let dir: TempDir
  let home: string
  let dest: string

  beforeAll(async () => {
    dir = await tempDir('gf-backup-')
    home = path.join(dir.path, 'home')
    dest = path.join(dir.path, 'backups')
    await generateHome(home, 300)
  })
  afterAll(async () => {
    await dir.remove()
  })

  it('writes a tar.gz named by the block height, complete and readable', async () => {
    const r = await sidecarCli(['backup', '--home', home, '--dest-path', dest, '--compression', 'tar.gz'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/backup of height 300 written to .*300\.tar\.gz/)
    const listing = await runProcess('tar', ['-tzf', path.join(dest, '300.tar.gz')])
    expect(listing.code).toBe(0)
    expect(listing.stdout).toMatch(/^data\/blockstore\.db\/CURRENT$/m)
    expect(listing.stdout).toMatch(/^data\/state\.db\//m)
    // Running it again changes nothing.
    const again = await sidecarCli(['backup', '--home', home, '--dest-path', dest, '--compression', 'tar.gz'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/already exists/)
  })

  it('writes a zip when zip is installed, and says how to get it when it is not (leaving nothing behind)', async () => {
    const zipDest = path.join(dir.path, 'zips')
    const r = await sidecarCli(['backup', '--home', home, '--dest-path', zipDest, '--compression', 'zip'])
    expect(r.code).toBe(0)
    expect((await stat(path.join(zipDest, '300.zip'))).size).toBeGreaterThan(0)
    const noZip = path.join(dir.path, 'nozip')
    const missing = await sidecarCli(
      ['backup', '--home', home, '--dest-path', noZip, '--compression', 'zip'],
      {
        PATH: path.join(dir.path, 'empty-path'),
      },
    )
    expect(missing.code).toBe(3)
    expect(missing.stderr).toMatch(/zip is not installed/)
    expect(await readdir(noZip)).toEqual([])
  })

  it('copies the directory without compression and keeps the newest backups by height', async () => {
    const plain = path.join(dir.path, 'plain')
    // Older backups by height (as supervysor names them); "99" sorts after "300" and "1000" as a string.
    for (const name of ['99', '100', '1000']) await mkdir(path.join(plain, name, 'data'), { recursive: true })
    await writeFile(path.join(plain, 'README'), 'not a backup')
    const r = await sidecarCli([
      'backup',
      '--home',
      home,
      '--dest-path',
      plain,
      '--compression',
      'none',
      '--max-backups',
      '3',
    ])
    expect(r.code).toBe(0)
    expect((await stat(path.join(plain, '300', 'data', 'blockstore.db', 'CURRENT'))).isFile()).toBe(true)
    // Kept: the new one (300) and the two highest others (1000, 100); removed: 99.
    expect((await readdir(plain)).sort()).toEqual(['100', '1000', '300', 'README'])
    expect(r.stdout).toMatch(/removed old backup 99/)
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

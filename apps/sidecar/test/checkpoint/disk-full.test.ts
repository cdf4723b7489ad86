import { execFile, spawn } from 'node:child_process'
import { cp, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { goleveldbTool, requireGoleveldb, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CheckpointInstallError,
  CheckpointRefusedError,
  installCheckpoint,
  readSealedManifest,
  recoverInterruptedInstall,
  sealCheckpoint,
  takeCheckpoint,
  type VerifiedManifest,
} from '../../src/checkpoint/index.js'
import { hashTree } from '../helpers/node-files.js'
import { addNodePrivateFiles, emptyHome, newFleetKey, writeGenesis } from './fixtures.js'

/*
 * A full disk on either side, on a real tmpfs (mounting needs root; skipped otherwise): the take and the install
 * fail with a clear error, leave no partial directory behind and change nothing in the homes. And an install that
 * died between its two renames is rolled back by the next one.
 */

requireGoleveldb()
const run = promisify(execFile)
const isRoot = process.getuid?.() === 0
const CHAIN = 'full-1'

/** Writes into `dir` until the filesystem is full (ENOSPC); the file is `.filler`. */
async function fill(dir: string): Promise<void> {
  const file = await open(path.join(dir, '.filler'), 'w')
  const chunk = Buffer.alloc(256 * 1024, 1)
  try {
    for (;;) await file.write(chunk)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    await file.close()
  }
}

describe.skipIf(!isRoot)('checkpoints on a full disk', () => {
  let dir: TempDir
  let disk: string
  let mounted = false
  let manifest: VerifiedManifest
  let checkpointData: string
  const fleetKey = newFleetKey()

  beforeAll(async () => {
    dir = await tempDir('gf-checkpoint-full-')
    const gl = await goleveldbTool()
    const source = path.join(dir.path, 'source')
    await gl.generateHome({ home: source, chainId: CHAIN, blocks: 400 })
    await writeGenesis(source, CHAIN)
    await addNodePrivateFiles(source, 'source')
    const taken = await takeCheckpoint({ home: source, checkpointsDir: path.join(dir.path, 'checkpoints') })
    await sealCheckpoint({ dir: taken.dir, fleetKey, donor: 'donor-a' })
    manifest = await readSealedManifest(taken.dir, fleetKey)
    checkpointData = path.join(taken.dir, 'data')

    disk = path.join(dir.path, 'disk')
    await mkdir(disk)
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', disk])
    mounted = true
    await cp(source, path.join(disk, 'donor'), { recursive: true })
  }, 120_000)
  afterAll(async () => {
    if (mounted) await run('umount', ['-l', disk])
    await dir?.remove()
  })

  it('a take on a full disk fails with a clear error and leaves neither a partial checkpoint nor a changed home', async () => {
    const donor = path.join(disk, 'donor')
    const checkpoints = path.join(disk, 'checkpoints')
    await mkdir(checkpoints)
    await fill(disk)
    const before = await hashTree(donor)
    try {
      const error = await takeCheckpoint({ home: donor, checkpointsDir: checkpoints }).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(CheckpointRefusedError)
      expect((error as Error).message).toMatch(
        /no space left on the filesystem of .*checkpoints.*free space and try again/,
      )
      expect(await readdir(checkpoints)).toEqual([])
      expect(await hashTree(donor)).toEqual(before)
    } finally {
      await rm(path.join(disk, '.filler'))
    }
    // With the space back, the same take works.
    const taken = await takeCheckpoint({ home: donor, checkpointsDir: checkpoints })
    expect(await readdir(checkpoints)).toEqual([taken.id])
    await rm(checkpoints, { recursive: true })
  })

  it('an install onto a full disk is refused before anything is written, naming the bytes needed', async () => {
    const home = path.join(disk, 'receiver')
    await emptyHome(home, path.join(disk, 'donor'), CHAIN, 'receiver')
    const download = path.join(dir.path, 'download')
    await cp(checkpointData, download, { recursive: true })
    await fill(disk)
    const before = await hashTree(home)
    try {
      const error = await installCheckpoint({ home, sourceDataDir: download, manifest }).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(CheckpointInstallError)
      expect((error as Error).message).toMatch(
        /not enough free space on the filesystem of .*: the install copies [0-9]+ bytes \(every file: the download is on another filesystem\)/,
      )
      expect(await hashTree(home)).toEqual(before)
      expect((await readdir(home)).filter((n) => n.startsWith('.'))).toEqual([])
    } finally {
      await rm(path.join(disk, '.filler'))
    }
    const done = await installCheckpoint({ home, sourceDataDir: download, manifest })
    expect(done.copiedFiles).toBe(manifest.files.length)
  })
})

describe('an install that died half-way', () => {
  let dir: TempDir
  beforeAll(async () => {
    dir = await tempDir('gf-checkpoint-recover-')
  })
  afterAll(async () => {
    await dir?.remove()
  })

  async function deadPid(): Promise<number> {
    const child = spawn('true')
    await new Promise((resolve) => child.once('exit', resolve))
    return child.pid as number
  }

  it('is rolled back: the data directory set aside comes back, a dead staging directory goes', async () => {
    const data = path.join(dir.path, 'home', 'data')
    await mkdir(path.join(data, 'blockstore.db'), { recursive: true })
    await writeFile(path.join(data, 'blockstore.db', 'CURRENT'), 'MANIFEST-000001\n')
    const before = await hashTree(data)
    const pid = await deadPid()
    // The crash hit after "data → aside" and before "staging → data".
    await rename(data, path.join(dir.path, 'home', `.data.checkpoint-replaced-${pid}`))
    await mkdir(path.join(dir.path, 'home', `.data.checkpoint-staging-${pid}`, 'state.db'), {
      recursive: true,
    })
    // A staging directory of a live process is not ours to remove.
    const live = spawn('sleep', ['30'])
    await mkdir(path.join(dir.path, 'home', `.data.checkpoint-staging-${live.pid}`))
    try {
      const done = await recoverInterruptedInstall(data)
      expect(done).toEqual(
        expect.arrayContaining([
          `restored ${data} from .data.checkpoint-replaced-${pid}`,
          `removed .data.checkpoint-staging-${pid}`,
        ]),
      )
      expect(await hashTree(data)).toEqual(before)
      expect((await readdir(path.join(dir.path, 'home'))).sort()).toEqual([
        `.data.checkpoint-staging-${live.pid}`,
        'data',
      ])
    } finally {
      live.kill()
    }
  })
})

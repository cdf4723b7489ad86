import { execFile } from 'node:child_process'
import { statfsSync, writeFileSync } from 'node:fs'
import { cp, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { createPeerClient, type PeerClient } from '@ghostfleet/peer'
import {
  type GoleveldbDigest,
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultDownloadRoot } from '../src/bootstrap/download-dirs.js'
import { BootstrapError } from '../src/bootstrap/errors.js'
import { type InstallFromDonorOptions, installFromDonor } from '../src/bootstrap/install-from-donor.js'
import {
  formatManifest,
  readSealedManifest,
  sealCheckpoint,
  signManifest,
  takeCheckpoint,
  type VerifiedManifest,
} from '../src/checkpoint/index.js'
import { addNodePrivateFiles, emptyHome, newFleetKey, writeGenesis } from './checkpoint/fixtures.js'
import { startTestDonor, type TestDonor } from './helpers/bootstrap-donor.js'
import { digestOfCopy, hashTree } from './helpers/node-files.js'

/*
 * The new host's side of a window clone against a real signed peer listener serving a checkpoint of a goleveldb
 * home: parallel download verified against the signed manifest and an atomic install the donor's data reads back
 * from; resume after the donor vanished mid-transfer; reuse of an earlier checkpoint's tables; and the refusals
 * (forged manifest, corrupt file, full disk, a home with data), each leaving the home as it was.
 */

requireGoleveldb()
const run = promisify(execFile)
const isRoot = process.getuid?.() === 0
const CHAIN = 'boot-1'
const DONOR = 'donor-a'
const NEW_HOST = 'new-host'

async function expectBootstrapError(
  promise: Promise<unknown>,
  failure: string,
  message: RegExp,
): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BootstrapError)
  expect((error as BootstrapError).failure).toBe(failure)
  expect((error as BootstrapError).message).toMatch(message)
}

/** Bytes in the files under `dir` (0 when it does not exist). */
async function bytesUnder(dir: string): Promise<number> {
  let sum = 0
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name)
    sum += entry.isDirectory() ? await bytesUnder(full) : (await lstat(full)).size
  }
  return sum
}

describe('bootstrap: download, resume, reuse and install from a donor', () => {
  const fleetKey = newFleetKey()
  let dir: TempDir
  let gl: GoleveldbTool
  let donorHome: string
  let checkpoints: string
  let manifest: VerifiedManifest
  let donor: TestDonor
  let client: PeerClient
  let donorDigest: { blocks: GoleveldbDigest; states: GoleveldbDigest }
  const donors: TestDonor[] = []

  async function newHome(name: string): Promise<string> {
    const home = path.join(dir.path, name)
    await emptyHome(home, donorHome, CHAIN, name)
    return home
  }
  function options(home: string, over: Partial<InstallFromDonorOptions> = {}): InstallFromDonorOptions {
    return {
      client,
      fleetKey,
      sender: NEW_HOST,
      peerUrl: donor.url,
      donor: DONOR,
      checkpointId: manifest.id,
      home,
      parallel: 4,
      force: false,
      ...over,
    }
  }
  async function extraDonor(over: Partial<Parameters<typeof startTestDonor>[0]>): Promise<TestDonor> {
    const started = await startTestDonor({
      key: fleetKey,
      sidecarId: DONOR,
      chainId: CHAIN,
      checkpointsDir: checkpoints,
      ...over,
    })
    donors.push(started)
    return started
  }

  beforeAll(async () => {
    dir = await tempDir('gf-bootstrap-')
    gl = await goleveldbTool()
    donorHome = path.join(dir.path, 'donor')
    checkpoints = path.join(dir.path, 'checkpoints')
    await gl.generateHome({ home: donorHome, chainId: CHAIN, blocks: 3000 })
    await writeGenesis(donorHome, CHAIN)
    await addNodePrivateFiles(donorHome, 'donor')
    const taken = await takeCheckpoint({ home: donorHome, checkpointsDir: checkpoints })
    await sealCheckpoint({ dir: taken.dir, fleetKey, donor: DONOR })
    manifest = await readSealedManifest(taken.dir, fleetKey)
    donorDigest = {
      blocks: await digestOfCopy(gl, path.join(donorHome, 'data', 'blockstore.db'), dir.path),
      states: await digestOfCopy(gl, path.join(donorHome, 'data', 'state.db'), dir.path),
    }
    donor = await extraDonor({})
    client = createPeerClient({ key: fleetKey, sender: NEW_HOST })
  }, 180_000)
  afterAll(async () => {
    client?.close()
    for (const d of donors) await d.close()
    await dir?.remove()
  })

  async function expectDonorData(home: string): Promise<void> {
    expect(await digestOfCopy(gl, path.join(home, 'data', 'blockstore.db'), dir.path)).toEqual(
      donorDigest.blocks,
    )
    expect(await digestOfCopy(gl, path.join(home, 'data', 'state.db'), dir.path)).toEqual(donorDigest.states)
  }

  it('downloads every file over parallel connections, verifies it against the signed manifest, installs it', async () => {
    const home = await newHome('fresh')
    const own = await readFile(path.join(home, 'data', 'priv_validator_state.json'), 'utf8')
    const result = await installFromDonor(options(home))
    const total = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
    expect(result.download).toMatchObject({
      files: manifest.files.length,
      fetchedFiles: manifest.files.length,
    })
    expect(result.download.fetchedBytes).toBe(total)
    expect(donor.served.maxInFlight).toBeGreaterThanOrEqual(2)
    await expectDonorData(home)
    // The home keeps its own signing state; the download keeps only the manifest and where it went.
    expect(await readFile(path.join(home, 'data', 'priv_validator_state.json'), 'utf8')).toBe(own)
    expect((await readdir(result.downloadDir)).sort()).toEqual(['checkpoint-manifest.json', 'installed.json'])
    expect(path.dirname(result.downloadDir)).toBe(defaultDownloadRoot(home))
  }, 120_000)

  it('waits for a donor at its transfer cap (429 with Retry-After) instead of failing the files it refuses', async () => {
    const home = await newHome('capped')
    const capped = await extraDonor({ maxTransfers: 1 })
    const result = await installFromDonor(options(home, { peerUrl: capped.url, parallel: 4, attempts: 1 }))
    expect(capped.served.busy).toBeGreaterThan(0)
    expect(capped.served.maxInFlight).toBe(1)
    expect(result.download.fetchedFiles).toBe(manifest.files.length)
    await expectDonorData(home)
  }, 120_000)

  it('refuses a home that holds data without --force, before asking the donor for anything', async () => {
    const home = path.join(dir.path, 'fresh')
    const before = await hashTree(home)
    const asked = donor.served.files
    await expectBootstrapError(
      installFromDonor(options(home)),
      'refused',
      /already holds data .*pass --force/,
    )
    expect(donor.served.files).toBe(asked)
    expect(await hashTree(home)).toEqual(before)
  })

  it('resumes after the donor vanished mid-transfer: the second run fetches only what is missing', async () => {
    const home = await newHome('resumed')
    const before = await hashTree(home)
    const total = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
    const flaky = await extraDonor({ vanishAfterBytes: Math.floor(total / 2) })
    await expectBootstrapError(
      installFromDonor(options(home, { peerUrl: flaky.url, attempts: 1 })),
      'transfer',
      /stopped serving .* run bootstrap again to resume\. The node home was not touched/,
    )
    await flaky.vanished
    expect(await hashTree(home)).toEqual(before)
    const kept = await bytesUnder(path.join(defaultDownloadRoot(home), manifest.id, 'data'))
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(total)

    // The donor comes back on its address; the transfer goes on from where it stopped.
    const back = await extraDonor({ listen: `127.0.0.1:${flaky.port}` })
    const result = await installFromDonor(options(home, { peerUrl: back.url }))
    expect(result.download.fetchedBytes).toBe(total - kept)
    expect(result.download.keptFiles + result.download.resumedFiles).toBeGreaterThan(0)
    expect(back.served.bytes).toBe(total - kept)
    await expectDonorData(home)
  }, 120_000)

  it('stops at an interruption (Ctrl-C) with the download kept, and resumes from it', async () => {
    const home = await newHome('interrupted')
    const before = await hashTree(home)
    const total = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
    const interrupt = new AbortController()
    const watched = await extraDonor({
      onServed: (bytes) => {
        if (bytes >= total / 3) interrupt.abort()
      },
    })
    await expectBootstrapError(
      installFromDonor(options(home, { peerUrl: watched.url, signal: interrupt.signal })),
      'transfer',
      /interrupted; what was downloaded is kept in .* run bootstrap again to resume/,
    )
    expect(await hashTree(home)).toEqual(before)
    const kept = await bytesUnder(path.join(defaultDownloadRoot(home), manifest.id, 'data'))
    expect(kept).toBeGreaterThan(0)
    const result = await installFromDonor(options(home))
    expect(result.download.fetchedBytes).toBe(total - kept)
    await expectDonorData(home)
  }, 120_000)

  it('fetches only the tables it lacks when it holds an earlier checkpoint of the same donor', async () => {
    // The donor's node ran on: reopening its state store turned the journal into new tables.
    await gl.open(path.join(donorHome, 'data', 'state.db'))
    const newer = await takeCheckpoint({
      home: donorHome,
      checkpointsDir: checkpoints,
      now: new Date(Date.parse(manifest.createdAt) + 60_000),
    })
    await sealCheckpoint({ dir: newer.dir, fleetKey, donor: DONOR })
    const newerManifest = await readSealedManifest(newer.dir, fleetKey)
    const same = newerManifest.files.filter(
      (f) => f.immutable && manifest.files.some((o) => o.path === f.path && o.sha256 === f.sha256),
    )
    expect(same.length).toBeGreaterThan(0)
    expect(same.length).toBeLessThan(newerManifest.files.length)

    const home = path.join(dir.path, 'resumed') // holds the first checkpoint, installed
    const servedBefore = donor.served.bytes
    const result = await installFromDonor(options(home, { checkpointId: newer.id, force: true }))
    const sameBytes = same.reduce((sum, f) => sum + f.bytes, 0)
    const total = newerManifest.files.reduce((sum, f) => sum + f.bytes, 0)
    expect(result.download.reusedFiles).toBe(same.length)
    expect(result.download.reusedBytes).toBe(sameBytes)
    expect(result.download.fetchedBytes).toBe(total - sameBytes)
    expect(donor.served.bytes - servedBefore).toBe(total - sameBytes)
    expect(result.install.replacedExisting).toBe(true)
    donorDigest = {
      blocks: await digestOfCopy(gl, path.join(donorHome, 'data', 'blockstore.db'), dir.path),
      states: await digestOfCopy(gl, path.join(donorHome, 'data', 'state.db'), dir.path),
    }
    await expectDonorData(home)
    // Only the newest checkpoint's record remains.
    expect(await readdir(defaultDownloadRoot(home))).toEqual([newer.id])
  }, 120_000)

  it('refuses a forged manifest (altered, or signed with another fleet key) and downloads nothing', async () => {
    const home = await newHome('forged')
    const before = await hashTree(home)
    const altered = { ...manifest, blockStore: { ...manifest.blockStore } }
    altered.blocks = { ...manifest.blocks, top: { ...manifest.blocks.top, appHash: 'AA'.repeat(32) } }
    const forger = await extraDonor({ manifestText: formatManifest(altered) })
    await expectBootstrapError(
      installFromDonor(options(home, { peerUrl: forger.url })),
      'manifest',
      /not signed with this fleet's key/,
    )
    const otherKey = newFleetKey()
    const { signature: _s, ...unsigned } = manifest
    const foreign = await extraDonor({ manifestText: formatManifest(signManifest(unsigned, otherKey)) })
    await expectBootstrapError(
      installFromDonor(options(home, { peerUrl: foreign.url })),
      'manifest',
      /not signed with this fleet's key/,
    )
    expect(forger.served.files + foreign.served.files).toBe(0)
    expect(await hashTree(home)).toEqual(before)
    expect(await stat(path.join(defaultDownloadRoot(home), manifest.id)).catch(() => null)).toBeNull()
  })

  it('refuses a file that does not match the manifest (fetched twice) and leaves the home as it was', async () => {
    const home = await newHome('corrupt')
    const before = await hashTree(home)
    // A copy of the checkpoint whose largest table is damaged (same size, other bytes).
    const copies = path.join(dir.path, 'corrupt-checkpoints')
    await mkdir(copies)
    await cp(path.join(checkpoints, manifest.id), path.join(copies, manifest.id), { recursive: true })
    const victim = [...manifest.files].sort((a, b) => b.bytes - a.bytes)[0]
    if (victim === undefined) throw new Error('empty manifest')
    const file = path.join(copies, manifest.id, 'data', victim.path)
    const bytes = await readFile(file)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = (bytes[middle] ?? 0) ^ 0xff
    await rm(file)
    await writeFile(file, bytes)
    const bad = await extraDonor({ checkpointsDir: copies })
    await expectBootstrapError(
      installFromDonor(options(home, { peerUrl: bad.url })),
      'files',
      new RegExp(
        `${victim.path.replace('.', '\\.')} from the donor ${DONOR} does not match the signed manifest twice`,
      ),
    )
    expect(await hashTree(home)).toEqual(before)
  }, 120_000)

  describe.skipIf(!isRoot)('on a full disk (tmpfs)', () => {
    let disk: string
    let mounted = false
    afterAll(async () => {
      if (mounted) await run('umount', ['-l', disk])
    })

    it('stops before downloading with a clear error when the checkpoint does not fit, home unchanged', async () => {
      disk = path.join(dir.path, 'disk')
      await mkdir(disk)
      const total = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
      const size = Math.floor(total / 2 / 4096) * 4096
      await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', disk])
      mounted = true
      const home = path.join(disk, 'home')
      await emptyHome(home, donorHome, CHAIN, 'full')
      const before = await hashTree(home)
      const asked = donor.served.files
      await expectBootstrapError(
        installFromDonor(options(home)),
        'disk',
        /not enough free space for the checkpoint on the filesystem of .* the node home was not touched/,
      )
      expect(donor.served.files).toBe(asked)
      expect(await hashTree(home)).toEqual(before)
    })

    it('stops with a clear error when the disk fills during the download, and resumes once there is room', async () => {
      const room = path.join(dir.path, 'disk2')
      await mkdir(room)
      const total = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
      const size = Math.ceil((2 * total + 32 * 1024 * 1024) / 4096) * 4096
      await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', room])
      try {
        const home = path.join(room, 'home')
        await emptyHome(home, donorHome, CHAIN, 'filling')
        const before = await hashTree(home)
        // Something else takes the disk right after the first bytes arrive (synchronously, before the next chunk).
        const filler = path.join(room, 'filler')
        let filled = false
        const filling = await extraDonor({
          onServed: () => {
            if (filled) return
            filled = true
            const fs = statfsSync(room)
            writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 256 * 1024)))
          },
        })
        await expectBootstrapError(
          installFromDonor(options(home, { peerUrl: filling.url })),
          'disk',
          /no space left on the filesystem of .* during the download; free space and run bootstrap again to resume/,
        )
        expect(await hashTree(home)).toEqual(before)
        await rm(filler)
        const kept = await bytesUnder(path.join(defaultDownloadRoot(home), manifest.id, 'data'))
        const result = await installFromDonor(options(home))
        expect(result.download.fetchedBytes).toBe(total - kept)
        await expectDonorData(home)
      } finally {
        await run('umount', ['-l', room])
      }
    }, 120_000)
  })
})

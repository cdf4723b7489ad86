import { lstat, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  blockMetaKey,
  decodeBlockMeta,
  decodeState,
  holdFlock,
  readManifest,
  STATE_KEY,
} from '@ghostfleet/cometbft'
import {
  type GoleveldbDigest,
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
  type TempDir,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CheckpointFileError,
  CheckpointInstallError,
  CheckpointRefusedError,
  enforcePinnedCap,
  installCheckpoint,
  linkReusable,
  MANIFEST_FILE,
  measureCheckpoints,
  planReuse,
  readSealedManifest,
  removeExpiredCheckpoints,
  sealCheckpoint,
  type TakeCheckpointResult,
  takeCheckpoint,
  type VerifiedManifest,
  verifyCheckpointFiles,
} from '../../src/checkpoint/index.js'
import { digestOfCopy, hashTree } from '../helpers/node-files.js'
import { addNodePrivateFiles, download, emptyHome, newFleetKey, writeGenesis } from './fixtures.js'

/*
 * Checkpoints of homes written by real goleveldb: taken from a stopped donor without changing it, sealed with a
 * signed manifest, downloaded (copied as a transfer would), verified and installed into a new home, where
 * goleveldb sees every key the donor has. Tampering, a running node, data already present, and reuse of an older
 * checkpoint's tables.
 */

requireGoleveldb()

const CHAIN = 'ckpt-1'
const HEIGHT = 2500
const DONOR = 'donor-a'

async function inodeOf(file: string): Promise<bigint> {
  return (await stat(file, { bigint: true })).ino
}

describe('checkpoint → seal → verify → install on goleveldb homes', () => {
  const fleetKey = newFleetKey()
  let dir: TempDir
  let gl: GoleveldbTool
  let donor: string
  let donorData: string
  let checkpoints: string
  let taken: TakeCheckpointResult
  let manifest: VerifiedManifest
  let donorDigests: { blocks: GoleveldbDigest; states: GoleveldbDigest }
  let orphans: string[]

  beforeAll(async () => {
    dir = await tempDir('gf-checkpoint-')
    gl = await goleveldbTool()
    donor = path.join(dir.path, 'donor')
    donorData = path.join(donor, 'data')
    checkpoints = path.join(dir.path, 'checkpoints')
    // Closed without Close(): the last writes live only in the journal, which the checkpoint must carry (copied).
    await gl.generateHome({ home: donor, chainId: CHAIN, blocks: HEIGHT, closeCleanly: false })
    await writeGenesis(donor, CHAIN)
    await addNodePrivateFiles(donor, 'donor')
    // Tables a crash left behind, not in the MANIFEST, under the numbers goleveldb hands out next.
    const next = (await readManifest(path.join(donorData, 'state.db'))).nextFileNumber
    orphans = [next, next + 1, next + 2].map((n) => `state.db/${String(n).padStart(6, '0')}.ldb`)
    for (const orphan of orphans) await writeFile(path.join(donorData, orphan), `orphan ${orphan}`)
    donorDigests = {
      blocks: await digestOfCopy(gl, path.join(donorData, 'blockstore.db'), dir.path),
      states: await digestOfCopy(gl, path.join(donorData, 'state.db'), dir.path),
    }
  }, 180_000)
  afterAll(async () => {
    await dir?.remove()
  })

  it('takes a checkpoint of the stopped donor without changing a byte of its home', async () => {
    const before = await hashTree(donor)
    taken = await takeCheckpoint({ home: donor, checkpointsDir: checkpoints })
    expect(await hashTree(donor)).toEqual(before)
    expect(taken.blockStore).toEqual({ base: 1, height: HEIGHT })
    expect(taken.linkedFiles).toBeGreaterThan(1)
    expect(taken.copiedFiles).toBeGreaterThan(0)

    const files = await hashTree(path.join(taken.dir, 'data'))
    const names = Object.keys(files)
    // Keys, signing state, address book and node-local files stay home; LevelDB's LOCK/LOG too.
    for (const name of names) {
      expect(name).not.toMatch(/priv_validator|node_key|addrbook|^cs\.wal\/|(^|\/)(LOCK|LOG)$/)
    }
    expect(taken.excluded).toContain('priv_validator_state.json')
    expect(taken.excluded).toContain('cs.wal/')
    expect(taken.excluded).toEqual(expect.arrayContaining(orphans))
    expect(names).toContain('upgrade-info.json')
    // Tables are the donor's inodes (hard links), mutable files are copies.
    for (const name of names) {
      const ours = await inodeOf(path.join(taken.dir, 'data', name))
      const theirs = await inodeOf(path.join(donorData, name))
      if (/\.ldb$/.test(name)) expect(ours).toBe(theirs)
      else expect(ours).not.toBe(theirs)
      expect(files[name]).toBe(before[`data/${name}`])
    }
    expect(names.some((n) => /\/[0-9]+\.log$/.test(n))).toBe(true)
  })

  it('seals it with a signed manifest whose heights and hashes are what goleveldb reads from the donor', async () => {
    expect(await readdir(taken.dir)).not.toContain(MANIFEST_FILE)
    const sealed = await sealCheckpoint({ dir: taken.dir, fleetKey, donor: DONOR })
    manifest = await readSealedManifest(taken.dir, fleetKey)
    expect(manifest).toEqual(sealed.manifest)
    expect(manifest.chainId).toBe(CHAIN)
    expect(manifest.donor).toBe(DONOR)
    expect(manifest.blockStore).toEqual(donorDigests.blocks.blockStore)

    // Cross-check against goleveldb's own reading of the donor's stores (on a copy).
    const scratch = path.join(dir.path, 'scratch-blocks')
    const { cp } = await import('node:fs/promises')
    await cp(path.join(donorData, 'blockstore.db'), scratch, { recursive: true })
    const top = decodeBlockMeta((await gl.get(scratch, blockMetaKey(HEIGHT))) as Buffer)
    const base = decodeBlockMeta((await gl.get(scratch, blockMetaKey(1))) as Buffer)
    expect(manifest.blocks.top.hash).toBe(Buffer.from(top.blockId.hash).toString('hex').toUpperCase())
    expect(manifest.blocks.top.appHash).toBe(Buffer.from(top.header.appHash).toString('hex').toUpperCase())
    expect(manifest.blocks.base.hash).toBe(Buffer.from(base.blockId.hash).toString('hex').toUpperCase())
    const stateCopy = path.join(dir.path, 'scratch-state')
    await cp(path.join(donorData, 'state.db'), stateCopy, { recursive: true })
    const state = decodeState((await gl.get(stateCopy, STATE_KEY)) as Buffer)
    expect(manifest.state).toEqual({
      lastBlockHeight: HEIGHT,
      appHash: Buffer.from(state.appHash).toString('hex').toUpperCase(),
    })

    const listed = manifest.files.map((f) => f.path)
    expect(listed).toEqual(Object.keys(await hashTree(path.join(taken.dir, 'data'))).sort())
    for (const f of manifest.files) expect(f.immutable).toBe(/\.ldb$/.test(f.path))
  })

  it('installs a verified download into an empty home, where goleveldb sees every key of the donor', async () => {
    const fresh = path.join(dir.path, 'fresh')
    await emptyHome(fresh, donor, CHAIN, 'fresh')
    const ownState = await readFile(path.join(fresh, 'data', 'priv_validator_state.json'), 'utf8')
    const dl = path.join(dir.path, 'download-1')
    await download(path.join(taken.dir, 'data'), dl)
    await verifyCheckpointFiles(dl, manifest)

    const result = await installCheckpoint({ home: fresh, sourceDataDir: dl, manifest })
    expect(result.files).toBe(manifest.files.length)
    expect(result.replacedExisting).toBe(false)
    expect(result.linkedFiles).toBe(manifest.files.filter((f) => f.immutable).length)

    const freshData = path.join(fresh, 'data')
    expect(await digestOfCopy(gl, path.join(freshData, 'blockstore.db'), dir.path)).toEqual(
      donorDigests.blocks,
    )
    expect(await digestOfCopy(gl, path.join(freshData, 'state.db'), dir.path)).toEqual(donorDigests.states)
    // The new home keeps its own signing state and identity; nothing of the donor's came along.
    expect(await readFile(path.join(freshData, 'priv_validator_state.json'), 'utf8')).toBe(ownState)
    expect(await readFile(path.join(fresh, 'config', 'node_key.json'), 'utf8')).toContain('fresh-node-key')
    expect(await readdir(freshData)).not.toContain('cs.wal')
    // Mutable files are the home's own copies: the node appends to its journals, the download must not change.
    const log = manifest.files.find((f) => /blockstore\.db\/[0-9]+\.log$/.test(f.path))?.path as string
    expect(await inodeOf(path.join(freshData, log))).not.toBe(await inodeOf(path.join(dl, log)))
    // No staging or aside directories are left.
    expect((await readdir(fresh)).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('refuses a tampered or truncated file, naming it, and leaves the home as it was', async () => {
    const target = path.join(dir.path, 'target-tampered')
    await emptyHome(target, donor, CHAIN, 'target')
    const dl = path.join(dir.path, 'download-tampered')
    await download(path.join(taken.dir, 'data'), dl)
    const table = manifest.files.find((f) => f.immutable)?.path as string
    const bytes = await readFile(path.join(dl, table))
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = (bytes[middle] as number) ^ 0xff
    await writeFile(path.join(dl, table), bytes)
    const mutable = manifest.files.find((f) => f.path.endsWith('CURRENT'))?.path as string
    await writeFile(path.join(dl, mutable), 'MANIFEST-0000')

    const before = await hashTree(target)
    const error = await installCheckpoint({ home: target, sourceDataDir: dl, manifest }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(CheckpointFileError)
    const problems = (error as CheckpointFileError).problems
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: table, problem: 'sha256' }),
        expect.objectContaining({ path: mutable, problem: 'size' }),
      ]),
    )
    expect((error as Error).message).toContain(table)
    expect(await hashTree(target)).toEqual(before)
    expect((await readdir(target)).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('refuses a home that already holds data unless forced, and a home of another chain', async () => {
    const dl = path.join(dir.path, 'download-force')
    await download(path.join(taken.dir, 'data'), dl)
    const occupied = path.join(dir.path, 'occupied')
    await gl.generateHome({ home: occupied, chainId: CHAIN, blocks: 50, seed: 7 })
    await writeGenesis(occupied, CHAIN)
    const before = await hashTree(occupied)
    await expect(installCheckpoint({ home: occupied, sourceDataDir: dl, manifest })).rejects.toThrow(
      /already holds data \(blockstore\.db, state\.db\).*pass force/,
    )
    expect(await hashTree(occupied)).toEqual(before)

    const other = path.join(dir.path, 'other-chain')
    await emptyHome(other, donor, 'other-2', 'other')
    await expect(installCheckpoint({ home: other, sourceDataDir: dl, manifest })).rejects.toThrow(
      /chain ckpt-1, the genesis .* is of chain other-2/,
    )

    const forced = await installCheckpoint({ home: occupied, sourceDataDir: dl, manifest, force: true })
    expect(forced.replacedExisting).toBe(true)
    const data = path.join(occupied, 'data')
    expect(await digestOfCopy(gl, path.join(data, 'blockstore.db'), dir.path)).toEqual(donorDigests.blocks)
    expect((await readdir(occupied)).filter((n) => n.startsWith('.'))).toEqual([])
  })

  it('refuses to take a checkpoint or install while a node holds the databases', async () => {
    const hold = await holdFlock(path.join(donorData, 'blockstore.db', 'LOCK'))
    expect(hold).not.toBeNull()
    try {
      const error = await takeCheckpoint({ home: donor, checkpointsDir: checkpoints }).catch(
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(CheckpointRefusedError)
      expect((error as Error).message).toMatch(/blockstore\.db \(pid [0-9]+\).*stop the node/)
    } finally {
      await hold?.release()
    }
    expect((await readdir(checkpoints)).filter((n) => n.startsWith('.'))).toEqual([])

    const running = path.join(dir.path, 'fresh')
    const lock = await holdFlock(path.join(running, 'data', 'state.db', 'LOCK'))
    try {
      const dl = path.join(dir.path, 'download-1')
      await expect(
        installCheckpoint({ home: running, sourceDataDir: dl, manifest, force: true }),
      ).rejects.toBeInstanceOf(CheckpointInstallError)
    } finally {
      await lock?.release()
    }
  })

  it('refuses a data directory holding a symbolic link (its target would leave the checkpoint unaccounted)', async () => {
    const wasm = path.join(donorData, 'wasm')
    await symlink(dir.path, wasm)
    try {
      const before = await readdir(checkpoints)
      await expect(takeCheckpoint({ home: donor, checkpointsDir: checkpoints })).rejects.toThrow(
        /wasm is a symbolic link: a checkpoint takes regular files only/,
      )
      expect(await readdir(checkpoints)).toEqual(before)
    } finally {
      await rm(wasm)
    }
  })

  it('reuses the unchanged tables of an older checkpoint, counts pinned bytes, and expires checkpoints', async () => {
    expect((await measureCheckpoints(checkpoints)).pinnedBytes).toBe(0)
    // The donor's node compacts: its blockstore tables are rewritten, the checkpoint alone keeps the old ones.
    const oldBlockTables = manifest.files.filter((f) => f.immutable && f.path.startsWith('blockstore.db/'))
    const blockstore = path.join(donorData, 'blockstore.db')
    const gone: typeof oldBlockTables = []
    // Rewrite block metas across the range with their own values and compact, as the node's own writes and
    // compactions do, until one of the checkpoint's tables is rewritten: goleveldb may move a table that nothing
    // overlaps to the next level instead of rewriting it, keeping its file (bounded: a few rounds).
    for (let round = 1; round <= 6 && gone.length === 0; round++) {
      for (let height = round; height <= HEIGHT; height += Math.max(1, Math.floor(HEIGHT / 16))) {
        const key = `H:${height}`
        const value = await gl.get(blockstore, key)
        if (value !== undefined) await gl.put(blockstore, key, value)
      }
      await gl.compact(blockstore)
      for (const f of oldBlockTables)
        if ((await lstat(path.join(donorData, f.path)).catch(() => null)) === null) gone.push(f)
    }
    expect(gone.length, `${oldBlockTables.length} old tables`).toBeGreaterThan(0)
    // The node reopens its state store: its journal goes into a new table, under a number an orphan had.
    const orphanBefore = await hashTree(path.join(donorData, 'state.db'))
    await gl.open(path.join(donorData, 'state.db'))
    const orphanAfter = await hashTree(path.join(donorData, 'state.db'))
    expect(
      orphans.some((o) => {
        const name = o.slice('state.db/'.length)
        return orphanAfter[name] !== undefined && orphanAfter[name] !== orphanBefore[name]
      }),
    ).toBe(true)
    // The checkpoint is still exactly what its manifest says: nothing the node did reached its files.
    await verifyCheckpointFiles(path.join(taken.dir, 'data'), manifest)
    const usage = await measureCheckpoints(checkpoints)
    expect(usage.pinnedBytes).toBe(gone.reduce((sum, f) => sum + f.bytes, 0))
    expect(usage.checkpoints[0]).toMatchObject({ id: taken.id, sealed: true, pinnedBytes: usage.pinnedBytes })

    const newer = await takeCheckpoint({
      home: donor,
      checkpointsDir: checkpoints,
      now: new Date(Date.parse(manifest.createdAt) + 60_000),
    })
    await sealCheckpoint({ dir: newer.dir, fleetKey, donor: DONOR })
    const newerManifest = await readSealedManifest(newer.dir, fleetKey)
    // The host that installed the first checkpoint still has its download.
    const olderDownload = path.join(dir.path, 'download-1')
    const plan = await planReuse({ manifest: newerManifest, older: manifest, olderDataDir: olderDownload })
    const unchanged = newerManifest.files.filter(
      (f) => f.immutable && manifest.files.some((o) => o.path === f.path && o.sha256 === f.sha256),
    )
    expect(unchanged.length).toBeGreaterThan(0)
    expect(plan.reuse.map((r) => r.file.path)).toEqual(unchanged.map((f) => f.path))
    expect(plan.fetch.every((f) => !unchanged.includes(f))).toBe(true)
    expect(plan.fetch.filter((f) => !f.immutable).length).toBe(
      newerManifest.files.filter((f) => !f.immutable).length,
    )

    const dl = path.join(dir.path, 'download-2')
    expect(await linkReusable(plan, dl)).toEqual({ linked: unchanged.length, copied: 0 })
    const { cp, mkdir } = await import('node:fs/promises')
    for (const f of plan.fetch) {
      await mkdir(path.dirname(path.join(dl, f.path)), { recursive: true })
      await cp(path.join(newer.dir, 'data', f.path), path.join(dl, f.path))
    }
    await verifyCheckpointFiles(dl, newerManifest)
    const second = path.join(dir.path, 'second')
    await emptyHome(second, donor, CHAIN, 'second')
    await installCheckpoint({ home: second, sourceDataDir: dl, manifest: newerManifest })
    const compacted = await digestOfCopy(gl, path.join(donorData, 'blockstore.db'), dir.path)
    expect(await digestOfCopy(gl, path.join(second, 'data', 'blockstore.db'), dir.path)).toEqual(compacted)

    // Another donor's checkpoint is no source of reuse.
    const foreign = await planReuse({
      manifest: newerManifest,
      older: { ...manifest, donor: 'donor-b' },
      olderDataDir: olderDownload,
    })
    expect(foreign.reuse).toEqual([])
    expect(foreign.reason).toMatch(/donor-b/)

    // The cap: only the older checkpoint pins bytes; one being transferred is kept whatever it pins.
    const stray = path.join(checkpoints, 'operator-notes')
    await writeFile(stray, 'keep me')
    const donorBefore = await hashTree(donor)
    const pinned = (await measureCheckpoints(checkpoints)).pinnedBytes
    expect(pinned).toBeGreaterThan(0)
    const cap = (capBytes: number, keep: string[] = []) =>
      enforcePinnedCap({ checkpointsDir: checkpoints, capBytes, keep })
    expect(await cap(pinned)).toEqual({ removed: [], pinnedBytes: pinned })
    expect(await cap(0, [taken.id])).toEqual({ removed: [], pinnedBytes: pinned })
    expect(await cap(0)).toEqual({ removed: [taken.id], pinnedBytes: 0 })
    expect((await readdir(checkpoints)).sort()).toEqual([newer.id, 'operator-notes'].sort())

    // TTL: the newer one expires in its turn; the donor's files are untouched by any removal.
    const takenAt = Date.parse(manifest.createdAt) + 60_000
    const notYet = await removeExpiredCheckpoints({
      checkpointsDir: checkpoints,
      ttlMs: 30_000,
      now: new Date(takenAt + 29_000),
    })
    expect(notYet.removed).toEqual([])
    const expired = await removeExpiredCheckpoints({
      checkpointsDir: checkpoints,
      ttlMs: 30_000,
      now: new Date(takenAt + 30_000),
    })
    expect(expired.removed).toEqual([newer.id])
    expect(await readdir(checkpoints)).toEqual(['operator-notes'])
    expect(await hashTree(donor)).toEqual(donorBefore)
  })
})

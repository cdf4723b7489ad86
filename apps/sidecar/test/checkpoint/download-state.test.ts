import { link, mkdir, readFile, truncate, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CheckpointManifest,
  DownloadResumeError,
  downloadState,
  hashFile,
  installCheckpoint,
  openForDownload,
  servedFilePath,
  signManifest,
  type VerifiedManifest,
  verifyManifest,
} from '../../src/checkpoint/index.js'
import { newFleetKey, unsignedManifest, writeGenesis } from './fixtures.js'

/*
 * Resuming an interrupted download (which files are done, which resume where, which start over), the donor's
 * serving rule (only files the manifest lists), and an install refusing a download inside the data directory.
 */

const FILES: Record<string, Buffer> = {
  'blockstore.db/000005.ldb': Buffer.alloc(300_000, 5),
  'blockstore.db/000006.ldb': Buffer.alloc(200_000, 6),
  'blockstore.db/000007.ldb': Buffer.alloc(100_000, 7),
  'blockstore.db/000009.log': Buffer.alloc(50_000, 9),
  'blockstore.db/CURRENT': Buffer.from('MANIFEST-000008\n'),
  'state.db/000003.ldb': Buffer.alloc(10_000, 3),
}

describe('download state and serving rule', () => {
  let dir: TempDir
  let source: string
  let manifest: VerifiedManifest

  beforeAll(async () => {
    dir = await tempDir('gf-checkpoint-download-')
    source = path.join(dir.path, 'checkpoint', 'data')
    const files: CheckpointManifest['files'] = []
    for (const [file, bytes] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(source, file)), { recursive: true })
      await writeFile(path.join(source, file), bytes)
      files.push({
        path: file,
        ...(await hashFile(path.join(source, file))),
        immutable: file.endsWith('.ldb'),
      })
    }
    const key = newFleetKey()
    manifest = verifyManifest(signManifest(unsignedManifest('dl-1', files), key), key)
  })
  afterAll(async () => {
    await dir?.remove()
  })

  it('says which files are done, which resume at their length, and which start over', async () => {
    const dl = path.join(dir.path, 'download')
    await mkdir(path.join(dl, 'blockstore.db'), { recursive: true })
    const copy = async (file: string) => writeFile(path.join(dl, file), FILES[file] as Buffer)
    await copy('blockstore.db/000005.ldb') // done
    await copy('blockstore.db/000006.ldb')
    await truncate(path.join(dl, 'blockstore.db/000006.ldb'), 123_456) // interrupted
    const wrong = Buffer.from(FILES['blockstore.db/000007.ldb'] as Buffer)
    wrong[5_000] = 0
    await writeFile(path.join(dl, 'blockstore.db/000007.ldb'), wrong) // complete but corrupt
    await writeFile(path.join(dl, 'blockstore.db/CURRENT'), 'MANIFEST-000008\nextra\n') // too long
    // blockstore.db/000009.log and state.db/000003.ldb: absent

    const state = await downloadState(manifest, dl)
    expect(state.done.map((f) => f.path)).toEqual(['blockstore.db/000005.ldb'])
    expect(state.pending.map((p) => [p.file.path, p.offset, p.why])).toEqual([
      ['blockstore.db/000006.ldb', 123_456, 'partial'],
      ['blockstore.db/000007.ldb', 0, 'corrupt'],
      ['blockstore.db/000009.log', 0, 'absent'],
      ['blockstore.db/CURRENT', 0, 'corrupt'],
      ['state.db/000003.ldb', 0, 'absent'],
    ])
    expect(state.doneBytes).toBe(300_000)
    expect(state.pendingBytes).toBe(200_000 - 123_456 + 100_000 + 50_000 + 16 + 10_000)
  })

  it('never writes through a link: a file shared with an installed node is fetched again as a new file', async () => {
    const dl = path.join(dir.path, 'download-linked')
    const node = path.join(dir.path, 'node-data')
    await mkdir(path.join(dl, 'state.db'), { recursive: true })
    await mkdir(node)
    const table = 'state.db/000003.ldb'
    const nodeBytes = Buffer.alloc(4_000, 1)
    await writeFile(path.join(node, '000003.ldb'), nodeBytes)
    await link(path.join(node, '000003.ldb'), path.join(dl, table)) // as an install leaves it
    const state = await downloadState(manifest, dl)
    expect(state.pending.find((p) => p.file.path === table)).toMatchObject({ offset: 0, why: 'corrupt' })
    await expect(openForDownload(dl, table, 4_000)).rejects.toBeInstanceOf(DownloadResumeError)

    const handle = await openForDownload(dl, table, 0)
    await handle.writeFile(FILES[table] as Buffer)
    await handle.close()
    expect(await readFile(path.join(node, '000003.ldb'))).toEqual(nodeBytes)
    expect((await downloadState(manifest, dl)).done.map((f) => f.path)).toEqual([table])

    // A file of its own resumes where it stopped.
    const log = 'blockstore.db/000009.log'
    const whole = FILES[log] as Buffer
    await mkdir(path.join(dl, 'blockstore.db'))
    await writeFile(path.join(dl, log), whole.subarray(0, 20_000))
    const pending = (await downloadState(manifest, dl)).pending.find((p) => p.file.path === log)
    expect(pending).toMatchObject({ offset: 20_000, why: 'partial' })
    const resume = await openForDownload(dl, log, 20_000)
    await resume.write(whole.subarray(20_000), 0, whole.length - 20_000, 20_000)
    await resume.close()
    expect((await downloadState(manifest, dl)).done.map((f) => f.path)).toContain(log)
  })

  it('serves only what the manifest lists', async () => {
    const checkpoint = path.dirname(source)
    const served = servedFilePath(checkpoint, manifest, 'blockstore.db/000005.ldb')
    expect(served).toBe(path.join(source, 'blockstore.db', '000005.ldb'))
    expect(await readFile(served as string)).toEqual(FILES['blockstore.db/000005.ldb'])
    for (const request of [
      '../checkpoint-take.json',
      'blockstore.db/../../x',
      'priv_validator_state.json',
      'blockstore.db/LOCK',
      '',
    ])
      expect(servedFilePath(checkpoint, manifest, request)).toBeNull()
  })

  it('refuses to install a download that lies inside the data directory it would replace', async () => {
    const home = path.join(dir.path, 'home')
    await mkdir(path.join(home, 'config'), { recursive: true })
    await writeFile(path.join(home, 'config', 'config.toml'), 'db_backend = "goleveldb"\n')
    await writeGenesis(home, 'dl-1')
    await expect(
      installCheckpoint({ home, sourceDataDir: path.join(home, 'data', 'incoming'), manifest }),
    ).rejects.toThrow(/must lie outside the data directory .*download beside the home/)
  })
})

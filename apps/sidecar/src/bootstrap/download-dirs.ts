import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '@ghostfleet/cometbft'
import type { FleetKey } from '@ghostfleet/coordination'
import { CHECKPOINT_ID_PATTERN } from '@ghostfleet/core'
import { z } from 'zod'
import {
  CHECKPOINT_DATA_DIR,
  MANIFEST_FILE,
  type VerifiedManifest,
  verifyManifest,
} from '../checkpoint/index.js'

/*
 * Where a new host keeps its downloads: `<root>/<checkpointId>/` with the verified manifest and `data/`, the
 * layout of a checkpoint on the donor. The root defaults to a directory beside the node home, not inside it, so a
 * failed bootstrap leaves the home exactly as it was, and on the home's filesystem, so the install hard-links the
 * tables instead of copying them. After the install only the manifest of the installed checkpoint stays, with a
 * note of the data directory it went to: keeping the downloaded files would pin every table the node's compaction
 * deletes later. A later bootstrap of the same home from the same donor reuses the tables the node still has.
 */

/** `/root/.osmosisd` → `/root/.osmosisd-ghostfleet-bootstrap`. */
export function defaultDownloadRoot(home: string): string {
  const resolved = path.resolve(home)
  return path.join(path.dirname(resolved), `${path.basename(resolved)}-ghostfleet-bootstrap`)
}

export interface DownloadDir {
  dir: string
  dataDir: string
  manifestFile: string
  /** Written after the install: `{ dataDir }`, where the checkpoint's files now are. */
  installedFile: string
}

export function downloadDir(root: string, checkpointId: string): DownloadDir {
  const dir = path.join(path.resolve(root), checkpointId)
  return {
    dir,
    dataDir: path.join(dir, CHECKPOINT_DATA_DIR),
    manifestFile: path.join(dir, MANIFEST_FILE),
    installedFile: path.join(dir, INSTALLED_FILE),
  }
}

const INSTALLED_FILE = 'installed.json'
const installedSchema = z.object({ dataDir: z.string().min(1).max(4096) })

/** After the install: the downloaded files go (the data directory has them), the manifest and where they went stay. */
export async function markInstalled(where: DownloadDir, dataDir: string): Promise<void> {
  await writeFileAtomic(where.installedFile, `${JSON.stringify({ dataDir })}\n`)
  await rm(where.dataDir, { recursive: true, force: true })
}

/** The download's own `data/` while it exists, else the data directory it was installed into, else null. */
async function filesOf(where: DownloadDir): Promise<string | null> {
  if ((await stat(where.dataDir).catch(() => null))?.isDirectory() === true) return where.dataDir
  try {
    return installedSchema.parse(JSON.parse(await readFile(where.installedFile, 'utf8'))).dataDir
  } catch {
    return null
  }
}

/** Creates the download directory and writes the manifest there (so a later run can resume or reuse it). */
export async function prepareDownloadDir(where: DownloadDir, manifestText: string): Promise<void> {
  await mkdir(where.dataDir, { recursive: true })
  await writeFileAtomic(where.manifestFile, manifestText)
}

/**
 * The earlier downloads under `root` whose manifests verify with `fleetKey`, newest checkpoint first (ids sort by
 * height, then time). Anything else there (a manifest of another fleet, a half-written directory) is skipped.
 */
export async function earlierDownloads(
  root: string,
  fleetKey: FleetKey,
  exceptId: string,
): Promise<Array<{ manifest: VerifiedManifest; manifestText: string; dataDir: string }>> {
  const entries = await readdir(root).catch(() => [] as string[])
  const found: Array<{ manifest: VerifiedManifest; manifestText: string; dataDir: string }> = []
  for (const id of entries) {
    if (id === exceptId || !CHECKPOINT_ID_PATTERN.test(id)) continue
    const where = downloadDir(root, id)
    try {
      const manifestText = await readFile(where.manifestFile, 'utf8')
      const manifest = verifyManifest(manifestText, fleetKey)
      const dataDir = await filesOf(where)
      if (manifest.id === id && dataDir !== null) found.push({ manifest, manifestText, dataDir })
    } catch {
      // Not a usable earlier download: ignored, fetched in full instead.
    }
  }
  return found.sort((a, b) => compareIds(b.manifest.id, a.manifest.id))
}

/** `1500-…` before `12000-…`: by height, then by time. */
function compareIds(a: string, b: string): number {
  const [ha, ta] = a.split('-') as [string, string]
  const [hb, tb] = b.split('-') as [string, string]
  return Number(ha) - Number(hb) || ta.localeCompare(tb)
}

/** Removes every download under `root` but `keepId` (after an install, the older ones serve no reuse any more). */
export async function removeOtherDownloads(root: string, keepId: string): Promise<string[]> {
  const removed: string[] = []
  for (const id of await readdir(root).catch(() => [] as string[])) {
    if (id === keepId || !CHECKPOINT_ID_PATTERN.test(id)) continue
    await rm(path.join(root, id), { recursive: true, force: true })
    removed.push(id)
  }
  return removed
}

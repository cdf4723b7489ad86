import { lstat, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { linkOrCopy } from './durable-fs.js'
import type { ManifestFile, VerifiedManifest } from './manifest.js'
import { checkFile } from './verify.js'

/*
 * "What do I already have": a host holding an older checkpoint of the same donor (a download directory, or the data
 * directory it installed) fetches only the table files it lacks. A table file is reusable when both signed
 * manifests list it under the same path with the same size and sha256 and the local file is still there with
 * that size (and, by default, that hash): LevelDB never reuses a table's file number, so same path and same hash
 * is the same table. Mutable files (CURRENT, MANIFEST, journals) always come fresh from the donor.
 */

export interface ReusePlan {
  /** Files of the new manifest found locally, with where they are. */
  reuse: Array<{ file: ManifestFile; localPath: string }>
  /** Files of the new manifest to download. */
  fetch: ManifestFile[]
  reuseBytes: number
  fetchBytes: number
  /** Why nothing is reused, when the older checkpoint cannot serve (another donor or chain). */
  reason: string | null
}

export interface PlanReuseOptions {
  /** The new checkpoint's verified manifest. */
  manifest: VerifiedManifest
  /** The older checkpoint's verified manifest. */
  older: VerifiedManifest
  /** Where the older checkpoint's `data/` files are on this host (its download dir, or the installed data dir). */
  olderDataDir: string
  /**
   * Hash each candidate (default): the file may have been damaged since. Off, size alone is checked; the install
   * verifies every file anyway.
   * @default true
   */
  verifyLocal?: boolean
}

/** Which files of `manifest` can come from the older checkpoint and which must be fetched. */
export async function planReuse(options: PlanReuseOptions): Promise<ReusePlan> {
  const { manifest, older } = options
  const plan: ReusePlan = { reuse: [], fetch: [], reuseBytes: 0, fetchBytes: 0, reason: null }
  const fetchAll = (reason: string) => {
    plan.fetch = [...manifest.files]
    plan.fetchBytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0)
    plan.reason = reason
    return plan
  }
  if (older.donor !== manifest.donor)
    return fetchAll(`the older checkpoint is from ${older.donor}, not ${manifest.donor}`)
  if (older.chainId !== manifest.chainId)
    return fetchAll(`the older checkpoint is of chain ${older.chainId}, not ${manifest.chainId}`)
  const previous = new Map(older.files.filter((f) => f.immutable).map((f) => [f.path, f]))
  for (const file of manifest.files) {
    const old = previous.get(file.path)
    const localPath = path.join(options.olderDataDir, ...file.path.split('/'))
    let usable = file.immutable && old !== undefined && old.sha256 === file.sha256 && old.bytes === file.bytes
    if (usable) {
      usable =
        options.verifyLocal === false
          ? (await lstat(localPath).catch(() => null))?.size === file.bytes
          : (await checkFile(localPath, file)) === null
    }
    if (usable) {
      plan.reuse.push({ file, localPath })
      plan.reuseBytes += file.bytes
    } else {
      plan.fetch.push(file)
      plan.fetchBytes += file.bytes
    }
  }
  return plan
}

/**
 * Puts the reusable files of `plan` into `targetDataDir` (the new download's `data/`): hard links on the same
 * filesystem, copies across filesystems. Returns how many were linked and copied.
 */
export async function linkReusable(
  plan: ReusePlan,
  targetDataDir: string,
): Promise<{ linked: number; copied: number }> {
  const counts = { linked: 0, copied: 0 }
  for (const { file, localPath } of plan.reuse) {
    const target = path.join(targetDataDir, ...file.path.split('/'))
    await mkdir(path.dirname(target), { recursive: true })
    counts[await linkOrCopy(localPath, target, true)]++
  }
  return counts
}

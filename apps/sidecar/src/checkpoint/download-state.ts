import { type FileHandle, lstat, mkdir, open, rm } from 'node:fs/promises'
import path from 'node:path'
import { DownloadResumeError } from './errors.js'
import type { CheckpointManifest, ManifestFile, VerifiedManifest } from './manifest.js'
import { checkFile } from './verify.js'

/*
 * Where a download stands, so an interrupted transfer resumes instead of starting over: a file with all its bytes
 * is checked against the manifest (done, or fetched again when its hash is wrong), a shorter one resumes at its
 * length (an HTTP range request from there; its hash is checked once it is complete), a longer one or anything
 * that is not a regular file is fetched again from the start.
 *
 * A download's tables may be hard links into a node's data directory (an install links them, and a reuse links an
 * older download's). Writing into such a file in place would change the node's table through the shared inode,
 * so a file with other links is never resumed, and {@link openForDownload} writes a file fetched from the start
 * as a new inode.
 */

export interface DownloadState {
  /** Complete and matching the manifest. */
  done: ManifestFile[]
  /** To fetch from `offset` (0: from the start). */
  pending: Array<{ file: ManifestFile; offset: number; why: 'absent' | 'partial' | 'corrupt' }>
  doneBytes: number
  pendingBytes: number
}

/** The state of the download in `dataDir` (the download's `data/`) against a verified manifest. */
export async function downloadState(manifest: VerifiedManifest, dataDir: string): Promise<DownloadState> {
  const state: DownloadState = { done: [], pending: [], doneBytes: 0, pendingBytes: 0 }
  for (const file of manifest.files) {
    const local = path.join(dataDir, ...file.path.split('/'))
    const info = await lstat(local).catch(() => null)
    let entry: DownloadState['pending'][number] | null
    if (info === null) entry = { file, offset: 0, why: 'absent' }
    else if (!info.isFile() || info.size > file.bytes) entry = { file, offset: 0, why: 'corrupt' }
    else if (info.size < file.bytes)
      entry = {
        file,
        offset: info.nlink === 1 ? info.size : 0,
        why: info.nlink === 1 ? 'partial' : 'corrupt',
      }
    else entry = (await checkFile(local, file)) === null ? null : { file, offset: 0, why: 'corrupt' }
    if (entry === null) {
      state.done.push(file)
      state.doneBytes += file.bytes
    } else {
      state.pending.push(entry)
      state.pendingBytes += file.bytes - entry.offset
    }
  }
  return state
}

/**
 * Opens the download file for `relativePath` to write from `offset` (a {@link DownloadState} pending entry):
 * at an offset, the existing file (which must have no other links) opened for writing there; from 0, a new file
 * (whatever was under that name is unlinked first, so another link to it keeps its bytes).
 */
export async function openForDownload(
  dataDir: string,
  relativePath: string,
  offset: number,
): Promise<FileHandle> {
  const file = path.join(dataDir, ...relativePath.split('/'))
  if (offset > 0) {
    const info = await lstat(file)
    if (!info.isFile() || info.nlink !== 1 || info.size < offset)
      throw new DownloadResumeError(
        `${file} cannot be resumed at byte ${offset} (${info.nlink} links, ${info.size} bytes): fetch it from the start`,
      )
    const handle = await open(file, 'r+')
    await handle.truncate(offset)
    return handle
  }
  await mkdir(path.dirname(file), { recursive: true })
  await rm(file, { force: true })
  return await open(file, 'wx', 0o644)
}

/**
 * The absolute path of `relativePath` in the checkpoint directory `dir` when the manifest lists it, else null: what
 * a donor serves for a peer's request, so a request can never reach a file the manifest does not name (`..`, keys,
 * the take record).
 */
export function servedFilePath(
  dir: string,
  manifest: CheckpointManifest,
  relativePath: string,
): string | null {
  const entry = manifest.files.find((f) => f.path === relativePath)
  return entry === undefined ? null : path.join(path.resolve(dir), 'data', ...entry.path.split('/'))
}

import { lstat } from 'node:fs/promises'
import path from 'node:path'
import { CheckpointFileError, type FileProblem } from './errors.js'
import { hashFile } from './file-hash.js'
import type { CheckpointManifest, ManifestFile } from './manifest.js'

/*
 * Checking downloaded files against a verified manifest: size first (cheap, catches truncation), then the sha256 of
 * the whole file read as a stream. Symbolic links are not followed: a download directory holds regular files only.
 */

/** The problem with `file` against its manifest entry, or null when it matches. */
export async function checkFile(file: string, entry: ManifestFile): Promise<FileProblem | null> {
  const shape = await checkShape(file, entry)
  if (shape !== null) return shape
  const { sha256, bytes } = await hashFile(file)
  if (bytes !== entry.bytes)
    return { path: entry.path, problem: 'size', detail: `changed while it was read (${bytes} bytes read)` }
  return checkDigest(entry, sha256)
}

/** Missing, not a regular file or of another size than the manifest says, or null. */
async function checkShape(file: string, entry: ManifestFile): Promise<FileProblem | null> {
  const info = await lstat(file).catch(() => null)
  if (info === null) return { path: entry.path, problem: 'missing', detail: 'missing' }
  if (!info.isFile()) return { path: entry.path, problem: 'not-a-file', detail: 'not a regular file' }
  if (info.size !== entry.bytes)
    return {
      path: entry.path,
      problem: 'size',
      detail: `${info.size} bytes, the manifest says ${entry.bytes}`,
    }
  return null
}

function checkDigest(entry: ManifestFile, sha256: string): FileProblem | null {
  if (sha256 !== entry.sha256)
    return {
      path: entry.path,
      problem: 'sha256',
      detail: `sha256 ${sha256}, the manifest says ${entry.sha256}`,
    }
  return null
}

/**
 * Verifies one downloaded file (the transfer calls this per file, so a bad file is fetched again alone).
 * @throws {@link CheckpointFileError}
 */
export async function verifyCheckpointFile(file: string, entry: ManifestFile): Promise<void> {
  const problem = await checkFile(file, entry)
  if (problem !== null) throw new CheckpointFileError([problem], 1)
}

/**
 * Verifies a file whose sha256 was computed as it was written (every byte of it: the kept prefix read back, the
 * rest hashed on its way to the disk), so its bytes are not read a second time; its size is still checked on disk.
 * @throws {@link CheckpointFileError}
 */
export async function verifyWrittenFile(file: string, entry: ManifestFile, sha256: string): Promise<void> {
  const problem = (await checkShape(file, entry)) ?? checkDigest(entry, sha256)
  if (problem !== null) throw new CheckpointFileError([problem], 1)
}

/**
 * Verifies every file the manifest lists under `dataDir` (the downloaded `data/`). Files it does not list are
 * ignored (an install takes only listed files).
 * @throws {@link CheckpointFileError} listing the files that are missing or differ.
 */
export async function verifyCheckpointFiles(dataDir: string, manifest: CheckpointManifest): Promise<void> {
  const problems: FileProblem[] = []
  for (const entry of manifest.files) {
    const problem = await checkFile(path.join(dataDir, ...entry.path.split('/')), entry)
    if (problem !== null) problems.push(problem)
  }
  if (problems.length > 0) throw new CheckpointFileError(problems.slice(0, 100), problems.length)
}

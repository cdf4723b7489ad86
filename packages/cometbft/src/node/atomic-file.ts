import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { copyFile, link, open, readdir, rename, rm, unlink } from 'node:fs/promises'
import path from 'node:path'

/*
 * Durable file operations on the node's home. "Durable" means: once the promise resolves, a power cut or a
 * SIGKILL cannot bring back the old state. Each helper writes a temporary file in the target's own directory
 * (so the final rename never crosses a filesystem), fsyncs it, renames it and fsyncs the directory so the
 * rename itself is on disk. A crash before the rename leaves a stray temporary file and the old content intact;
 * `removeStaleTempFiles` sweeps those on the next run.
 */

/** Marks our temporary files so a later run can recognise and remove the ones a crash left behind. */
const TEMP_MARKER = '.ghostfleet-tmp-'

function tempPathFor(target: string): string {
  const dir = path.dirname(target)
  const base = path.basename(target)
  return path.join(dir, `.${base}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** fsyncs a directory so that renames and unlinks inside it survive a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function writeTemp(target: string, data: string | Uint8Array, mode: number): Promise<string> {
  const temp = tempPathFor(target)
  const handle = await open(temp, 'wx', mode)
  try {
    await handle.writeFile(data)
    // open() applies the umask; chmod gives the file exactly the mode asked for (e.g. 0644 like CometBFT).
    await handle.chmod(mode)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temp, { force: true })
    throw error
  }
  await handle.close()
  return temp
}

/** Replaces `target` with `data` atomically and durably (temp file + fsync + rename + fsync of the directory). */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const temp = await writeTemp(target, data, options.mode ?? 0o644)
  try {
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
  await fsyncDirectory(path.dirname(target))
}

/**
 * Creates `target` with `data` unless it already exists; an existing file is never touched. Returns whether it
 * wrote. The file appears complete or not at all (hard link of an fsynced temp file, which fails on EEXIST).
 */
export async function createFileExclusive(
  target: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<boolean> {
  const temp = await writeTemp(target, data, options.mode ?? 0o644)
  try {
    try {
      await link(temp, target)
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false
      // Some filesystems (FUSE, some network mounts) refuse hard links: an exclusive copy is the fallback.
      if (
        errorCode(error) !== 'EPERM' &&
        errorCode(error) !== 'ENOTSUP' &&
        errorCode(error) !== 'EOPNOTSUPP'
      ) {
        throw error
      }
      try {
        await copyFile(temp, target, constants.COPYFILE_EXCL)
      } catch (copyError) {
        if (errorCode(copyError) === 'EEXIST') return false
        throw copyError
      }
    }
  } finally {
    await rm(temp, { force: true })
  }
  await fsyncDirectory(path.dirname(target))
  return true
}

/** Removes `target` durably; a missing file is not an error. Returns whether a file was removed. */
export async function removeFileDurably(target: string): Promise<boolean> {
  try {
    await unlink(target)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false
    throw error
  }
  await fsyncDirectory(path.dirname(target))
  return true
}

/** Removes temporary files that an interrupted write of `target` left in its directory. */
export async function removeStaleTempFiles(target: string): Promise<void> {
  const dir = path.dirname(target)
  const prefix = `.${path.basename(target)}${TEMP_MARKER}`
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return
    throw error
  }
  for (const name of names) {
    if (name.startsWith(prefix)) await rm(path.join(dir, name), { force: true })
  }
}

/** The `code` of a Node.js system error (`ENOENT`, …), or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code
  }
  return undefined
}

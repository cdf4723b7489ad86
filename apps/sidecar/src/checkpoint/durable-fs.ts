import { constants } from 'node:fs'
import { copyFile, link, open } from 'node:fs/promises'

/*
 * The few durable file operations the checkpoint needs: a crash after a checkpoint or an install reports success
 * must not bring back a state without the files it announced.
 */

/** fsyncs a file or a directory (a directory's fsync makes the names created or renamed in it durable). */
export async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Copies `from` to a new file `to` (never overwrites) and fsyncs it. */
export async function copyDurably(from: string, to: string): Promise<void> {
  await copyFile(from, to, constants.COPYFILE_EXCL)
  await fsyncPath(to)
}

/**
 * Hard-links `from` as `to`; across filesystems (EXDEV) it copies instead when `copyAcrossDevices`, and says
 * which it did. A link needs no data blocks, so it is also what keeps an install on a nearly full disk possible.
 */
export async function linkOrCopy(
  from: string,
  to: string,
  copyAcrossDevices: boolean,
): Promise<'linked' | 'copied'> {
  try {
    await link(from, to)
    return 'linked'
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV' || !copyAcrossDevices) throw error
  }
  await copyDurably(from, to)
  return 'copied'
}

/** The errno code of an error, if any. */
export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

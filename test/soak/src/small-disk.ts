import { execFile, execFileSync } from 'node:child_process'
import { mkdir, open, rm, statfs } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/*
 * Each node's home on a small tmpfs of its own, so the soak can fill a node's disk: a filler file takes every
 * free byte for a while, then is removed. Needs root (mount); without it the homes are plain directories and the
 * disk-full fault is skipped.
 */

/** Size of each node's home filesystem: far above what a soak's node stores, small enough to fill at once. */
const HOME_SIZE = '128m'
const FILLER = '.soak-filler'

/** Mounts a tmpfs at `dir` (created); false when mounting is not allowed here. */
export async function mountSmallDisk(dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true })
  if (process.getuid?.() !== 0) return false
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${HOME_SIZE},mode=0755`, 'tmpfs', dir])
    return true
  } catch {
    return false
  }
}

/** Unmounts (lazily: a process that is still being killed may hold a file there). */
export async function unmountSmallDisk(dir: string): Promise<void> {
  try {
    await run('umount', ['-l', dir])
  } catch {
    // Not mounted.
  }
}

/** {@link unmountSmallDisk} for an `exit` handler. */
export function unmountSmallDiskSync(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
  } catch {
    // Not mounted.
  }
}

/** Takes every free byte of the filesystem at `dir`; returns how many. */
export async function fillDisk(dir: string): Promise<number> {
  const stats = await statfs(dir)
  const free = stats.bavail * stats.bsize
  const file = await open(path.join(dir, FILLER), 'w')
  try {
    const chunk = Buffer.alloc(1024 * 1024)
    let written = 0
    while (written < free) {
      try {
        written += (await file.write(chunk, 0, Math.min(chunk.length, free - written))).bytesWritten
      } catch {
        break // ENOSPC: full.
      }
    }
    return written
  } finally {
    await file.close()
  }
}

export async function freeDisk(dir: string): Promise<void> {
  await rm(path.join(dir, FILLER), { force: true })
}

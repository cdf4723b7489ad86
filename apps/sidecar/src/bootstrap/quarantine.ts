import { copyFile, mkdir, readdir, rename } from 'node:fs/promises'
import path from 'node:path'
import { NEVER_SHARED } from '../checkpoint/index.js'

/*
 * After a failed check of the installed node (it does not serve the donor's blocks), the installed data must not
 * be served by a later `start`: it is renamed aside, kept for inspection, and the data directory starts empty
 * again with the home's own files (its signing state) copied back, as `init` left it.
 */

/** Moves `dataDir` to `<dataDir>.rejected-<checkpointId>`; returns that path. */
export async function quarantineInstalled(dataDir: string, checkpointId: string): Promise<string> {
  const aside = `${dataDir}.rejected-${checkpointId}`
  await rename(dataDir, aside)
  await mkdir(dataDir, { recursive: true })
  for (const name of await readdir(aside)) {
    if (NEVER_SHARED.has(name)) await copyFile(path.join(aside, name), path.join(dataDir, name))
  }
  return aside
}

import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** A temporary directory removed by {@link TempDir.remove}. */
export interface TempDir {
  path: string
  remove(): Promise<void>
}

/** Creates a fresh directory under the OS temp dir, named with `prefix`. */
export async function tempDir(prefix = 'ghostfleet-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

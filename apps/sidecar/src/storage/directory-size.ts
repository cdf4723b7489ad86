import { lstat, opendir } from 'node:fs/promises'
import path from 'node:path'

/**
 * Bytes of the regular files under `dir` (what supervysor exported as `data_dir_size`). A node's data
 * directory holds hundreds of thousands of LevelDB tables, so the walk is asynchronous (it yields to the event
 * loop between entries) and callers run it rarely, never on every scrape. Files that vanish while we walk
 * (LevelDB compacting) are skipped.
 */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  const pending = [dir]
  while (pending.length > 0) {
    const current = pending.pop() as string
    let handle: Awaited<ReturnType<typeof opendir>>
    try {
      handle = await opendir(current)
    } catch (error) {
      if (current === dir) throw error
      continue
    }
    for await (const entry of handle) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) pending.push(full)
      else if (entry.isFile()) {
        try {
          total += (await lstat(full)).size
        } catch {
          // Deleted by a compaction between listing and stat.
        }
      }
    }
  }
  return total
}

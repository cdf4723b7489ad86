import { readdir, readFile } from 'node:fs/promises'

/**
 * Processes still running whose command line names the soak's directory (nodes, sidecars, trackers, the producer)
 * or the soak's redis-server (which shows `redis-server 127.0.0.1:<port>`). Linux only (/proc).
 */
export async function leftoverProcesses(
  dir: string,
  redisPort: number | null,
): Promise<Array<{ pid: number; cmdline: string }>> {
  const found: Array<{ pid: number; cmdline: string }> = []
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry)
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue
    let cmdline: string
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim()
    } catch {
      continue
    }
    if (
      cmdline.includes(dir) ||
      (redisPort !== null && cmdline.includes(`redis-server 127.0.0.1:${redisPort}`))
    ) {
      found.push({ pid, cmdline })
    }
  }
  return found
}

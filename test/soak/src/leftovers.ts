import { readdirSync, readFileSync } from 'node:fs'

/**
 * Processes still running whose command line names the soak's directory (nodes, sidecars, trackers, the producer)
 * or the soak's redis-server (which shows `redis-server 127.0.0.1:<port>`). Linux only (/proc). Synchronous, so
 * that it also works from an `exit` handler.
 */
export function leftoverProcesses(
  dir: string,
  redisPort: number | null,
): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
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

/** SIGKILLs every leftover process; returns what was found. */
export function killLeftovers(
  dir: string,
  redisPort: number | null,
): Array<{ pid: number; cmdline: string }> {
  const left = leftoverProcesses(dir, redisPort)
  for (const leftover of left) {
    try {
      process.kill(leftover.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  return left
}

import { readdirSync, readFileSync } from 'node:fs'

/**
 * Processes still running whose command line names the soak's directory (nodes, sidecars, trackers, the producer,
 * relays) or one of the soak's Redis ports (redis-server and redis-sentinel rename themselves
 * `redis-server 127.0.0.1:<port>`, `redis-sentinel 127.0.0.1:<port> [sentinel]`). Linux only (/proc).
 * Synchronous, so that it also works from an `exit` handler.
 */
export function leftoverProcesses(
  dir: string,
  redisPorts: readonly number[],
): Array<{ pid: number; cmdline: string }> {
  const redisTitle = new RegExp(
    `^redis-(?:server|sentinel) 127\\.0\\.0\\.1:(${redisPorts.join('|') || '-'})(?:\\s|$)`,
  )
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
    if (cmdline.includes(dir) || redisTitle.test(cmdline)) {
      found.push({ pid, cmdline })
    }
  }
  return found
}

/** SIGKILLs every leftover process; returns what was found. */
export function killLeftovers(
  dir: string,
  redisPorts: readonly number[],
): Array<{ pid: number; cmdline: string }> {
  const left = leftoverProcesses(dir, redisPorts)
  for (const leftover of left) {
    try {
      process.kill(leftover.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  return left
}

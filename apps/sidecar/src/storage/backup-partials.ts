import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { processLiveness } from '../supervisor/process-inspect.js'

/*
 * A backup is written under a temporary name and renamed when complete. The temporary name says which process
 * wrote it — `.partial-<pid>-<start>-<name>`, where <start> is that process's start time (Linux: field 22 of
 * /proc/<pid>/stat, in clock ticks since boot) — so that a later run deletes only the leftovers of a process that
 * is gone: never the partial of a backup still being written by another process (pid alive, same start time),
 * and never a `.partial-*` entry that another tool made (it does not match the pattern).
 * A pid that was reused by another process has another start time, so its old leftover is recognised as dead.
 * Without /proc (macOS) the start time is `0` and only "pid gone" counts as dead.
 */

const PARTIAL = /^\.partial-([1-9][0-9]*)-([0-9]+)-(.+)$/

async function startTimeOf(pid: number): Promise<string | null> {
  if (process.platform !== 'linux') return '0'
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S ppid …": comm may contain spaces and parentheses; fields restart after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const start = fields[19]
    return start !== undefined && /^[0-9]+$/.test(start) ? start : null
  } catch {
    return null
  }
}

/** The temporary name this process writes the backup `name` under. */
export async function partialName(name: string): Promise<string> {
  return `.partial-${process.pid}-${(await startTimeOf(process.pid)) ?? '0'}-${name}`
}

/** Whether the process that wrote a partial named like this is gone (null: not a partial of ours). */
export async function partialOwnerGone(entry: string): Promise<boolean | null> {
  const match = PARTIAL.exec(entry)
  if (match === null) return null
  const pid = Number(match[1])
  if (!Number.isSafeInteger(pid)) return null
  if ((await processLiveness(pid)) !== 'alive') return true
  const start = match[2] as string
  if (start === '0') return false
  const now = await startTimeOf(pid)
  return now !== null && now !== start
}

/** Deletes the partial backups in `destDir` whose writer is gone; returns their names. */
export async function sweepDeadPartials(destDir: string, entries: readonly string[]): Promise<string[]> {
  const swept: string[] = []
  for (const entry of entries) {
    if ((await partialOwnerGone(entry)) !== true) continue
    await rm(path.join(destDir, entry), { recursive: true, force: true })
    swept.push(entry)
  }
  return swept
}

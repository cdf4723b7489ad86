import { execFile } from 'node:child_process'
import { readdir, readFile, readlink } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { waitFor } from '../control/wait-for.js'

/*
 * Looking at processes we did not spawn in this run: the node an earlier, SIGKILLed sidecar left behind, and
 * whoever holds the node's databases. Linux reads /proc; macOS falls back to `ps`, which cannot see another
 * process's environment, so there only the command line identifies our node.
 */

const execFileAsync = promisify(execFile)

/**
 * Set in the node's environment by the sidecar that launched it (value: the sidecar's config directory). A
 * process carrying it was launched by a sidecar of this config directory, whatever its pid file says: this
 * closes the gap between spawning the node and persisting its pid, and it survives pid reuse.
 */
export const NODE_MARKER_ENV = 'GHOSTFLEET_SIDECAR_CONFIG'

export type ProcessLiveness = 'alive' | 'zombie' | 'gone'

/** Whether `pid` runs. A zombie (exited, not yet reaped by its new parent) counts as exited. */
export async function processLiveness(pid: number): Promise<ProcessLiveness> {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone'
  }
  if (process.platform === 'linux') {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      // "pid (comm) S ...": comm may contain spaces and parentheses, the state follows the last ')'.
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      return state === 'Z' || state === 'X' ? 'zombie' : 'alive'
    } catch {
      return 'gone'
    }
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'stat=', '-p', String(pid)])
    const state = stdout.trim()
    if (state === '') return 'gone'
    return state.startsWith('Z') ? 'zombie' : 'alive'
  } catch {
    return 'gone'
  }
}

/** The process's argv, or `null` when it is gone or unreadable. On macOS the words are split on spaces. */
export async function processArgs(pid: number): Promise<string[] | null> {
  if (process.platform === 'linux') {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8')
      if (raw === '') return null
      return raw.replace(/\0$/, '').split('\0')
    } catch {
      return null
    }
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'command=', '-p', String(pid)])
    const line = stdout.trim()
    return line === '' ? null : line.split(/\s+/)
  } catch {
    return null
  }
}

/**
 * The environment of another process (Linux only): `undefined` when it cannot be read (macOS, or a process
 * of another user), so callers can tell "no such variable" from "cannot know".
 */
export async function processEnvironment(pid: number): Promise<Map<string, string> | undefined> {
  if (process.platform !== 'linux') return undefined
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8')
    const env = new Map<string, string>()
    for (const item of raw.split('\0')) {
      const eq = item.indexOf('=')
      if (eq > 0) env.set(item.slice(0, eq), item.slice(eq + 1))
    }
    return env
  } catch {
    return undefined
  }
}

/** Whether an argv starts the node of `home` (`--home <home>` or `--home=<home>`). */
export function argsNameHome(args: readonly string[], home: string): boolean {
  const wanted = path.resolve(home)
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string
    const next = args[i + 1]
    if (arg === '--home' && next !== undefined && path.resolve(next) === wanted) return true
    if (arg.startsWith('--home=') && path.resolve(arg.slice('--home='.length)) === wanted) return true
  }
  return false
}

/**
 * Who launched a process, from its environment marker:
 * - `ours`: a sidecar of this config directory;
 * - `other-sidecar`: a sidecar of another config directory;
 * - `none`: its environment is readable and has no marker (started by hand, systemd, …);
 * - `unknown`: its environment cannot be read (macOS, another user).
 */
export type Launcher = 'ours' | 'other-sidecar' | 'none' | 'unknown'

/** What we know about a process found holding the node's files or named in the state file. */
export interface ProcessInfo {
  pid: number
  /** Its command line, as far as it can be read (for messages). */
  command: string
  launcher: Launcher
  /** Its argv runs the node of our home (`--home <home>`). */
  runsOurHome: boolean
}

/** Describes `pid` for the startup checks; `null` when it no longer runs (or is a zombie). */
export async function inspectProcess(
  pid: number,
  configDir: string,
  home: string,
): Promise<ProcessInfo | null> {
  if ((await processLiveness(pid)) !== 'alive') return null
  const args = await processArgs(pid)
  const env = await processEnvironment(pid)
  let launcher: Launcher
  if (env === undefined) launcher = 'unknown'
  else {
    const marker = env.get(NODE_MARKER_ENV)
    if (marker === undefined) launcher = 'none'
    else launcher = path.resolve(marker) === path.resolve(configDir) ? 'ours' : 'other-sidecar'
  }
  return {
    pid,
    command: args === null ? '(command unknown)' : args.join(' '),
    launcher,
    runsOurHome: args !== null && argsNameHome(args, home),
  }
}

/**
 * Pids that have `file` open (Linux: a scan of /proc/<pid>/fd). A LevelDB process keeps its `LOCK` file open
 * for as long as the database is open, so for a LOCK file this names the database's owner. Processes of other
 * users are invisible without privileges; the result may then be empty although the file is locked.
 */
export async function pidsWithFileOpen(file: string): Promise<number[]> {
  if (process.platform !== 'linux') return []
  const target = path.resolve(file)
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return []
  }
  const found: number[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    let fds: string[]
    try {
      fds = await readdir(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)) === target) {
          found.push(pid)
          break
        }
      } catch {
        // The fd closed while we looked.
      }
    }
  }
  return found
}

/** The parent pid of `pid` (Linux /proc; `null` elsewhere or when gone). */
export async function parentPid(pid: number): Promise<number | null> {
  if (process.platform !== 'linux') return null
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ppid = Number(fields[1])
    return Number.isSafeInteger(ppid) && ppid > 0 ? ppid : null
  } catch {
    return null
  }
}

/**
 * Drops the pids that descend from another pid of the list: a node's lock helpers (a `flock` child holding the
 * goleveldb-style lock) are not separate culprits, their ancestor is.
 */
export async function withoutDescendants(pids: readonly number[]): Promise<number[]> {
  const set = new Set(pids)
  const kept: number[] = []
  for (const pid of pids) {
    let ancestor = await parentPid(pid)
    let descends = false
    for (let depth = 0; ancestor !== null && depth < 8; depth++) {
      if (set.has(ancestor)) {
        descends = true
        break
      }
      ancestor = await parentPid(ancestor)
    }
    if (!descends) kept.push(pid)
  }
  return kept
}

/** A process that would not exit even after SIGKILL (stuck in uninterruptible I/O). */
export class ProcessStopTimeoutError extends Error {
  override readonly name = 'ProcessStopTimeoutError'
}

/**
 * Stops a process that is not our child (an orphaned node): SIGTERM, wait until it is gone (or a zombie) up to
 * `graceMs`, then SIGKILL and wait again. Resolves with how it ended.
 */
export async function terminateProcess(pid: number, graceMs: number): Promise<'exited' | 'killed' | 'gone'> {
  if ((await processLiveness(pid)) !== 'alive') return 'gone'
  const exited = async () => {
    const state = await processLiveness(pid)
    return state === 'alive'
      ? { done: false as const, problem: `pid ${pid} still running` }
      : { done: true as const, value: undefined }
  }
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return 'gone'
  }
  try {
    await waitFor(`pid ${pid} to exit after SIGTERM`, exited, { timeoutMs: graceMs, pollMs: 100 })
    return 'exited'
  } catch {
    // fall through to SIGKILL
  }
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    return 'exited'
  }
  try {
    await waitFor(`pid ${pid} to exit after SIGKILL`, exited, {
      timeoutMs: Math.max(5_000, graceMs),
      pollMs: 100,
    })
  } catch (error) {
    throw new ProcessStopTimeoutError(
      `pid ${pid} did not exit after SIGKILL: ${(error as Error).message}; it is probably stuck in I/O, ` +
        'check the disk and `ps -o stat= -p <pid>` before starting the sidecar again',
    )
  }
  return 'killed'
}

import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { readdir, readFile, readlink, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { setImmediate as setImmediatePromise } from 'node:timers/promises'
import { promisify } from 'node:util'
import { waitFor } from '../wait-for.js'

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

/** The pids listed in /proc (Linux), ours included; empty when /proc cannot be read. */
async function procPids(): Promise<number[]> {
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return []
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number)
}

/**
 * Living processes whose environment carries the marker of `configDir` (Linux; empty elsewhere): what sidecars of
 * this config directory launched — the node's processes, cosmovisor's daemon included — whoever their parent is
 * now. The node leads a process group of its own, so killing a sidecar's group does not reach it; this finds it.
 */
export async function processesLaunchedBy(configDir: string): Promise<number[]> {
  if (process.platform !== 'linux') return []
  const wanted = path.resolve(configDir)
  const found: number[] = []
  for (const pid of await procPids()) {
    if (pid === process.pid) continue
    const marker = (await processEnvironment(pid))?.get(NODE_MARKER_ENV)
    if (marker !== undefined && path.resolve(marker) === wanted && (await processLiveness(pid)) === 'alive')
      found.push(pid)
  }
  return found.sort((a, b) => a - b)
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
  const found: number[] = []
  for (const pid of await procPids()) {
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

/**
 * Whether `pid` has `file` open (Linux /proc/<pid>/fd): a descriptor whose link names the file, or whose target has
 * the file's device and inode (the link text can differ from our path across mount namespaces and bind mounts).
 * `unknown` when the descriptors cannot be read although the process exists (another user's, without privileges).
 */
export async function processHasFileOpen(
  pid: number,
  file: string,
  identity: { dev: bigint; ino: bigint },
): Promise<'open' | 'not-open' | 'unknown'> {
  if (process.platform !== 'linux') return 'unknown'
  const target = path.resolve(file)
  let fds: string[]
  try {
    fds = await readdir(`/proc/${pid}/fd`)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'EACCES' || code === 'EPERM' ? 'unknown' : 'not-open'
  }
  for (const fd of fds) {
    const link = `/proc/${pid}/fd/${fd}`
    try {
      if ((await readlink(link)) === target) return 'open'
      const info = await stat(link, { bigint: true })
      if (info.dev === identity.dev && info.ino === identity.ino) return 'open'
    } catch {
      // The fd closed while we looked, or names something stat cannot follow (a socket, a deleted file).
    }
  }
  return 'not-open'
}

/** A file some process has open for writing. */
export interface OpenForWriting {
  pid: number
  file: string
}

/**
 * Processes (other than this one) with a file under `dir` open for writing (Linux: /proc/<pid>/fd, with the access
 * mode from /proc/<pid>/fdinfo). A node that is still shutting down holds its LOCK files and logs this way until it
 * exits; readers (`tail -f` of a log, a backup copying the home) are not counted. Always empty off Linux, and
 * processes of other users are invisible without privileges.
 */
export async function filesOpenForWritingUnder(dir: string): Promise<OpenForWriting[]> {
  if (process.platform !== 'linux') return []
  let root: string
  try {
    root = await realpath(dir)
  } catch {
    return []
  }
  const prefix = root.endsWith(path.sep) ? root : `${root}${path.sep}`
  const found: OpenForWriting[] = []
  for (const pid of await procPids()) {
    if (pid === process.pid) continue
    const writer = writerUnder(pid, prefix)
    if (writer !== null) found.push(writer)
    // Looking at one process blocks for at most its descriptor count of readlinks; let other work run between.
    await setImmediatePromise()
  }
  return found
}

/**
 * The first file under `prefix` that `pid` has open for writing, or `null`. Synchronous on purpose: a scan reads a
 * link per descriptor of the whole system, and one thread-pool round trip per readlink makes it about three times
 * slower than these system calls in a row (measured: ~200 ms against ~60 ms for ~1,300 descriptors).
 */
function writerUnder(pid: number, prefix: string): OpenForWriting | null {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch {
    return null
  }
  for (const fd of fds) {
    try {
      const file = readlinkSync(`/proc/${pid}/fd/${fd}`)
      if (!file.startsWith(prefix)) continue
      const info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1]
      // O_ACCMODE: 0 = read-only, 1 = write-only, 2 = read-write.
      if (flags !== undefined && (Number.parseInt(flags, 8) & 3) !== 0) return { pid, file }
    } catch {
      // The fd closed, or the process exited, while we looked.
    }
  }
  return null
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

/** The process group of `pid` (Linux /proc, else `ps`); `null` when it is gone. */
export async function processGroupOf(pid: number): Promise<number | null> {
  if (process.platform === 'linux') {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
      // "pid (comm) state ppid pgrp ..."
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      return Number.isSafeInteger(pgrp) && pgrp > 0 ? pgrp : null
    } catch {
      return null
    }
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'pgid=', '-p', String(pid)])
    const pgid = Number(stdout.trim())
    return Number.isSafeInteger(pgid) && pgid > 0 ? pgid : null
  } catch {
    return null
  }
}

/**
 * The living processes of process group `pgid`, sorted (zombies left for their parent to reap do not count: they
 * hold no files and run no code). A node runs as its own group, so this is "what is left of the node".
 */
export async function processGroupMembers(pgid: number): Promise<number[]> {
  try {
    process.kill(-pgid, 0)
  } catch (error) {
    // ESRCH: no process has this group any more; EPERM: some do, but not ours to signal (still alive).
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return []
  }
  const members: number[] = []
  if (process.platform === 'linux') {
    for (const pid of await procPids()) {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
        if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(pid)
      } catch {
        // Exited while we looked.
      }
    }
    return members.sort((a, b) => a - b)
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-A', '-o', 'pid=,pgid=,stat='])
    for (const line of stdout.split('\n')) {
      const [pid, group, state] = line.trim().split(/\s+/)
      if (Number(group) === pgid && state !== undefined && !state.startsWith('Z')) members.push(Number(pid))
    }
  } catch {
    return []
  }
  return members.sort((a, b) => a - b)
}

/** Sends `signal` to every process of group `pgid`; false when the group is empty. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
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
 *
 * When `pid` leads its own process group (other than ours), the group is the node: the sidecar launches the node
 * as a group leader, and a cosmovisor node is a tree (the wrapper and the daemon it forked). Then both signals
 * go to the whole group, and the process counts as stopped once no process of the group remains.
 */
export async function terminateProcess(pid: number, graceMs: number): Promise<'exited' | 'killed' | 'gone'> {
  if ((await processLiveness(pid)) !== 'alive') return 'gone'
  const group = await processGroupOf(pid)
  const wholeGroup = group === pid && group !== (await processGroupOf(process.pid))
  const send = (signal: NodeJS.Signals): boolean => {
    if (wholeGroup) return signalProcessGroup(pid, signal)
    try {
      process.kill(pid, signal)
      return true
    } catch {
      return false
    }
  }
  const exited = async () => {
    const left = wholeGroup
      ? await processGroupMembers(pid)
      : (await processLiveness(pid)) === 'alive'
        ? [pid]
        : []
    return left.length > 0
      ? { done: false as const, problem: `pid ${left.join(', ')} still running` }
      : { done: true as const, value: undefined }
  }
  if (!send('SIGTERM')) return 'gone'
  try {
    await waitFor(`pid ${pid} to exit after SIGTERM`, exited, { timeoutMs: graceMs, pollMs: 100 })
    return 'exited'
  } catch {
    // fall through to SIGKILL
  }
  if (!send('SIGKILL')) return 'exited'
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

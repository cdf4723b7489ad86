/**
 * Is a LevelDB database in use by another process?
 *
 * Two lock flavours guard `<db>/LOCK`, and on Linux they do not see each other (cometbft.md §6):
 * - goleveldb (every real CometBFT node) uses flock(2);
 * - C++ LevelDB (classic-level: the simulated node, and this pruner) uses fcntl(F_SETLK).
 * So both are checked:
 * 1. flock: we take the flock ourselves with util-linux `flock --nonblock` in a child process and keep it while we
 *    look further (and, in the pruner, for the whole prune). Holding it — not just probing it — closes the race in
 *    which a node starts between our check and our open: goleveldb cannot open a database whose LOCK we flock.
 *    The child holds the lock until its stdin closes, so it is released even if this process is SIGKILLed.
 * 2. fcntl: opening the database with classic-level fails with "IO error: lock …" while another C++ LevelDB holds
 *    it. LevelDB takes that lock before touching any file, so a failed open changes nothing; a successful open only
 *    does what any open does (replays the log), and we are the only user at that moment (we hold the flock).
 * A missing LOCK file means nobody has the database open.
 *
 * Off Linux the two kinds are one: see {@link lockProbeFor}.
 */
import { spawn } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { ClassicLevel } from 'classic-level'
import { LockCheckError } from './errors.js'

/**
 * How this process can tell, on `platform`, whether another process holds a LevelDB's LOCK, without opening the
 * database (opening a goleveldb store with C++ LevelDB replays its journal into a table, writes a new MANIFEST and
 * starts compactions on the node's files):
 * - `proc-locks`: Linux lists flock(2) and fcntl(2) locks, which do not see each other there, in /proc/locks.
 * - `flock`: on the BSD kernels (FreeBSD, OpenBSD, NetBSD, and macOS, whose locking comes from FreeBSD's) flock(2)
 *   and fcntl(2) locks are kept in one list per file and conflict with each other (Linux's flock(2) manual: "on
 *   some systems, such as the modern BSDs, flock() and fcntl(2) locks do interact"), so a non-blocking flock taken
 *   and released sees a goleveldb node and a C++ LevelDB process alike. It also means that a flock held by a
 *   helper process would block this process's own C++ LevelDB open there.
 * - `none`: no way known without opening; callers refuse instead.
 */
export function lockProbeFor(platform: NodeJS.Platform): 'proc-locks' | 'flock' | 'none' {
  if (platform === 'linux' || platform === 'android') return 'proc-locks'
  if (platform === 'darwin' || platform === 'freebsd' || platform === 'openbsd' || platform === 'netbsd') {
    return 'flock'
  }
  return 'none'
}

/** Result of {@link checkDatabaseUnlocked}. */
export type DatabaseLockStatus = { locked: false } | { locked: true; by: 'flock' | 'fcntl'; detail: string }

/** A flock held on a LOCK file by a helper child process; {@link release} frees it. */
export interface FlockHold {
  lockPath: string
  release(): Promise<void>
}

const CONFLICT_EXIT = 75
const FLOCK_MISSING =
  'the `flock` command (util-linux) is required to check the goleveldb lock: on Debian/Ubuntu it is part of the ' +
  'util-linux package (`apt-get install util-linux`); on macOS install it with `brew install flock`'

/** PIDs holding a lock of the given kind on `lockPath`, from /proc/locks (Linux; best effort, for messages only). */
async function lockHolders(lockPath: string, kind: 'FLOCK' | 'POSIX'): Promise<number[]> {
  try {
    const ino = (await stat(lockPath)).ino
    const text = await readFile('/proc/locks', 'utf8')
    const pids = new Set<number>()
    for (const line of text.split('\n')) {
      // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" (blocked waiters carry "->" and are skipped)
      const parts = line.trim().split(/\s+/)
      if (parts[1] !== kind || line.includes('->')) continue
      const dev = parts[5]?.split(':')
      if (dev?.[2] === String(ino)) pids.add(Number(parts[4]))
    }
    return [...pids]
  } catch {
    return []
  }
}

async function describeHolders(lockPath: string, kind: 'FLOCK' | 'POSIX'): Promise<string> {
  const pids = await lockHolders(lockPath, kind)
  return pids.length === 0 ? '' : ` (held by pid ${pids.join(', ')})`
}

/**
 * Takes a non-blocking exclusive flock on `lockPath` and holds it until `release()`.
 * Resolves null when another process holds it. The file is created if missing (as LevelDB itself would).
 */
export async function holdFlock(lockPath: string): Promise<FlockHold | null> {
  const child = spawn(
    'flock',
    [
      '--nonblock',
      '--conflict-exit-code',
      String(CONFLICT_EXIT),
      lockPath,
      'sh',
      '-c',
      'echo held && exec cat',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => {
    stderr += s
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  const outcome = await new Promise<'held' | 'conflict' | Error>((resolve) => {
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (s: string) => {
      out += s
      if (out.includes('held')) resolve('held')
    })
    child.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'ENOENT' ? new LockCheckError(FLOCK_MISSING) : error)
    })
    void exited.then((code) => {
      if (code === CONFLICT_EXIT) resolve('conflict')
      else resolve(new LockCheckError(`flock ${lockPath} exited with ${code}: ${stderr.trim()}`))
    })
  })
  if (outcome === 'conflict') return null
  if (outcome instanceof Error) {
    child.kill('SIGKILL')
    throw outcome
  }
  child.stdout.resume()
  let released = false
  return {
    lockPath,
    async release() {
      if (released) return
      released = true
      child.stdin.end()
      await exited
    },
  }
}

/** Reads the lock error out of a failed classic-level open, or null when the failure was something else. */
function lockErrorOf(error: unknown): string | null {
  const messages: string[] = []
  let e: unknown = error
  while (e instanceof Error) {
    messages.push(e.message)
    e = e.cause
  }
  const lock = messages.find((m) => /\block\b/i.test(m) && /(unavailable|held|resource)/i.test(m))
  return lock ?? null
}

/**
 * Opens and closes the database with classic-level to see whether another C++ LevelDB holds its fcntl lock.
 * Returns the lock error message, or null when the database could be opened.
 */
export async function probeFcntlLock(dbDir: string): Promise<string | null> {
  const db = new ClassicLevel<Buffer, Buffer>(dbDir, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  try {
    await db.open()
  } catch (error) {
    const lock = lockErrorOf(error)
    if (lock !== null) return lock
    throw new LockCheckError(`cannot open ${dbDir} to check its lock: ${(error as Error).message}`, {
      cause: error,
    })
  }
  await db.close()
  return null
}

/**
 * Checks that no other process has the LevelDB database `dbDir` open: neither a goleveldb process (flock) nor a
 * C++ LevelDB process (fcntl). See the module comment for why both, and why the flock is held during the check.
 * Where the two kinds are one ({@link lockProbeFor} `flock`: macOS, the BSDs) the flock alone decides and the
 * database is never opened; on Linux the fcntl lock is probed by opening it with C++ LevelDB (the sidecar reads
 * /proc/locks there instead); elsewhere it throws {@link LockCheckError} without touching the database.
 */
export async function checkDatabaseUnlocked(
  dbDir: string,
  platform: NodeJS.Platform = process.platform,
): Promise<DatabaseLockStatus> {
  const probe = lockProbeFor(platform)
  if (probe === 'none') {
    throw new LockCheckError(
      `cannot tell on ${platform} whether another process holds ${dbDir} without opening it with LevelDB, ` +
        "which would rewrite a goleveldb node's files: the lock check runs on Linux, macOS and the BSDs",
    )
  }
  const lockPath = path.join(dbDir, 'LOCK')
  try {
    await stat(lockPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { locked: false }
    throw new LockCheckError(`cannot stat ${lockPath}: ${(error as Error).message}`, { cause: error })
  }
  const hold = await holdFlock(lockPath)
  if (hold === null) {
    return {
      locked: true,
      by: 'flock',
      detail:
        probe === 'flock'
          ? `${lockPath} is locked by another process (flock or fcntl): the node is still running`
          : `${lockPath} is flock()ed by another process${await describeHolders(lockPath, 'FLOCK')}: a goleveldb node is still running`,
    }
  }
  try {
    // One lock list for both kinds: the flock we hold already excluded every holder.
    if (probe === 'flock') return { locked: false }
    const fcntl = await probeFcntlLock(dbDir)
    if (fcntl !== null) {
      return {
        locked: true,
        by: 'fcntl',
        detail: `${lockPath} is fcntl()-locked by another process${await describeHolders(lockPath, 'POSIX')}: ${fcntl}`,
      }
    }
    return { locked: false }
  } finally {
    await hold.release()
  }
}

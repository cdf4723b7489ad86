import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { LockCheckError, pathExists } from '@ghostfleet/cometbft'
import { pidsWithFileOpen, processHasFileOpen, withoutDescendants } from '../supervisor/process-inspect.js'

/*
 * Whether the node's databases are open by some process (prune only a stopped node).
 * goleveldb locks `LOCK` with flock(2), C++ LevelDB (classic-level, the simulated node) with fcntl(2); the two
 * do not see each other, so both kinds are looked for. On Linux /proc/locks lists both kinds with the locked
 * file's device, inode and the holder's pid.
 *
 * An inode number alone names nothing: every filesystem numbers its own inodes, so the nodes of a host with one
 * disk per node hold LOCK files with the same inode numbers, and matching by inode alone takes a neighbour's
 * lock for ours. A lock counts when its device is the LOCK file's device too, or, where the two device numbers
 * disagree for the same file (overlay filesystems report the overlay's device to stat() and the underlying
 * one in /proc/locks), when its holder has our LOCK file open.
 */

/** The databases the sidecar prunes; the node holds them (and more) while it runs. */
export const PRUNED_DATABASES = ['blockstore.db', 'state.db'] as const

/** Every database a CometBFT/Cosmos node keeps open; any of them locked means the node runs. */
export const NODE_DATABASES = [
  'blockstore.db',
  'state.db',
  'application.db',
  'tx_index.db',
  'evidence.db',
] as const

export interface LockedDatabase {
  /** Database directory name, e.g. `blockstore.db`. */
  db: string
  /** Absolute path of its LOCK file. */
  lockFile: string
  /**
   * Pids that hold it, as far as they can be seen (may be empty for another user's process); helpers that
   * descend from another holder (a node's `flock` child) are left out.
   */
  holders: number[]
  /** `flock` (goleveldb) or `posix` (fcntl: C++ LevelDB). */
  kind: 'flock' | 'posix' | 'unknown'
}

/**
 * The lock check cannot run on this system (no /proc/locks), so a prune must not proceed on faith. A
 * `LockCheckError`, so that the commands that report a failed lock check report this one the same way.
 */
export class LockCheckUnavailableError extends LockCheckError {}

/** One held lock of /proc/locks. */
export interface ProcLock {
  kind: 'flock' | 'posix' | 'unknown'
  pid: number
  /** Device of the locked file as /proc/locks prints it (the kernel's major and minor, in hex there). */
  major: number
  minor: number
  inode: bigint
}

/** The held locks listed in a /proc/locks text; waiters and lines that do not parse are left out. */
export function parseProcLocks(text: string): ProcLock[] {
  const locks: ProcLock[] = []
  for (const line of text.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:02:131090 0 EOF"; waiters are listed as "1: -> FLOCK ..." and skipped.
    const fields = line.trim().split(/\s+/)
    if (fields.length < 6 || fields[1] === '->') continue
    const type = fields[1]
    const pid = Number(fields[4])
    const device = /^([0-9a-f]+):([0-9a-f]+):(\d+)$/i.exec(fields[5] ?? '')
    if (!Number.isSafeInteger(pid) || device === null) continue
    const kind = type === 'FLOCK' ? 'flock' : type === 'POSIX' || type === 'OFDLCK' ? 'posix' : 'unknown'
    locks.push({
      kind,
      pid,
      major: Number.parseInt(device[1] as string, 16),
      minor: Number.parseInt(device[2] as string, 16),
      inode: BigInt(device[3] as string),
    })
  }
  return locks
}

/**
 * The major and minor of a stat() device number. User space encodes them as glibc's makedev does (what libuv
 * builds from statx): minor bits 0-7 and 20-31 (and 44-63), major bits 8-19 (and 32-43); for 32-bit values this is
 * the kernel's new_encode_dev.
 */
export function deviceNumbers(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
  return { major: Number(major), minor: Number(minor) }
}

async function readProcLocks(): Promise<ProcLock[]> {
  try {
    return parseProcLocks(await readFile('/proc/locks', 'utf8'))
  } catch (error) {
    throw new LockCheckUnavailableError(
      `cannot read /proc/locks (${(error as NodeJS.ErrnoException).code ?? String(error)}): the database lock ` +
        'check needs Linux',
    )
  }
}

/**
 * The locks of `locks` that are on `lockFile` (whose stat() gave `identity`): same inode and same device, or same
 * inode and a holder that has the file open. When the holder's descriptors cannot be read (another user's process
 * without privileges, a pid of another namespace shown as 0), the lock counts if any process we can see has the file
 * open: neither a neighbour on another disk nor an unseen holder alone makes our database busy.
 */
export async function locksOnFile(
  locks: readonly ProcLock[],
  lockFile: string,
  identity: { dev: bigint; ino: bigint },
): Promise<ProcLock[]> {
  const { major, minor } = deviceNumbers(identity.dev)
  let openBySomeone: boolean | undefined
  const matching: ProcLock[] = []
  for (const lock of locks) {
    if (lock.inode !== identity.ino) continue
    if (lock.major === major && lock.minor === minor) {
      matching.push(lock)
      continue
    }
    const holder = lock.pid > 0 ? await processHasFileOpen(lock.pid, lockFile, identity) : 'unknown'
    if (holder === 'unknown') openBySomeone ??= (await pidsWithFileOpen(lockFile)).length > 0
    if (holder === 'open' || (holder === 'unknown' && openBySomeone === true)) matching.push(lock)
  }
  return matching
}

/**
 * The databases under `dataDir` whose LOCK is held right now. A database that does not exist is not locked.
 * Locks are matched as {@link locksOnFile} says; holders are completed by the processes that have the LOCK file
 * open.
 *
 * @throws {@link LockCheckUnavailableError} when the check cannot run (not Linux).
 */
export async function findLockedDatabases(
  dataDir: string,
  databases: readonly string[] = NODE_DATABASES,
): Promise<LockedDatabase[]> {
  const present: Array<{ db: string; lockFile: string; dev: bigint; ino: bigint }> = []
  for (const db of databases) {
    const lockFile = path.join(path.resolve(dataDir), db, 'LOCK')
    if (!(await pathExists(lockFile))) continue
    const info = await stat(lockFile, { bigint: true })
    present.push({ db, lockFile, dev: info.dev, ino: info.ino })
  }
  if (present.length === 0) return []
  const locks = await readProcLocks()
  const locked: LockedDatabase[] = []
  for (const entry of present) {
    const matching = await locksOnFile(locks, entry.lockFile, entry)
    if (matching.length === 0) continue
    const holders = new Set(matching.map((lock) => lock.pid))
    for (const pid of await pidsWithFileOpen(entry.lockFile)) holders.add(pid)
    locked.push({
      db: entry.db,
      lockFile: entry.lockFile,
      holders: (await withoutDescendants([...holders].filter((pid) => pid > 0))).sort((a, b) => a - b),
      kind: matching[0]?.kind ?? 'unknown',
    })
  }
  return locked
}

/** "blockstore.db (pid 123), state.db (pid 123)" for messages. */
export function describeLocked(locked: readonly LockedDatabase[]): string {
  return locked
    .map((entry) => {
      const who = entry.holders.length === 0 ? 'holder not visible' : `pid ${entry.holders.join(', ')}`
      return `${entry.db} (${who})`
    })
    .join(', ')
}

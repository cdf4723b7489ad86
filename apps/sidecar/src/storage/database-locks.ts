import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { pathExists } from '@ghostfleet/cometbft'
import { pidsWithFileOpen, withoutDescendants } from '../supervisor/process-inspect.js'

/*
 * Whether the node's databases are open by some process (prune only a stopped node).
 * goleveldb locks `LOCK` with flock(2), C++ LevelDB (classic-level, the simulated node) with fcntl(2); the two
 * do not see each other, so both kinds are looked for. On Linux /proc/locks lists both kinds with the locked
 * file's inode and the holder's pid.
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

/** The lock check cannot run on this system (no /proc/locks), so a prune must not proceed on faith. */
export class LockCheckUnavailableError extends Error {
  override readonly name = 'LockCheckUnavailableError'
}

interface ProcLock {
  kind: 'flock' | 'posix' | 'unknown'
  pid: number
  inode: bigint
}

async function readProcLocks(): Promise<ProcLock[]> {
  let text: string
  try {
    text = await readFile('/proc/locks', 'utf8')
  } catch (error) {
    throw new LockCheckUnavailableError(
      `cannot read /proc/locks (${(error as NodeJS.ErrnoException).code ?? String(error)}): the database lock ` +
        'check needs Linux',
    )
  }
  const locks: ProcLock[] = []
  for (const line of text.split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 08:02:131090 0 EOF"; waiters are listed as "1: -> FLOCK ..." and skipped.
    const fields = line.trim().split(/\s+/)
    if (fields.length < 6 || fields[1] === '->') continue
    const type = fields[1]
    const pid = Number(fields[4])
    const inode = fields[5]?.split(':')[2]
    if (!Number.isSafeInteger(pid) || inode === undefined || !/^\d+$/.test(inode)) continue
    const kind = type === 'FLOCK' ? 'flock' : type === 'POSIX' || type === 'OFDLCK' ? 'posix' : 'unknown'
    locks.push({ kind, pid, inode: BigInt(inode) })
  }
  return locks
}

/**
 * The databases under `dataDir` whose LOCK is held right now. A database that does not exist is not locked.
 * Holders are matched by inode (the device numbers of /proc/locks and stat() differ on overlay filesystems)
 * and completed by the processes that have the LOCK file open.
 *
 * @throws {@link LockCheckUnavailableError} when the check cannot run (not Linux).
 */
export async function findLockedDatabases(
  dataDir: string,
  databases: readonly string[] = NODE_DATABASES,
): Promise<LockedDatabase[]> {
  const present: Array<{ db: string; lockFile: string; inode: bigint }> = []
  for (const db of databases) {
    const lockFile = path.join(path.resolve(dataDir), db, 'LOCK')
    if (!(await pathExists(lockFile))) continue
    const info = await stat(lockFile, { bigint: true })
    present.push({ db, lockFile, inode: info.ino })
  }
  if (present.length === 0) return []
  const locks = await readProcLocks()
  const locked: LockedDatabase[] = []
  for (const entry of present) {
    const matching = locks.filter((lock) => lock.inode === entry.inode)
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

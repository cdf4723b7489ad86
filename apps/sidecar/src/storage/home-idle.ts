import path from 'node:path'
import { filesOpenForWritingUnder } from '../supervisor/process-inspect.js'
import { waitFor } from '../wait-for.js'
import { describeLocked, findLockedDatabases, LockCheckUnavailableError } from './database-locks.js'
import { lockedPrunedDatabases } from './offline-prune.js'

/*
 * "The node has stopped" is not the same as "nothing touches the node home any more". A node that escaped the
 * supervisor's process group, an orphan of an earlier sidecar, or a daemon still saving its state writes its
 * address book when it exits and keeps its databases open until then. Stashing or restoring the address book, or
 * pruning, while such a process lives lets it overwrite the result. So those steps first wait until the home is
 * idle:
 * - no node database is locked: /proc/locks, both flock (goleveldb) and fcntl (C++ LevelDB), see database-locks.ts;
 * - no process has a file under the home (or the data directory) open for writing: /proc/<pid>/fd and fdinfo.
 *   Readers (`tail -f` on a log, a backup) do not count.
 * It is a condition with a deadline (no fixed sleep); at the deadline the error names who still holds what.
 *
 * macOS (no /proc): only the pruned databases' LOCK files are checked (a flock probe, which sees fcntl locks there
 * too, see `lockedPrunedDatabases`); open files cannot be listed without walking the whole home with `lsof +D`, which is
 * too slow to poll. There the guarantee rests on the supervisor stopping the node's whole process group.
 */

/** What holds the home right now ("" when it is idle). */
export async function homeInUse(home: string, dataDir: string): Promise<string> {
  let locked: Awaited<ReturnType<typeof findLockedDatabases>>
  try {
    locked = await findLockedDatabases(dataDir)
  } catch (error) {
    if (!(error instanceof LockCheckUnavailableError)) throw error
    locked = await lockedPrunedDatabases(dataDir)
  }
  const problems: string[] = []
  if (locked.length > 0) problems.push(`locked databases: ${describeLocked(locked)}`)
  const dirs = [...new Set([path.resolve(home), path.resolve(dataDir)])]
  const writers = (await Promise.all(dirs.map((dir) => filesOpenForWritingUnder(dir)))).flat()
  const byPid = new Map<number, string>()
  for (const { pid, file } of writers) if (!byPid.has(pid)) byPid.set(pid, file)
  if (byPid.size > 0) {
    problems.push(`open for writing: ${[...byPid].map(([pid, file]) => `pid ${pid} (${file})`).join(', ')}`)
  }
  return problems.join('; ')
}

export interface HomeIdleOptions {
  /** The node's data directory (`db_dir`), `<home>/data` unless the node's config says otherwise. */
  dataDir?: string
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Resolves once no process holds the node home (see the module comment).
 *
 * @throws `WaitTimeoutError` at the deadline, naming the holders; `WaitAbortedError` when `signal` aborts.
 */
export async function waitUntilHomeIdle(home: string, options: HomeIdleOptions): Promise<void> {
  const dataDir = options.dataDir ?? path.join(home, 'data')
  await waitFor(
    `no process to hold the node home ${home}`,
    async () => {
      const problem = await homeInUse(home, dataDir)
      return problem === '' ? { done: true, value: undefined } : { done: false, problem }
    },
    { timeoutMs: options.timeoutMs, pollMs: 200, ...(options.signal ? { signal: options.signal } : {}) },
  )
}

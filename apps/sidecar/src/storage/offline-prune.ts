import path from 'node:path'
import { checkDatabaseUnlocked, type PruneProgress, type PruneResult, pruneHome } from '@ghostfleet/cometbft'
import { waitFor } from '../wait-for.js'
import {
  describeLocked,
  findLockedDatabases,
  LockCheckUnavailableError,
  type LockedDatabase,
  PRUNED_DATABASES,
} from './database-locks.js'

/** The sidecar shut down during a prune; the pruner stopped at a batch boundary (the store is consistent). */
export class PruneAbortedError extends Error {
  override readonly name = 'PruneAbortedError'
  constructor() {
    super(
      'prune abandoned at a batch boundary because the sidecar is shutting down; the next prune finishes it',
    )
  }
}

export interface OfflinePruneOptions {
  home: string
  untilHeight: number
  statePruning: boolean
  forceCompact: boolean
  signal?: AbortSignal
  onProgress?: (progress: PruneProgress) => void
  /** Heights per batch, the granularity of an abort (default: the pruner's own). */
  batchSize?: number
}

/**
 * `pruneHome` of `@ghostfleet/cometbft`, abortable: the pruner calls `onProgress` after every written batch (and
 * before each flush) and stops when it throws, leaving what it wrote consistent and moved into tables, so the
 * node's goleveldb sees it; the next prune finds what is left by scanning and finishes it.
 */
export async function pruneNodeHome(options: OfflinePruneOptions): Promise<PruneResult> {
  return await pruneHome({
    home: options.home,
    untilHeight: options.untilHeight,
    statePruning: options.statePruning,
    forceCompact: options.forceCompact,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    onProgress: (progress) => {
      if (options.signal?.aborted) throw new PruneAbortedError()
      options.onProgress?.(progress)
    },
  })
}

/**
 * The pruned databases that are locked now. Linux reads /proc/locks (both lock kinds, and without opening the
 * databases); elsewhere `checkDatabaseUnlocked` of `@ghostfleet/cometbft` (flock + an fcntl probe) is used.
 */
export async function lockedPrunedDatabases(dataDir: string): Promise<LockedDatabase[]> {
  try {
    return await findLockedDatabases(dataDir, PRUNED_DATABASES)
  } catch (error) {
    if (!(error instanceof LockCheckUnavailableError)) throw error
  }
  const locked: LockedDatabase[] = []
  for (const db of PRUNED_DATABASES) {
    const status = await checkDatabaseUnlocked(path.join(dataDir, db))
    if (status.locked) {
      locked.push({
        db,
        lockFile: path.join(dataDir, db, 'LOCK'),
        holders: [],
        kind: status.by === 'flock' ? 'flock' : 'posix',
      })
    }
  }
  return locked
}

/** Waits until no process holds the pruned databases (a condition with a deadline). */
export async function waitUntilUnlocked(
  dataDir: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  await waitFor(
    `the node's databases in ${dataDir} to be unlocked`,
    async () => {
      const locked = await lockedPrunedDatabases(dataDir)
      return locked.length === 0
        ? { done: true, value: undefined }
        : { done: false, problem: describeLocked(locked) }
    },
    { timeoutMs, pollMs: 100, ...(signal ? { signal } : {}) },
  )
}

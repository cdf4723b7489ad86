import path from 'node:path'
import {
  checkDatabaseUnlocked,
  lockProbeFor,
  type PruneProgress,
  type PruneResult,
  pruneHome,
} from '@ghostfleet/cometbft'
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
 * The pruned databases that are locked now, found without opening them (an open by C++ LevelDB rewrites a goleveldb
 * node's files), by the probe `lockProbeFor` of `@ghostfleet/cometbft` names for the platform: /proc/locks on Linux
 * (both lock kinds, with their holders); a flock taken and released on macOS and the BSDs, where it conflicts with
 * fcntl locks too; elsewhere a refusal ({@link LockCheckUnavailableError}) that says why.
 */
export async function lockedPrunedDatabases(
  dataDir: string,
  platform: NodeJS.Platform = process.platform,
): Promise<LockedDatabase[]> {
  const probe = lockProbeFor(platform)
  if (probe === 'proc-locks') return await findLockedDatabases(dataDir, PRUNED_DATABASES)
  if (probe === 'none') {
    throw new LockCheckUnavailableError(
      `cannot tell on ${platform} whether the node holds its databases in ${dataDir} without opening them ` +
        "with LevelDB, which would rewrite a goleveldb node's files; pruning needs Linux, macOS or a BSD",
    )
  }
  const locked: LockedDatabase[] = []
  for (const db of PRUNED_DATABASES) {
    const status = await checkDatabaseUnlocked(path.join(dataDir, db), platform)
    if (status.locked) {
      locked.push({ db, lockFile: path.join(dataDir, db, 'LOCK'), holders: [], kind: 'unknown' })
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

import path from 'node:path'
import { type FlockHold, holdFlock, pathExists } from '@ghostfleet/cometbft'
import { NODE_DATABASES } from './database-locks.js'

/*
 * Keeping a stopped node from opening its databases while the sidecar copies or links them (backup, checkpoint):
 * the LOCK file of every node database is flock()ed, which goleveldb (the node's engine) cannot take then.
 */

/**
 * flock()s the LOCK file of every node database in `dataDir` until {@link releaseHolds}. A database without a
 * LOCK file has never been opened and is skipped (creating one would change the node's files). When one is held
 * already, the holds taken so far are released and `busy(db)`'s error is thrown.
 */
export async function holdNodeDatabases(
  dataDir: string,
  busy: (db: string) => Promise<Error> | Error,
): Promise<FlockHold[]> {
  const holds: FlockHold[] = []
  try {
    for (const db of NODE_DATABASES) {
      const lockFile = path.join(dataDir, db, 'LOCK')
      if (!(await pathExists(lockFile))) continue
      const hold = await holdFlock(lockFile)
      if (hold === null) throw await busy(db)
      holds.push(hold)
    }
    return holds
  } catch (error) {
    await releaseHolds(holds)
    throw error
  }
}

export async function releaseHolds(holds: readonly FlockHold[]): Promise<void> {
  for (const hold of holds) await hold.release()
}

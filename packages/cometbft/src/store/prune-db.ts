/**
 * Opening a node's database for the pruner with classic-level (C++ LevelDB 1.20), and leaving it so that goleveldb
 * sees every write: {@link flushToTables}. Why that matters is in the module comment of pruner.ts.
 */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { ClassicLevel } from 'classic-level'
import { DatabaseLockedError, PruneRefusedError, StoreCorruptionError } from './errors.js'
import { VERSION_KEY } from './keys.js'
import { layoutProblem } from './prune-preflight.js'

export type Db = ClassicLevel<Buffer, Buffer>

/**
 * C++ LevelDB's memtable size while pruning. A larger memtable means fewer level-0 tables and compactions during
 * the deletes (they are flushed to tables at the end anyway); a million heights of deletes take about 250 MB.
 */
export const PRUNE_WRITE_BUFFER_BYTES = 256 * 1024 * 1024

export async function openForPrune(
  location: string,
  writeBufferBytes: number = PRUNE_WRITE_BUFFER_BYTES,
): Promise<Db> {
  const db = new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
    writeBufferSize: writeBufferBytes,
  })
  try {
    await db.open()
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
    if (/\block\b/i.test(cause)) {
      throw new DatabaseLockedError(`${location} is locked by another process (fcntl): ${cause}`, location)
    }
    throw new PruneRefusedError(`cannot open ${location}: ${cause}`)
  }
  return db
}

/** Refuses CometBFT v1.0's "v2" (orderedcode) key layout and unknown layout versions. */
export async function checkLayout(db: Db, location: string): Promise<void> {
  const problem = layoutProblem(location, await db.get(VERSION_KEY))
  if (problem !== null) throw new PruneRefusedError(problem)
}

/**
 * A key range above every CometBFT key (all ASCII): compacting it compacts no table, but C++ `CompactRange` first
 * switches and flushes the memtable (db_impl.cc `CompactRange` → `TEST_CompactMemTable`, also when the memtable is
 * empty), records the new log number in the MANIFEST and deletes the old log.
 */
const FLUSH_RANGE_START = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xfe])
const FLUSH_RANGE_END = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])
const LOG_FILE = /^\d+\.log$/

/**
 * Moves everything written so far from C++ LevelDB's log into table files, and checks that it did: afterwards
 * every `.log` file of the database is empty. C++ `CompactRange` swallows a failed memtable flush (it returns
 * void), so the check is what makes a failure visible.
 */
export async function flushToTables(db: Db, location: string): Promise<void> {
  await db.compactRange(FLUSH_RANGE_START, FLUSH_RANGE_END)
  const left: string[] = []
  for (const name of await readdir(location)) {
    if (!LOG_FILE.test(name)) continue
    const size = await stat(path.join(location, name)).then(
      (s) => s.size,
      () => 0,
    )
    if (size > 0) left.push(`${name} (${size} bytes)`)
  }
  if (left.length > 0) {
    throw new StoreCorruptionError(
      `${location}: LevelDB did not move its log into tables (still in ${left.join(', ')}); ` +
        'see the LOG file there for the background error',
    )
  }
}

/** Full-range compaction (supervysor's `ForceCompact(nil, nil)`); also flushes the memtable first. */
export async function compactAll(db: Db): Promise<void> {
  await db.compactRange(Buffer.from([0x00]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))
}

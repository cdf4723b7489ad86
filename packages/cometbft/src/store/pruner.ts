/**
 * The offline pruner: deletes blocks and states below a height directly in a stopped node's `blockstore.db` and
 * `state.db` (cometbft.md §1.5 PruneBlocks, §2.4 PruneStates, §7), with classic-level (C++ LevelDB 1.20), so that
 * the node's own engine, goleveldb, sees the result.
 *
 * Result, for `H = untilHeight`:
 * - blocks: every height h < H that has a meta `H:h` loses `H:h`, `P:h:*`, `C:h`, `SC:h`, `EC:h`, `BH:<hash>`;
 *   `blockStore` = {base: H, height unchanged}. Keys without a meta (e.g. `C:(base-1)`) are never touched.
 * - states: every `validatorsKey:h`, `consensusParamsKey:h`, `abciResponsesKey:h` with h < H goes, except the keep
 *   sets of H (the full objects H's pointers lead to, prune-states.ts). `stateKey`, `lastABCIResponseKey`,
 *   `genesisDoc` and everything at or above H are never touched.
 *
 * WHAT GOLEVELDB DOES WITH A C++ LEVELDB STORE (syndtr/goleveldb db.go `recoverJournal`, batch.go
 * `decodeBatchToMem`): it replays the logs named by the MANIFEST and skips, as "corrupted", every batch whose
 * sequence number is below the MANIFEST's last sequence. C++ LevelDB writes its current last sequence into every
 * version edit (memtable flushes, trivial moves, compactions running in the background while we write), and an
 * edit can land after batches that so far live only in the `.log`. So when a run ends with batches only in the log,
 * goleveldb drops the ones written before the last background edit and replays the rest: from goleveldb's view,
 * the surviving writes are everything in tables, then a lost stretch, then the replayed tail of the log. (C++
 * LevelDB itself, and power loss, only ever lose a suffix; goleveldb can lose a middle.) Each batch is still
 * atomic: replayed or skipped whole.
 *
 * THE MECHANISM, and why each part is needed:
 * 1. Nothing is left only in the log when the pruner closes a database it wrote: `flushToTables` (prune-db.ts) runs
 *    C++ `CompactRange` over an empty key range above every CometBFT key, which switches the memtable, writes it to
 *    a level-0 table, records the new log number in the MANIFEST (synced) and deletes the old log; then it checks
 *    that every `.log` file is empty (CompactRange swallows a failed flush). It runs after the block phase, after
 *    the state phase, and on the error path before closing. After a completed run goleveldb therefore reads tables
 *    only: exactly what classic-level saw.
 * 2. The set of keys to delete is a pure function of (store contents, H), found by range scans (`H:` metas below
 *    H; the three state prefixes below H minus the keep sets), never by looping from the recorded base. A SIGKILL
 *    can make goleveldb lose an earlier batch's deletes while a later batch's base survives, so keys below the
 *    recorded base can be left behind; a run that trusted the base would never see them. Scanning finds them, and a
 *    run whose base is already H still deletes what is left below H.
 * 3. Blocks first, then `flushToTables(blockstore.db)`, and only then the states. Every block batch deletes whole
 *    heights below the base it records (intermediate base = max(old base, last deleted + 1), last batch = H), so
 *    whatever subset of batches goleveldb keeps, the base it ends up with (from the latest surviving batch) has
 *    every block at and above it. No state is deleted before base = H is in a table, and states below H outside
 *    the keep sets are needed by no height ≥ H (the keep sets cover every height ≥ H, see `stateKeepSets`), so any
 *    subset of the state deletes is safe too; the state phase is order-independent and re-runnable.
 * Hence after a SIGKILL at any point goleveldb sees: no block missing at or above the recorded base, no state entry
 * missing that a height ≥ that base needs, and a next run with the same H ends with exactly the keys of an
 * uninterrupted run (it re-scans and deletes the rest; the keep sets depend only on entries ≥ H, which no run
 * deletes). Intermediate batches are not synced: durability comes from the flush, and a lost unsynced suffix (power
 * loss) is a subset like any other.
 *
 * DIFFERENCES FROM COMETBFT, decided:
 * - Leftovers below the old base. CometBFT's `PruneStates(from = old base, H)` never revisits entries below the old
 *   base (its own comment: "some old states are left behind"), e.g. the keep sets of an earlier prune. Scanning
 *   deletes them once no height ≥ H needs them. For a store never pruned before (base 1) the two are identical,
 *   and the tests compare such runs with CometBFT's own algorithm on goleveldb; repeated prunes are compared with
 *   the scanning reference (test/store/prune-fixtures.ts `expectedAfterPrune`).
 * - Order: CometBFT prunes all blocks, then all states, with a synced write every 1000 heights and no final flush;
 *   run through C++ LevelDB that order would not survive goleveldb's replay (see above).
 * - Kept heights are not materialised: CometBFT rewrites a kept pointer entry as a full set (which needs its
 *   `IncrementProposerPriority`); we keep the entry and whatever it points to instead.
 * - v0.38+ evidence retention (keeping H:/C: and validator sets of unexpired evidence) is not replicated, like
 *   supervysor; v0.34, v0.37 and v0.38 stores all prune correctly by key.
 *
 * WHAT A REFUSAL LEAVES UNCHANGED. Decided before opening, with every file byte-identical (prune-preflight.ts):
 * options, config (`db_backend`, `db_dir`), `untilHeight` ≤ 0, a missing `CURRENT` or MANIFEST, a table file
 * without a valid footer, a database the node holds (flock, before opening; fcntl, by the failing open, which
 * touches no file; on macOS and the BSDs, where the two are one lock, by the failing open alone), and, read with the read-only reader (leveldb-read/, goleveldb's view, writes nothing): the v2
 * key layout, a height above the latest or below the base, missing state entries at the height, a damaged table
 * block on the way to those keys. Decided only after opening with C++ LevelDB: a meta that contradicts its key or
 * a damaged data block met by the scans (and the same checks again, on C++ LevelDB's view). They all come before
 * the first write (the scans run before any delete), so the keys and values are unchanged as goleveldb reads
 * them; the files are not: the open already replayed goleveldb's journal into a new table, wrote a new MANIFEST
 * and may have compacted (what any open by the node does, too).
 */
import path from 'node:path'
import { z } from 'zod'
import { DatabaseLockedError, PruneRefusedError } from './errors.js'
import { type FlockHold, holdFlock, lockProbeFor } from './lock.js'
import {
  checkPruneHeight,
  deleteBlocks,
  findPrunableBlocks,
  loadBlockStoreState,
  type PrunableBlocks,
} from './prune-blocks.js'
import { checkLayout, compactAll, type Db, flushToTables, openForPrune } from './prune-db.js'
import { checkBeforeOpen, checkStoreFiles, databaseBytes, resolveDataDir } from './prune-preflight.js'
import {
  deleteStates,
  findPrunableStates,
  type PrunableStates,
  type StateKeepSets,
  stateKeepSets,
} from './prune-states.js'

/**
 * Progress of {@link pruneHome}: `done` of `total` heights (blocks), state entries (states), databases (flush:
 * moving the writes from the log into tables; compact).
 */
export interface PruneProgress {
  phase: 'blocks' | 'states' | 'flush' | 'compact'
  done: number
  total: number
}

/** Options of {@link pruneHome}. */
export interface PruneOptions {
  /** The node's home directory (holds `config/config.toml` and, by default, `data/`). */
  home: string
  /** Delete everything below this height; this height is kept (CometBFT `PruneBlocks(H)`). */
  untilHeight: number
  /** Also prune state.db. @default true */
  statePruning?: boolean
  /** Compact both databases over the full key range afterwards (supervysor's `ForceCompact`). @default false */
  forceCompact?: boolean
  /**
   * Called after every written batch and before each flush. An exception aborts the prune: what was written is
   * flushed and stays consistent, and the next run completes it.
   */
  onProgress?: (progress: PruneProgress) => void
  /** Heights per batch. @default 10000 */
  batchSize?: number
  /**
   * C++ LevelDB's memtable size while pruning (1 MiB … 1 GiB). Smaller means more memtable flushes, i.e. more
   * background version edits during the deletes: the kill tests use 4 MiB to provoke goleveldb's journal skips.
   * @default 256 MiB
   */
  writeBufferBytes?: number
}

/** What {@link pruneHome} did. */
export interface PruneResult {
  /** Block store base before. */
  fromBase: number
  /** Block store base after (= untilHeight). */
  toBase: number
  /** Block store height (unchanged). */
  height: number
  /** Heights whose block was deleted (including leftovers below the old base; heights without a meta are skipped). */
  blocksPruned: number
  /** Heights with at least one state entry deleted. */
  statesPruned: number
  /**
   * On-disk bytes of blockstore.db + state.db: before opening, and after closing (after the flush, and after the
   * compaction when forced), i.e. what the node finds at its next start.
   */
  bytesBefore: number
  bytesAfter: number
  durationMs: number
  /** True when there was nothing to do (base already untilHeight, nothing left below it). */
  noop: boolean
  /** State heights below untilHeight that were kept because heights ≥ untilHeight still need them. */
  kept: { validators: number[]; consensusParams: number[] }
  /** The databases that were pruned. */
  dataDir: string
}

/** Heights per batch: fewer, larger batches cost less per height (bench/prune.bench.mjs). */
export const DEFAULT_PRUNE_BATCH_HEIGHTS = 10_000

const optionsSchema = z.object({
  home: z.string().min(1),
  untilHeight: z.number().int().refine(Number.isSafeInteger, 'must be a safe integer'),
  statePruning: z.boolean().optional(),
  forceCompact: z.boolean().optional(),
  batchSize: z.number().int().positive().max(1_000_000).optional(),
  writeBufferBytes: z
    .number()
    .int()
    .min(1 << 20)
    .max(1 << 30)
    .optional(),
})

/** Options of {@link pruneBlocks} and {@link pruneStates}. */
export interface PruneStepOptions {
  batchSize?: number
  onBatch?: (done: number, total: number) => void
}

/**
 * CometBFT `PruneBlocks(height)` on an open block store, by the mechanism of this module (scan, delete, flush into
 * tables). No locking: the caller owns the database. Returns the number of heights whose block was deleted.
 */
export async function pruneBlocks(
  blockDb: Db,
  height: number,
  options: PruneStepOptions = {},
): Promise<number> {
  const bs = await loadBlockStoreState(blockDb)
  checkPruneHeight(height, bs)
  const prunable = await findPrunableBlocks(blockDb, height)
  await deleteBlocks(blockDb, prunable, {
    base: bs.base,
    untilHeight: height,
    height: bs.height,
    batchSize: options.batchSize ?? DEFAULT_PRUNE_BATCH_HEIGHTS,
    onBatch: (done) => options.onBatch?.(done, prunable.heights.length),
  })
  await flushToTables(blockDb, blockDb.location)
  return prunable.heights.length
}

/**
 * The state entries below `untilHeight` except its keep sets, on an open state store (scan, delete, flush). Run it
 * only after the block store's base is `untilHeight` in a table (see the module comment). Returns the number of
 * heights with an entry deleted.
 */
export async function pruneStates(
  stateDb: Db,
  untilHeight: number,
  options: PruneStepOptions = {},
): Promise<number> {
  if (untilHeight <= 0) throw new PruneRefusedError(`height ${untilHeight} must be greater than 0`)
  const keep = await stateKeepSets(stateDb, untilHeight)
  const prunable = await findPrunableStates(stateDb, untilHeight, keep)
  await deleteStates(stateDb, prunable, {
    batchSize: options.batchSize ?? DEFAULT_PRUNE_BATCH_HEIGHTS,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
  })
  await flushToTables(stateDb, stateDb.location)
  return prunable.heightCount
}

async function holdLocks(locations: string[], holds: FlockHold[]): Promise<void> {
  for (const location of locations) {
    const lockPath = path.join(location, 'LOCK')
    const hold = await holdFlock(lockPath)
    if (hold === null) {
      throw new DatabaseLockedError(
        `${lockPath} is flock()ed by another process: stop the node before pruning`,
        location,
      )
    }
    holds.push(hold)
  }
}

/** An open database and whether it has writes that must be flushed into tables before it is closed. */
interface OpenDb {
  db: Db
  location: string
  unflushed: boolean
}

/**
 * Prunes a stopped node's block store and state store below `untilHeight` so that goleveldb sees the result, also
 * after an error or a SIGKILL at any point (see the module comment for what is deleted and why). Refuses —
 * changing nothing — bad options, a non-goleveldb backend, a missing or damaged store, a running node (either
 * lock), the v2 key layout and heights CometBFT would refuse.
 */
export async function pruneHome(options: PruneOptions): Promise<PruneResult> {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new PruneRefusedError(
      `invalid prune options: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
    )
  }
  const started = performance.now()
  const { untilHeight } = options
  const statePruning = options.statePruning ?? true
  const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH_HEIGHTS
  const dataDir = await resolveDataDir(options.home)
  const blockPath = path.join(dataDir, 'blockstore.db')
  const statePath = path.join(dataDir, 'state.db')
  // Everything decidable from the files alone, before C++ LevelDB touches them.
  await checkStoreFiles(blockPath)
  await checkStoreFiles(statePath)
  if (untilHeight <= 0) throw new PruneRefusedError('height must be greater than 0')

  const holds: FlockHold[] = []
  const opened: OpenDb[] = []
  const progress = (phase: PruneProgress['phase'], done: number, total: number) =>
    options.onProgress?.({ phase, done, total })
  try {
    // Where flock and fcntl locks are one (lockProbeFor), C++ LevelDB's own lock, taken by the open below, is what
    // excludes the node, and a flock held by the helper process would make that open fail.
    if (lockProbeFor(process.platform) !== 'flock') await holdLocks([blockPath, statePath], holds)
    await checkBeforeOpen(blockPath, statePath, untilHeight, statePruning)
    const bytesBefore = (await databaseBytes(blockPath)) + (await databaseBytes(statePath))
    const blocks: OpenDb = {
      db: await openForPrune(blockPath, options.writeBufferBytes),
      location: blockPath,
      unflushed: false,
    }
    opened.push(blocks)
    const states: OpenDb = {
      db: await openForPrune(statePath, options.writeBufferBytes),
      location: statePath,
      unflushed: false,
    }
    opened.push(states)
    await checkLayout(blocks.db, blockPath)
    await checkLayout(states.db, statePath)
    const bs = await loadBlockStoreState(blocks.db)
    checkPruneHeight(untilHeight, bs)

    // Read phase: everything that goes, before the first write (a damaged table met here changes nothing).
    const keep: StateKeepSets | null = statePruning ? await stateKeepSets(states.db, untilHeight) : null
    const prunableBlocks: PrunableBlocks = await findPrunableBlocks(blocks.db, untilHeight)
    // One scan after the other: scanning both databases at the same time measured slower (bench/prune.bench.mjs).
    const prunableStates: PrunableStates | null =
      keep === null ? null : await findPrunableStates(states.db, untilHeight, keep)

    const result: PruneResult = {
      fromBase: bs.base,
      toBase: untilHeight,
      height: bs.height,
      blocksPruned: prunableBlocks.heights.length,
      statesPruned: prunableStates?.heightCount ?? 0,
      bytesBefore,
      bytesAfter: bytesBefore,
      durationMs: 0,
      noop:
        bs.base === untilHeight &&
        prunableBlocks.heights.length === 0 &&
        (prunableStates === null || prunableStates.heightCount === 0),
      kept: {
        validators: [...(keep?.validators ?? [])].sort((a, b) => a - b),
        consensusParams: [...(keep?.consensusParams ?? [])].sort((a, b) => a - b),
      },
      dataDir,
    }

    // Blocks, then the block store in tables, then states (module comment, 3).
    const blockTotal = prunableBlocks.heights.length
    blocks.unflushed = true
    await deleteBlocks(blocks.db, prunableBlocks, {
      base: bs.base,
      untilHeight,
      height: bs.height,
      batchSize,
      onBatch: (done) => progress('blocks', done, blockTotal),
    })
    progress('flush', 0, 2)
    await flushToTables(blocks.db, blockPath)
    blocks.unflushed = false
    if (!options.forceCompact) {
      // Closed as soon as it is flushed: C++ LevelDB starts compacting a goleveldb-written store the moment it
      // opens it (its level sizes are 10× smaller than goleveldb's), and on a large store that work does not run
      // out; it costs CPU for as long as the database is open (bench/prune.bench.mjs).
      opened.splice(opened.indexOf(blocks), 1)
      await blocks.db.close()
    }
    if (prunableStates !== null) {
      states.unflushed = true
      await deleteStates(states.db, prunableStates, {
        batchSize,
        onBatch: (done, total) => progress('states', done, total),
      })
      progress('flush', 1, 2)
      await flushToTables(states.db, statePath)
      states.unflushed = false
    }
    progress('flush', 2, 2)
    if (options.forceCompact) {
      progress('compact', 0, 2)
      await compactAll(blocks.db)
      progress('compact', 1, 2)
      await compactAll(states.db)
      progress('compact', 2, 2)
    }
    while (opened.length > 0) await (opened.pop() as OpenDb).db.close()
    result.bytesAfter = (await databaseBytes(blockPath)) + (await databaseBytes(statePath))
    result.durationMs = performance.now() - started
    return result
  } finally {
    await closeAll(opened)
    for (const hold of holds) await hold.release()
  }
}

/**
 * Closes what is still open; on the error path, first flushes what was written into tables (best effort: if that
 * fails too, what is left in the log is still safe under goleveldb's replay, see the module comment).
 */
async function closeAll(opened: OpenDb[]): Promise<void> {
  while (opened.length > 0) {
    const o = opened.pop() as OpenDb
    if (o.unflushed) {
      await flushToTables(o.db, o.location).catch(() => undefined)
      o.unflushed = false
    }
    await o.db.close().catch(() => undefined)
  }
}

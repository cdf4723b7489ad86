import { stat } from 'node:fs/promises'
import path from 'node:path'
import { BLOCK_STORE_STATE_KEY, VERSION_KEY } from '../keys.js'
import { type BlockStoreState, decodeBlockStoreState } from '../state-messages.js'
import { LevelDbCorruptionError, UnsupportedLevelDbError } from './errors.js'
import { compareUserKeys, parseTrailer, seekKeyFor, TYPE_VALUE, userKeyOf } from './internal-key.js'
import { journalFiles, type MemEntry, replayJournals } from './journal-replay.js'
import { type ManifestState, readManifest, type TableFileMeta } from './manifest.js'
import { TableReader } from './table.js'

/*
 * A node's LevelDB database read without opening it with a LevelDB engine. Opening a goleveldb store with C++
 * LevelDB (classic-level) changes the node's files — it replays the journal into a new table, writes a new
 * MANIFEST and may start compactions — and its recovery rules differ from goleveldb's. This
 * reader only ever opens files for reading and answers what goleveldb will see when the node opens the store:
 * MANIFEST version, tables per level, and the journals replayed with goleveldb's sequence rule.
 *
 * It takes no lock. Reading a database a running node is writing can fail (a table deleted by a compaction)
 * or see an older state; callers that need a stable view hold the node's locks (see `holdFlock`).
 */

/** A point-lookup view of a LevelDB database as goleveldb will see it at its next open. */
export interface ReadOnlyStore {
  readonly dbDir: string
  /** The MANIFEST read and what it says (tables per level, log number, last sequence). */
  readonly manifest: ManifestState
  /** The journals replayed. */
  readonly journals: readonly string[]
  /** The last sequence number after the journal replay. */
  readonly lastSequence: bigint
  /** Records goleveldb would skip when it opens the database (journal errors, corrupt chunks, bad edits). */
  readonly skipped: readonly string[]
  /** The value of `key`, or undefined when it is absent or deleted. */
  get(key: Uint8Array | string): Promise<Buffer | undefined>
  /** Closes the table files opened so far. */
  close(): Promise<void>
}

function tableName(number: number, extension: 'ldb' | 'sst'): string {
  return `${String(number).padStart(6, '0')}.${extension}`
}

class LevelDbReadOnlyStore implements ReadOnlyStore {
  private readonly tables = new Map<number, Promise<TableReader>>()

  constructor(
    readonly dbDir: string,
    readonly manifest: ManifestState,
    readonly journals: readonly string[],
    readonly lastSequence: bigint,
    readonly skipped: readonly string[],
    private readonly memtable: Map<string, MemEntry>,
  ) {}

  private table(meta: TableFileMeta): Promise<TableReader> {
    let reader = this.tables.get(meta.number)
    if (reader === undefined) {
      reader = this.openTable(meta)
      // A failed open is not cached: the error is thrown to this caller, the next one tries again.
      reader.catch(() => this.tables.delete(meta.number))
      this.tables.set(meta.number, reader)
    }
    return reader
  }

  private async openTable(meta: TableFileMeta): Promise<TableReader> {
    for (const extension of ['ldb', 'sst'] as const) {
      const file = path.join(this.dbDir, tableName(meta.number, extension))
      try {
        return await TableReader.open(file, this.dbDir)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      }
    }
    throw new LevelDbCorruptionError(
      this.manifest.manifestFile,
      `level ${meta.level} names table ${tableName(meta.number, 'ldb')}, which does not exist (neither as .sst): ` +
        'the database is damaged, or a node is compacting it right now',
    )
  }

  /** Looks `userKey` up in one table: the newest version it holds, if any. */
  private async findIn(meta: TableFileMeta, userKey: Buffer, seek: Buffer) {
    const hit = await (await this.table(meta)).find(seek)
    if (hit === null || compareUserKeys(userKeyOf(hit.key), userKey) !== 0) return null
    const { sequence, type } = parseTrailer(hit.key)
    if (type > TYPE_VALUE)
      throw new LevelDbCorruptionError(
        path.join(this.dbDir, tableName(meta.number, 'ldb')),
        `bad key type ${type}`,
      )
    return { sequence, deleted: type !== TYPE_VALUE, value: hit.value }
  }

  async get(key: Uint8Array | string): Promise<Buffer | undefined> {
    const userKey = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key)
    const mem = this.memtable.get(userKey.toString('latin1'))
    if (mem !== undefined) return mem.deleted ? undefined : Buffer.from(mem.value)
    const seek = seekKeyFor(userKey)
    const inRange = (meta: TableFileMeta) =>
      compareUserKeys(userKey, userKeyOf(meta.smallest)) >= 0 &&
      compareUserKeys(userKey, userKeyOf(meta.largest)) <= 0
    for (const [level, tables] of this.manifest.levels.entries()) {
      if (level === 0) {
        // Level-0 tables overlap: the newest version (highest sequence) among all of them wins.
        let newest: { sequence: bigint; deleted: boolean; value: Buffer } | null = null
        for (const meta of tables) {
          if (!inRange(meta)) continue
          const found = await this.findIn(meta, userKey, seek)
          if (found !== null && (newest === null || found.sequence >= newest.sequence)) newest = found
        }
        if (newest !== null) return newest.deleted ? undefined : Buffer.from(newest.value)
        continue
      }
      // Deeper levels are sorted and disjoint: the one table whose range can hold the key.
      let lo = 0
      let hi = tables.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        const meta = tables[mid] as TableFileMeta
        if (compareUserKeys(userKeyOf(meta.largest), userKey) < 0) lo = mid + 1
        else hi = mid
      }
      const meta = tables[lo]
      if (meta === undefined || compareUserKeys(userKey, userKeyOf(meta.smallest)) < 0) continue
      const found = await this.findIn(meta, userKey, seek)
      if (found !== null) return found.deleted ? undefined : Buffer.from(found.value)
    }
    return undefined
  }

  async close(): Promise<void> {
    const readers = [...this.tables.values()]
    this.tables.clear()
    for (const reader of readers) {
      try {
        await (await reader).close()
      } catch {
        // A table that failed to open has nothing to close.
      }
    }
  }
}

/**
 * Opens the LevelDB database in `dbDir` for point lookups without a LevelDB engine: nothing in the directory is
 * written, renamed or locked.
 *
 * @throws {@link UnsupportedLevelDbError} no database there (no CURRENT), a missing MANIFEST, another comparator.
 * @throws {@link LevelDbCorruptionError} a MANIFEST that does not decode; tables are checked when read.
 */
export async function openReadOnlyStore(dbDir: string): Promise<ReadOnlyStore> {
  const dir = path.resolve(dbDir)
  const manifest = await readManifest(dir)
  const files = await journalFiles(dir, manifest.logNumber, manifest.prevLogNumber)
  const replay = await replayJournals(files, manifest.lastSequence)
  return new LevelDbReadOnlyStore(
    dir,
    manifest,
    files,
    replay.lastSequence,
    [...manifest.skipped, ...replay.skipped],
    replay.entries,
  )
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory()
  } catch {
    return false
  }
}

/**
 * The block store's `{base, height}` as the node will see it, read without opening the database. Accepts a data
 * directory (holding `blockstore.db`) or the `blockstore.db` directory itself. A store without the `blockStore`
 * key is empty ({0, 0}); a height with base 0 means base 1 (CometBFT's own rule).
 *
 * @throws {@link UnsupportedLevelDbError} the v2 (orderedcode) key layout or the pre-v0.34 JSON state.
 */
export async function readBlockStoreState(dataDirOrDbDir: string): Promise<BlockStoreState> {
  const nested = path.join(dataDirOrDbDir, 'blockstore.db')
  const dbDir = (await isDirectory(nested)) ? nested : dataDirOrDbDir
  const store = await openReadOnlyStore(dbDir)
  try {
    const version = await store.get(VERSION_KEY)
    if (version !== undefined && version.toString('latin1') !== 'v1') {
      throw new UnsupportedLevelDbError(
        store.dbDir,
        `${store.dbDir} uses CometBFT's ${JSON.stringify(version.toString('latin1'))} key layout; only the legacy ` +
          'v1 layout (CometBFT ≤ v0.38 and v1 by default) is supported',
      )
    }
    const raw = await store.get(BLOCK_STORE_STATE_KEY)
    if (raw === undefined || raw.length === 0) return { base: 0, height: 0 }
    if (raw[0] === 0x7b) {
      throw new UnsupportedLevelDbError(
        store.dbDir,
        `${store.dbDir}: the blockStore state is JSON (tendermint ≤ v0.33); this layout is not supported`,
      )
    }
    return decodeBlockStoreState(raw)
  } finally {
    await store.close()
  }
}

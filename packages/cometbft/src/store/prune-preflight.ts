/**
 * What the offline pruner decides before it opens a database with C++ LevelDB. Opening is not read-only: C++
 * LevelDB replays goleveldb's journal into a new table, writes a new MANIFEST and may start compactions. So every
 * refusal that can be decided from the files alone is decided here, and leaves every file byte-identical:
 * the node's config (`db_backend`, `db_dir`), a missing or damaged `CURRENT`/MANIFEST, table files whose footer is
 * damaged, and (in pruner.ts, with the lock helpers of lock.ts) a database the node holds. Then, with the
 * read-only reader (leveldb-read/, which reads the files as goleveldb will and writes nothing), the key layout,
 * the prune height against `blockStore` and the state entries at that height.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import { PruneRefusedError, StoreNotFoundError } from './errors.js'
import { BLOCK_STORE_STATE_KEY, consensusParamsKey, VERSION_KEY, validatorsKey } from './keys.js'
import {
  LevelDbCorruptionError,
  openReadOnlyStore,
  type ReadOnlyStore,
  UnsupportedLevelDbError,
} from './leveldb-read/index.js'
import { checkPruneHeight } from './prune-blocks.js'
import { type BlockStoreState, decodeBlockStoreState } from './state-messages.js'

const configSchema = z.looseObject({
  db_backend: z.string().optional(),
  db_dir: z.string().min(1).optional(),
})

/**
 * The data directory of a node home: `db_dir` of `config/config.toml` (relative to home unless absolute; default
 * `data`). Refuses a `db_backend` other than goleveldb.
 */
export async function resolveDataDir(home: string): Promise<string> {
  const configPath = path.join(home, 'config', 'config.toml')
  let text: string
  try {
    text = await readFile(configPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path.join(home, 'data')
    throw new PruneRefusedError(`cannot read ${configPath}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = parseToml(text)
  } catch (error) {
    throw new PruneRefusedError(`${configPath} is not valid TOML: ${(error as Error).message}`)
  }
  const result = configSchema.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new PruneRefusedError(
      `${configPath}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
    )
  }
  const backend = result.data.db_backend ?? 'goleveldb'
  if (backend !== 'goleveldb') {
    throw new PruneRefusedError(
      `${configPath}: db_backend = "${backend}"; only goleveldb databases can be pruned offline by ghostfleet`,
    )
  }
  const dbDir = result.data.db_dir ?? 'data'
  return path.isAbsolute(dbDir) ? dbDir : path.join(home, dbDir)
}

/** Total size in bytes of the files directly inside `dir` (LevelDB directories are flat). */
export async function databaseBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    try {
      total += (await stat(path.join(dir, entry.name))).size
    } catch {
      // A file removed by compaction between readdir and stat.
    }
  }
  return total
}

const TABLE_FOOTER_BYTES = 48
/** kTableMagicNumber 0xdb4775248b80fb57, little-endian (table/format.h; goleveldb table/table.go). */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb])
const BLOCK_TRAILER_BYTES = 5
const TABLE_FILE = /^\d+\.(ldb|sst)$/

function readVarint(buf: Buffer, offset: number): { value: number; next: number } | null {
  let value = 0
  let shift = 0
  for (let i = offset; i < buf.length && shift < 63; i++) {
    const b = buf[i] as number
    value += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) return Number.isSafeInteger(value) ? { value, next: i + 1 } : null
    shift += 7
  }
  return null
}

/**
 * Why a table file cannot be a LevelDB table, or null: the 48-byte footer must end with the magic number and hold
 * two block handles (metaindex, index) that lie inside the file. Data blocks are not read here (a 6 GB store would
 * take seconds); a damaged data block in the ranges the pruner scans is reported by C++ LevelDB during the read
 * phase, before the first write. Synchronous: a million-block store has thousands of tables, and four thread
 * hand-offs per table (open, stat, read, close) took seconds on a busy machine, against milliseconds this way.
 */
function tableFooterProblem(file: string): string | null {
  const fd = openSync(file, 'r')
  try {
    const { size } = fstatSync(fd)
    if (size < TABLE_FOOTER_BYTES) return `${size} bytes, shorter than a table footer`
    const footer = Buffer.alloc(TABLE_FOOTER_BYTES)
    readSync(fd, footer, 0, TABLE_FOOTER_BYTES, size - TABLE_FOOTER_BYTES)
    if (!footer.subarray(40).equals(TABLE_MAGIC)) return 'bad table magic number (not a complete table)'
    let offset = 0
    for (const name of ['metaindex', 'index']) {
      const blockOffset = readVarint(footer, offset)
      const blockSize = blockOffset && readVarint(footer, blockOffset.next)
      if (!blockOffset || !blockSize) return `unreadable ${name} block handle`
      if (blockOffset.value + blockSize.value + BLOCK_TRAILER_BYTES > size - TABLE_FOOTER_BYTES) {
        return `${name} block handle points outside the file`
      }
      offset = blockSize.next
    }
    return null
  } finally {
    closeSync(fd)
  }
}

/**
 * Refuses a database directory the pruner must not open: no `CURRENT` (StoreNotFoundError), a `CURRENT` that does
 * not name an existing, non-empty MANIFEST, or a table file that is not a complete table. Reads only.
 */
export async function checkStoreFiles(location: string): Promise<void> {
  let current: string
  try {
    current = await readFile(path.join(location, 'CURRENT'), 'latin1')
  } catch {
    throw new StoreNotFoundError(`no LevelDB database at ${location} (CURRENT missing)`, location)
  }
  const manifest = /^(MANIFEST-\d+)\n?$/.exec(current)?.[1]
  if (manifest === undefined) {
    throw new PruneRefusedError(
      `${path.join(location, 'CURRENT')} does not name a MANIFEST (${JSON.stringify(current.slice(0, 40))}): ` +
        'the database is damaged; restore it from a backup or a snapshot',
    )
  }
  const manifestStat = await stat(path.join(location, manifest)).catch(() => null)
  if (manifestStat === null || manifestStat.size === 0) {
    throw new PruneRefusedError(
      `${path.join(location, manifest)} (named by CURRENT) is ${manifestStat === null ? 'missing' : 'empty'}: ` +
        'the database is damaged; restore it from a backup or a snapshot',
    )
  }
  for (const name of (await readdir(location)).sort()) {
    if (!TABLE_FILE.test(name)) continue
    const problem = tableFooterProblem(path.join(location, name))
    if (problem !== null) {
      throw new PruneRefusedError(
        `${path.join(location, name)} is not a valid LevelDB table (${problem}): the database is damaged; ` +
          'restore it from a backup or a snapshot',
      )
    }
  }
}

/** Why a `version` value cannot be pruned, or null (absent or "v1"). */
export function layoutProblem(location: string, version: Buffer | undefined): string | null {
  if (version === undefined) return null
  const text = version.toString('latin1')
  if (text === 'v1') return null
  if (text === 'v2') {
    return `${location} uses CometBFT's "v2" (orderedcode) key layout; only the legacy "v1" layout can be pruned`
  }
  return `${location} has an unknown key layout version ${JSON.stringify(text)}`
}

async function withReadOnly<T>(location: string, read: (store: ReadOnlyStore) => Promise<T>): Promise<T> {
  let store: ReadOnlyStore
  try {
    store = await openReadOnlyStore(location)
  } catch (error) {
    throw readRefusal(location, error)
  }
  try {
    return await read(store)
  } catch (error) {
    throw readRefusal(location, error)
  } finally {
    await store.close()
  }
}

function readRefusal(location: string, error: unknown): unknown {
  if (error instanceof LevelDbCorruptionError || error instanceof UnsupportedLevelDbError) {
    return new PruneRefusedError(
      `cannot read ${location}: ${error.message}; the database is damaged or not a goleveldb store`,
    )
  }
  return error
}

/**
 * The refusals that need the store's contents, decided without opening it with a LevelDB engine (so every file
 * stays byte-identical), on what goleveldb will see: the v2 key layout (either database), the JSON `blockStore` of
 * tendermint ≤ v0.33, a height CometBFT's `PruneBlocks` refuses, and, with state pruning, a height whose
 * `validatorsKey:`/`consensusParamsKey:` entries are missing. pruner.ts checks the same again after opening (C++
 * LevelDB may see batches goleveldb skips), before the first write.
 */
export async function checkBeforeOpen(
  blockPath: string,
  statePath: string,
  untilHeight: number,
  statePruning: boolean,
): Promise<BlockStoreState> {
  const bs = await withReadOnly(blockPath, async (store) => {
    const problem = layoutProblem(blockPath, await store.get(VERSION_KEY))
    if (problem !== null) throw new PruneRefusedError(problem)
    const raw = await store.get(BLOCK_STORE_STATE_KEY)
    if (raw === undefined || raw.length === 0) return { base: 0, height: 0 }
    if (raw[0] === 0x7b) {
      throw new PruneRefusedError(
        'the blockStore state is JSON (tendermint ≤ v0.33); this layout is not supported',
      )
    }
    return decodeBlockStoreState(raw)
  })
  checkPruneHeight(untilHeight, bs)
  await withReadOnly(statePath, async (store) => {
    const problem = layoutProblem(statePath, await store.get(VERSION_KEY))
    if (problem !== null) throw new PruneRefusedError(problem)
    if (!statePruning) return
    if ((await store.get(validatorsKey(untilHeight))) === undefined) {
      throw new PruneRefusedError(`validators at height ${untilHeight} not found`)
    }
    if ((await store.get(consensusParamsKey(untilHeight))) === undefined) {
      throw new PruneRefusedError(`consensus params at height ${untilHeight} not found`)
    }
  })
  return bs
}

import { link, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  type FlockHold,
  LevelDbCorruptionError,
  LockCheckError,
  pathExists,
  readBlockStoreState,
  readManifest,
  readNodeConfig,
  UnsupportedLevelDbError,
} from '@ghostfleet/cometbft'
import { partialName, sweepDeadPartials } from '../storage/backup-partials.js'
import { holdNodeDatabases, releaseHolds } from '../storage/database-holds.js'
import {
  describeLocked,
  findLockedDatabases,
  LockCheckUnavailableError,
  type LockedDatabase,
  locksOnFile,
  NODE_DATABASES,
  parseProcLocks,
} from '../storage/database-locks.js'
import { copyDurably, errnoCode, fsyncPath } from './durable-fs.js'
import { CheckpointRefusedError } from './errors.js'
import { fileAction, NODE_LOCAL_TOP_LEVEL } from './file-rules.js'
import {
  CHECKPOINT_DATA_DIR,
  checkpointId,
  TAKE_RECORD_FILE,
  type TakeRecord,
  takeRecordSchema,
} from './layout.js'
import { nodePrivateFiles, relativeInside } from './node-private-files.js'

/*
 * Taking a checkpoint of a stopped node's data directory. This is the part of a donation during which the node
 * is down, so it only links and copies: table files are hard-linked (no bytes move), the small mutable files are
 * copied. Hashing every byte for the manifest happens afterwards, in `sealCheckpoint`, while the node serves again.
 *
 * Safety:
 * - a node that holds its databases is refused (with its pid); for the whole take the LOCK files are flock()ed, so
 *   goleveldb (the node) cannot open them half-way; a C++ LevelDB process (fcntl locks, which flock does not
 *   exclude) found afterwards voids the checkpoint;
 * - the node's files are only read: links add a name to a table's inode (its link count and ctime change, never
 *   its bytes or mtime); nothing is written in the data directory (the checkpoints directory may not be inside it);
 * - the checkpoint is built under a `.partial-*` name, fsynced, and renamed into place; a crash leaves only a
 *   partial, which the next take sweeps once its writer is gone.
 */

export interface TakeCheckpointOptions {
  /** The node's home (config/config.toml says where its data directory is). */
  home: string
  /** Where checkpoints live: on the data directory's filesystem (hard links), outside the data directory. */
  checkpointsDir: string
  /** For tests and callers that number checkpoints themselves. @default new Date() */
  now?: Date
}

export interface TakeCheckpointResult {
  id: string
  /** The checkpoint's directory (`<checkpointsDir>/<id>`). */
  dir: string
  blockStore: { base: number; height: number }
  linkedFiles: number
  linkedBytes: number
  copiedFiles: number
  copiedBytes: number
  /** Paths (relative to the data directory) left out: keys, node-local files, LevelDB's LOCK and LOG files. */
  excluded: string[]
  /** From the lock check to the rename: what the node's downtime adds to its stop and start. */
  durationMs: number
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

async function lockedDatabases(dataDir: string): Promise<LockedDatabase[]> {
  try {
    return await findLockedDatabases(dataDir)
  } catch (error) {
    // Without /proc/locks only the flocks held below exclude the node (goleveldb, every real node).
    if (error instanceof LockCheckUnavailableError) return []
    throw error
  }
}

const IN_USE =
  'A checkpoint of a running node is not a consistent copy; stop the node (the sidecar stops it for a donation) first.'

/**
 * The node databases a C++ LevelDB process (fcntl lock) holds, as `db (pid n)`. Our own flocks are not looked at,
 * so no process table scan is needed to tell them from a node's (what findLockedDatabases does to name holders).
 */
async function fcntlLockedDatabases(dataDir: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile('/proc/locks', 'utf8')
  } catch {
    return []
  }
  const posix = parseProcLocks(text).filter((lock) => lock.kind !== 'flock')
  const found: string[] = []
  if (posix.length === 0) return found
  for (const db of NODE_DATABASES) {
    const lockFile = path.join(dataDir, db, 'LOCK')
    const identity = await stat(lockFile, { bigint: true }).catch(() => null)
    if (identity === null) continue
    const held = await locksOnFile(posix, lockFile, identity)
    if (held.length > 0) found.push(`${db} (pid ${held.map((lock) => lock.pid).join(', ')})`)
  }
  return found
}

/** flock()s the node's databases for the take, so the node cannot open them half-way. */
async function holdDatabases(dataDir: string): Promise<FlockHold[]> {
  try {
    return await holdNodeDatabases(
      dataDir,
      (db) =>
        new CheckpointRefusedError(`refused: ${db} in ${dataDir} is locked by another process. ${IN_USE}`),
    )
  } catch (error) {
    if (error instanceof LockCheckError) throw new CheckpointRefusedError(error.message)
    throw error
  }
}

/** The table numbers the MANIFEST of the database in `dbDir` lists (see fileAction for why only those are linked). */
async function liveTables(dbDir: string): Promise<Set<number>> {
  try {
    const manifest = await readManifest(dbDir)
    return new Set(manifest.levels.flat().map((table) => table.number))
  } catch (error) {
    if (error instanceof UnsupportedLevelDbError || error instanceof LevelDbCorruptionError) {
      throw new CheckpointRefusedError(
        `cannot read which tables of ${dbDir} are live (${error.message}): a checkpoint links only the tables ` +
          "LevelDB's MANIFEST lists, because a node may rewrite an unlisted table file in place",
      )
    }
    throw error
  }
}

interface Tally {
  linkedFiles: number
  linkedBytes: number
  copiedFiles: number
  copiedBytes: number
  excluded: string[]
}

/** Mirrors `from` into `to` (which exists) by the rules of file-rules.ts; `prefix` is `from` relative to the data dir. */
async function mirror(
  from: string,
  to: string,
  prefix: string,
  extraExcluded: ReadonlySet<string>,
  tally: Tally,
): Promise<void> {
  const entries = await readdir(from, { withFileTypes: true })
  const inDatabase = entries.some((entry) => entry.name === 'CURRENT' && entry.isFile())
  const live = inDatabase ? await liveTables(from) : null
  for (const entry of entries) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) {
      if (prefix === '' && NODE_LOCAL_TOP_LEVEL.has(entry.name)) {
        tally.excluded.push(`${relative}/`)
        continue
      }
      await mkdir(target)
      await mirror(source, target, relative, extraExcluded, tally)
      await fsyncPath(target)
      continue
    }
    if (!entry.isFile()) {
      throw new CheckpointRefusedError(
        `${source} is ${entry.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: a checkpoint takes ` +
          'regular files only (a link would leave the filesystem, or share a file the node rewrites); move the ' +
          'data it points to into the data directory',
      )
    }
    const action = fileAction(relative, live, extraExcluded)
    if (action === 'exclude') {
      tally.excluded.push(relative)
      continue
    }
    const bytes = (await lstat(source)).size
    if (action === 'link') {
      await link(source, target)
      tally.linkedFiles++
      tally.linkedBytes += bytes
    } else {
      await copyDurably(source, target)
      tally.copiedFiles++
      tally.copiedBytes += bytes
    }
  }
}

/**
 * Takes a checkpoint of the stopped node in `home` into `<checkpointsDir>/<id>/`.
 *
 * @throws {@link CheckpointRefusedError} the node (or another process) holds its databases, the checkpoints
 * directory is on another filesystem or inside the data directory, the backend is not goleveldb, the block store
 * is empty or unreadable, or the data directory holds a symbolic link. Nothing is left behind.
 */
export async function takeCheckpoint(options: TakeCheckpointOptions): Promise<TakeCheckpointResult> {
  const started = Date.now()
  const home = path.resolve(options.home)
  const config = await readNodeConfig(home)
  const dataDir = config.dbPath
  if (config.dbBackend !== 'goleveldb') {
    throw new CheckpointRefusedError(
      `db_backend = "${config.dbBackend}" in ${config.file}: checkpoints read the block store's heights from ` +
        'goleveldb databases only',
    )
  }
  const dataInfo = await stat(dataDir).catch(() => null)
  if (dataInfo === null || !dataInfo.isDirectory())
    throw new CheckpointRefusedError(`${dataDir} (db_dir of ${config.file}) is not a directory`)
  const checkpointsDir = path.resolve(options.checkpointsDir)
  if (isInside(checkpointsDir, dataDir) || isInside(dataDir, checkpointsDir)) {
    throw new CheckpointRefusedError(
      `the checkpoints directory ${checkpointsDir} and the data directory ${dataDir} must not contain each other`,
    )
  }
  await mkdir(checkpointsDir, { recursive: true })
  const dirInfo = await stat(checkpointsDir)
  if (dirInfo.dev !== dataInfo.dev) {
    throw new CheckpointRefusedError(
      `the checkpoints directory ${checkpointsDir} is on another filesystem than ${dataDir}: table files are ` +
        'hard-linked, which only works within one filesystem; choose a directory on the same disk',
    )
  }
  const extraExcluded = new Set<string>()
  for (const file of Object.values(await nodePrivateFiles(home))) {
    const relative = relativeInside(file, dataDir)
    if (relative !== null) extraExcluded.add(relative)
  }

  const locked = await lockedDatabases(dataDir)
  if (locked.length > 0)
    throw new CheckpointRefusedError(
      `refused: the node's databases are in use: ${describeLocked(locked)}. ${IN_USE}`,
    )
  const holds = await holdDatabases(dataDir)
  try {
    let blockStore: { base: number; height: number }
    try {
      blockStore = await readBlockStoreState(dataDir)
    } catch (error) {
      if (error instanceof UnsupportedLevelDbError || error instanceof LevelDbCorruptionError)
        throw new CheckpointRefusedError(`cannot read the block store in ${dataDir}: ${error.message}`)
      throw error
    }
    if (blockStore.height === 0)
      throw new CheckpointRefusedError(`the block store in ${dataDir} is empty: there is nothing to donate`)

    await sweepDeadPartials(checkpointsDir, await readdir(checkpointsDir))
    const at = options.now ?? new Date()
    const id = checkpointId(blockStore.height, at)
    const final = path.join(checkpointsDir, id)
    if (await pathExists(final)) throw new CheckpointRefusedError(`a checkpoint ${final} exists already`)
    const temp = path.join(checkpointsDir, await partialName(id))
    const tally: Tally = { linkedFiles: 0, linkedBytes: 0, copiedFiles: 0, copiedBytes: 0, excluded: [] }
    try {
      await mkdir(temp)
      const data = path.join(temp, CHECKPOINT_DATA_DIR)
      await mkdir(data)
      await mirror(dataDir, data, '', extraExcluded, tally)
      await fsyncPath(data)
      const record: TakeRecord = takeRecordSchema.parse({
        format: 'ghostfleet-checkpoint-take',
        version: 1,
        id,
        takenAt: at.toISOString(),
        sourceDataDir: dataDir,
        blockStore,
      })
      const recordFile = path.join(temp, TAKE_RECORD_FILE)
      await writeFile(recordFile, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' })
      await fsyncPath(recordFile)
      await fsyncPath(temp)
      // A C++ LevelDB process (fcntl lock, not excluded by our flocks) may have opened a database meanwhile.
      const foreign = await fcntlLockedDatabases(dataDir)
      if (foreign.length > 0) {
        throw new CheckpointRefusedError(
          `the checkpoint was discarded: the node's databases were opened during it: ${foreign.join(', ')}. ${IN_USE}`,
        )
      }
      await rename(temp, final)
      await fsyncPath(checkpointsDir)
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      if (errnoCode(error) === 'ENOSPC') {
        throw new CheckpointRefusedError(
          `no space left on the filesystem of ${checkpointsDir} for the checkpoint's copied files ` +
            `(${tally.copiedBytes} bytes copied when it ran out); free space and try again. The node's files are unchanged.`,
        )
      }
      throw error
    }
    return { id, dir: final, blockStore, ...tally, durationMs: Date.now() - started }
  } finally {
    await releaseHolds(holds)
  }
}

import { spawn } from 'node:child_process'
import { cp, mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  type BlockStoreState,
  decodeState,
  type FlockHold,
  LevelDbCorruptionError,
  LockCheckError,
  openReadOnlyStore,
  readBlockStoreState,
  readNodeConfig,
  STATE_KEY,
  UnsupportedLevelDbError,
} from '@ghostfleet/cometbft'
import { parentPid } from '../supervisor/process-inspect.js'
import { SIDECAR_VERSION } from '../version.js'
import {
  BACKUP_MANIFEST_NAME,
  type BackupManifest,
  companionManifestPath,
  ownBackupManifest,
  writeBackupManifest,
} from './backup-manifest.js'
import { partialName, sweepDeadPartials } from './backup-partials.js'
import { holdNodeDatabases, releaseHolds } from './database-holds.js'
import {
  describeLocked,
  findLockedDatabases,
  LockCheckUnavailableError,
  type LockedDatabase,
} from './database-locks.js'
import { directoryBytes } from './directory-size.js'

/*
 * Backups of a stopped node's data directory, named by its block-store height as supervysor names them
 * (`<height>/data/`, `<height>.tar.gz`, `<height>.zip`), so existing supervysor backup directories keep working.
 *
 * Beyond supervysor:
 * - a node that holds its databases is refused (with its pid): a copy of a live LevelDB is not a backup (its
 *   files change under the copy). The databases' LOCK files are then flock()ed for the whole copy — goleveldb, the
 *   node's engine, cannot open a database whose LOCK another process flocks, so the node cannot start mid-copy.
 *   C++ LevelDB uses fcntl locks, which flock does not exclude, so the check runs again after the copy and such a
 *   process started meanwhile voids the copy;
 * - the height that names the backup is read without opening the databases (`readBlockStoreState`, a read-only
 *   LevelDB reader): opening a goleveldb store with C++ LevelDB would rewrite the node's files;
 * - the backup is written under a temporary name and renamed when complete, so a crash never leaves a
 *   truncated archive that looks like a backup; the next run deletes only the leftovers of processes that are
 *   gone (backup-partials.ts);
 * - every backup carries a manifest (backup-manifest.ts), and retention deletes only backups with a manifest:
 *   other numerically named entries (supervysor's backups, an operator's copies) are left alone and listed;
 * - retention orders backups by height as a number (supervysor sorted names as strings: "999" after "1000",
 *   so it deleted the newest backups first).
 */

export const COMPRESSIONS = ['none', 'tar.gz', 'zip'] as const
export type Compression = (typeof COMPRESSIONS)[number]

const EXTENSIONS: Record<Compression, string> = { none: '', 'tar.gz': '.tar.gz', zip: '.zip' }

/** Something makes a backup impossible or unsafe; nothing was written. */
export class BackupRefusedError extends Error {
  override readonly name = 'BackupRefusedError'
}

/** `tar` or `zip` is not installed. */
export class BackupToolMissingError extends Error {
  override readonly name = 'BackupToolMissingError'
}

/** A backup's name as this command writes it: the height and the compression. */
export function parseBackupName(name: string): { height: bigint; compression: Compression } | null {
  const match = /^(0|[1-9][0-9]*)(\.tar\.gz|\.zip)?$/.exec(name)
  if (match === null) return null
  const compression: Compression = match[2] === '.tar.gz' ? 'tar.gz' : match[2] === '.zip' ? 'zip' : 'none'
  return { height: BigInt(match[1] as string), compression }
}

/** Backups among `names`, highest height first; names that are not backups are left out. */
function byHeightDescending(names: readonly string[]): string[] {
  return names
    .flatMap((name) => {
      const parsed = parseBackupName(name)
      return parsed === null ? [] : [{ name, height: parsed.height }]
    })
    .sort((a, b) => (a.height < b.height ? 1 : a.height > b.height ? -1 : a.name.localeCompare(b.name)))
    .map((entry) => entry.name)
}

/**
 * The backups to delete so that `maxBackups` remain, by height as a number, lowest first. Names that are not
 * backups are never touched. `maxBackups` 0 keeps everything. The caller passes only backups Ghostfleet made.
 */
export function backupsToDelete(names: readonly string[], maxBackups: number): string[] {
  if (maxBackups <= 0) return []
  return byHeightDescending(names).slice(maxBackups).reverse()
}

export interface BackupOptions {
  home: string
  destDir: string
  compression: Compression
  /** Keep this many backups (by height); 0 keeps all. */
  maxBackups: number
}

export interface BackupResult {
  /** `created`, or `exists` when a backup of this height is already there (nothing written). */
  status: 'created' | 'exists'
  path: string
  height: number
  bytes: number
  durationMs: number
  /** Backups removed by retention. */
  removed: string[]
  /** Numerically named entries in the destination without a Ghostfleet manifest: never deleted. */
  notOurs: string[]
  /** Leftovers of backups whose writer is gone, deleted before this one was written. */
  sweptPartials: string[]
}

/**
 * The node databases locked right now. Without /proc/locks (macOS) only what `holdFlock` sees remains: goleveldb
 * (every real node) is excluded by the flock held for the whole copy, and on macOS and the BSDs that flock
 * conflicts with fcntl locks too.
 */
async function lockedNodeDatabases(dataDir: string): Promise<LockedDatabase[]> {
  try {
    return await findLockedDatabases(dataDir)
  } catch (error) {
    if (error instanceof LockCheckUnavailableError) return []
    throw error
  }
}

async function refuseIfLocked(dataDir: string, when: string): Promise<void> {
  const locked = await lockedNodeDatabases(dataDir)
  if (locked.length === 0) return
  throw new BackupRefusedError(
    `${when} the node's databases are in use: ${describeLocked(locked)}. A copy of a running node's LevelDB ` +
      'is not a backup; stop the node (or the sidecar) first.',
  )
}

/** The block store's base and height as the node will see them, read without opening the database. */
async function blockStoreState(dataDir: string): Promise<BlockStoreState> {
  try {
    return await readBlockStoreState(dataDir)
  } catch (error) {
    if (error instanceof UnsupportedLevelDbError || error instanceof LevelDbCorruptionError)
      throw new BackupRefusedError(`cannot read the block store in ${dataDir}: ${error.message}`)
    throw error
  }
}

/** The chain id recorded in the state store, or null when it cannot be read (it only labels the manifest). */
async function chainIdOf(dataDir: string): Promise<string | null> {
  try {
    const store = await openReadOnlyStore(path.join(dataDir, 'state.db'))
    try {
      const raw = await store.get(STATE_KEY)
      return raw === undefined ? null : decodeState(raw).chainId || null
    } finally {
      await store.close()
    }
  } catch {
    return null
  }
}

/** Whether `pid` is this process or one of its descendants (e.g. the `flock` helper holding our lock). */
async function isOurs(pid: number): Promise<boolean> {
  let current: number | null = pid
  for (let depth = 0; current !== null && current > 1 && depth < 64; depth++) {
    if (current === process.pid) return true
    current = await parentPid(current)
  }
  return false
}

/** The databases locked by a process other than this one and its lock helpers. */
async function lockedByOthers(dataDir: string): Promise<LockedDatabase[]> {
  const foreign: LockedDatabase[] = []
  for (const entry of await lockedNodeDatabases(dataDir)) {
    const others: number[] = []
    for (const pid of entry.holders) if (!(await isOurs(pid))) others.push(pid)
    // An invisible holder of a flock cannot be another process: we hold that flock ourselves.
    if (others.length > 0 || (entry.holders.length === 0 && entry.kind !== 'flock'))
      foreign.push({ ...entry, holders: others })
  }
  return foreign
}

/**
 * flock()s the LOCK file of every node database in `dataDir`, so that goleveldb (the node) cannot open any of
 * them until released. Refuses, naming the holder, when one is held already.
 */
async function holdDatabasesForCopy(dataDir: string): Promise<FlockHold[]> {
  try {
    return await holdNodeDatabases(dataDir, async (db) => {
      const locked = await lockedByOthers(dataDir)
      return new BackupRefusedError(
        `refused: the node's databases are in use: ${locked.length > 0 ? describeLocked(locked) : `${db} (flock held)`}. ` +
          "A copy of a running node's LevelDB is not a backup; stop the node (or the sidecar) first.",
      )
    })
  } catch (error) {
    if (error instanceof LockCheckError) throw new BackupRefusedError(error.message)
    throw error
  }
}

/** Every file under `dir` with its size, paths relative to `dir`, sorted. */
async function listFiles(dir: string, prefix = ''): Promise<Array<{ path: string; bytes: number }>> {
  const out: Array<{ path: string; bytes: number }> = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(full, relative)))
    else if (entry.isFile()) out.push({ path: relative, bytes: (await stat(full)).size })
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function run(command: string, args: string[], cwd: string, missing: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000)
    })
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new BackupToolMissingError(missing) : error),
    )
    child.once('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${command} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`))
    })
  })
}

async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function sizeOf(file: string): Promise<number> {
  const info = await stat(file)
  return info.isDirectory() ? await directoryBytes(file) : info.size
}

/** Writes the archive or directory copy of `dataDir` (with the manifest inside) to `temp`. */
async function writeCopy(
  dataDir: string,
  temp: string,
  compression: Compression,
  manifest: BackupManifest,
): Promise<void> {
  const parent = path.dirname(dataDir)
  const base = path.basename(dataDir)
  if (compression === 'none') {
    await mkdir(temp)
    await cp(dataDir, path.join(temp, 'data'), {
      recursive: true,
      errorOnExist: true,
      preserveTimestamps: true,
    })
    await writeBackupManifest(path.join(temp, BACKUP_MANIFEST_NAME), manifest)
    return
  }
  // The manifest goes into the archive beside the data directory; it is staged outside the destination.
  const staging = await mkdtemp(path.join(os.tmpdir(), 'ghostfleet-backup-'))
  try {
    await writeBackupManifest(path.join(staging, BACKUP_MANIFEST_NAME), manifest)
    if (compression === 'tar.gz') {
      await run(
        'tar',
        ['-czf', temp, '-C', parent, base, '-C', staging, BACKUP_MANIFEST_NAME],
        parent,
        'tar is not installed (apt-get install tar)',
      )
    } else {
      const missing = 'zip is not installed: install it (apt-get install zip) or use --compression tar.gz'
      await run('zip', ['-r', '-q', temp, base], parent, missing)
      await run('zip', ['-q', '-j', temp, path.join(staging, BACKUP_MANIFEST_NAME)], parent, missing)
    }
    await fsyncPath(temp)
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/**
 * Retention: keeps the `maxBackups` highest backups Ghostfleet made (the new one always), deletes the rest.
 * Numerically named entries without a Ghostfleet manifest are never deleted; they are returned as `notOurs`.
 */
async function applyRetention(
  destDir: string,
  keep: string,
  maxBackups: number,
): Promise<{ removed: string[]; notOurs: string[] }> {
  const ours: string[] = []
  const notOurs: string[] = []
  for (const entry of await readdir(destDir)) {
    if (entry === keep) continue
    const parsed = parseBackupName(entry)
    if (parsed === null) continue
    if ((await ownBackupManifest(destDir, entry, parsed.height, parsed.compression)) !== null)
      ours.push(entry)
    else notOurs.push(entry)
  }
  const removed =
    maxBackups > 0
      ? byHeightDescending(ours)
          .slice(maxBackups - 1)
          .reverse()
      : []
  for (const old of removed) {
    const entry = path.join(destDir, old)
    await rm(entry, { recursive: true, force: true })
    await rm(companionManifestPath(entry), { force: true })
  }
  return { removed, notOurs: byHeightDescending(notOurs).reverse() }
}

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const started = Date.now()
  const home = path.resolve(options.home)
  const nodeConfig = await readNodeConfig(home)
  const dataDir = nodeConfig.dbPath
  if (nodeConfig.dbBackend !== 'goleveldb') {
    throw new BackupRefusedError(
      `db_backend = "${nodeConfig.dbBackend}" in ${home}/config/config.toml: backups are named by the block ` +
        "height, which ghostfleet reads only from goleveldb databases; copy the stopped node's data directory " +
        'with your own tools',
    )
  }
  const destDir = path.resolve(options.destDir)
  if (destDir === dataDir || destDir.startsWith(`${dataDir}${path.sep}`)) {
    throw new BackupRefusedError(`the destination ${destDir} is inside the data directory ${dataDir}`)
  }
  await refuseIfLocked(dataDir, 'refused:')
  // From here until the copy is complete, the node cannot open its databases.
  const holds = await holdDatabasesForCopy(dataDir)
  let name: string
  let final: string
  let state: BlockStoreState
  let sweptPartials: string[]
  try {
    state = await blockStoreState(dataDir)
    if (state.height === 0)
      throw new BackupRefusedError(`the block store in ${dataDir} is empty: nothing to back up`)
    await mkdir(destDir, { recursive: true })
    sweptPartials = await sweepDeadPartials(destDir, await readdir(destDir))
    name = `${state.height}${EXTENSIONS[options.compression]}`
    final = path.join(destDir, name)
    if ((await stat(final).catch(() => null)) !== null) {
      return {
        status: 'exists',
        path: final,
        height: state.height,
        bytes: await sizeOf(final),
        durationMs: Date.now() - started,
        removed: [],
        notOurs: [],
        sweptPartials,
      }
    }
    const manifest: BackupManifest = {
      format: 'ghostfleet-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      createdBy: `ghostfleet-sidecar ${SIDECAR_VERSION}`,
      chainId: await chainIdOf(dataDir),
      blockStore: { base: state.base, height: state.height },
      compression: options.compression,
      source: dataDir,
      archiveBytes: null,
      files: await listFiles(dataDir),
    }
    const temp = path.join(destDir, await partialName(name))
    const tempCompanion = `${temp}.${BACKUP_MANIFEST_NAME}`
    try {
      await writeCopy(dataDir, temp, options.compression, manifest)
      // A C++ LevelDB process (fcntl lock, which our flock does not exclude) may have opened the databases while
      // we copied: then the copy is of a live database and worthless.
      const locked = await lockedByOthers(dataDir)
      if (locked.length > 0) {
        throw new BackupRefusedError(
          `the backup was discarded: the node's databases are in use: ${describeLocked(locked)}. A copy of a ` +
            "running node's LevelDB is not a backup; stop the node (or the sidecar) first.",
        )
      }
      if (options.compression !== 'none') {
        await writeBackupManifest(tempCompanion, { ...manifest, archiveBytes: (await stat(temp)).size })
        await fsyncPath(tempCompanion)
      }
      await rename(temp, final)
      // Without its companion an archive is "not ours" (kept forever), never the other way round.
      if (options.compression !== 'none') await rename(tempCompanion, companionManifestPath(final))
      await fsyncPath(destDir)
    } catch (error) {
      await rm(temp, { recursive: true, force: true })
      await rm(tempCompanion, { force: true })
      throw error
    }
  } finally {
    await releaseHolds(holds)
  }

  const { removed, notOurs } = await applyRetention(destDir, name, options.maxBackups)
  return {
    status: 'created',
    path: final,
    height: state.height,
    bytes: await sizeOf(final),
    durationMs: Date.now() - started,
    removed,
    notOurs,
    sweptPartials,
  }
}

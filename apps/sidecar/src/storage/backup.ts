import { spawn } from 'node:child_process'
import { cp, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { ChainStore, readNodeConfig } from '@ghostfleet/cometbft'
import {
  describeLocked,
  findLockedDatabases,
  LockCheckUnavailableError,
  type LockedDatabase,
} from './database-locks.js'
import { directoryBytes } from './directory-size.js'
import { lockedPrunedDatabases } from './offline-prune.js'

/*
 * Backups of a stopped node's data directory, named by its block-store height as supervysor names them
 * (`<height>/data/`, `<height>.tar.gz`, `<height>.zip`), so existing supervysor backup directories keep working.
 *
 * Beyond supervysor:
 * - a node that holds its databases is refused: a copy of a live LevelDB is not a backup (its files change
 *   under the copy); the check runs again after the copy, and a node started meanwhile voids the copy;
 * - the backup is written under a temporary name and renamed when complete, so a crash never leaves a
 *   truncated archive that looks like a backup (leftovers are swept by the next run);
 * - retention orders backups by height as a number (supervysor sorted names as strings: "999" after "1000",
 *   so it deleted the newest backups first).
 */

export const COMPRESSIONS = ['none', 'tar.gz', 'zip'] as const
export type Compression = (typeof COMPRESSIONS)[number]

const EXTENSIONS: Record<Compression, string> = { none: '', 'tar.gz': '.tar.gz', zip: '.zip' }
const TEMP_PREFIX = '.partial-'

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
 * backups are never touched. `maxBackups` 0 keeps everything.
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
}

async function lockedNodeDatabases(dataDir: string): Promise<LockedDatabase[]> {
  try {
    return await findLockedDatabases(dataDir)
  } catch (error) {
    if (error instanceof LockCheckUnavailableError) return await lockedPrunedDatabases(dataDir)
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

/** The block-store height, read with the store opened read-only. */
async function blockStoreHeight(dataDir: string): Promise<number> {
  let store: ChainStore
  try {
    store = await ChainStore.open(dataDir, { readOnly: true })
  } catch (error) {
    throw new BackupRefusedError(`cannot read the block store in ${dataDir}: ${(error as Error).message}`)
  }
  try {
    return store.height()
  } finally {
    await store.close()
  }
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

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const started = Date.now()
  const home = path.resolve(options.home)
  const dataDir = (await readNodeConfig(home)).dbPath
  await refuseIfLocked(dataDir, 'refused:')
  const height = await blockStoreHeight(dataDir)
  if (height === 0) throw new BackupRefusedError(`the block store in ${dataDir} is empty: nothing to back up`)

  const destDir = path.resolve(options.destDir)
  if (destDir === dataDir || destDir.startsWith(`${dataDir}${path.sep}`)) {
    throw new BackupRefusedError(`the destination ${destDir} is inside the data directory ${dataDir}`)
  }
  await mkdir(destDir, { recursive: true })
  for (const entry of await readdir(destDir)) {
    if (entry.startsWith(TEMP_PREFIX)) await rm(path.join(destDir, entry), { recursive: true, force: true })
  }
  const name = `${height}${EXTENSIONS[options.compression]}`
  const final = path.join(destDir, name)
  const existing = await stat(final).catch(() => null)
  if (existing !== null) {
    return {
      status: 'exists',
      path: final,
      height,
      bytes: await sizeOf(final),
      durationMs: Date.now() - started,
      removed: [],
    }
  }

  const temp = path.join(destDir, `${TEMP_PREFIX}${process.pid}-${name}`)
  const parent = path.dirname(dataDir)
  const base = path.basename(dataDir)
  try {
    if (options.compression === 'none') {
      await mkdir(temp)
      await cp(dataDir, path.join(temp, 'data'), {
        recursive: true,
        errorOnExist: true,
        preserveTimestamps: true,
      })
    } else if (options.compression === 'tar.gz') {
      await run(
        'tar',
        ['-czf', temp, '-C', parent, base],
        parent,
        'tar is not installed (apt-get install tar)',
      )
      await fsyncPath(temp)
    } else {
      await run(
        'zip',
        ['-r', '-q', temp, base],
        parent,
        'zip is not installed: install it (apt-get install zip) or use --compression tar.gz',
      )
      await fsyncPath(temp)
    }
    // The node may have been started while we copied: then the copy is of a live database and worthless.
    await refuseIfLocked(dataDir, 'the backup was discarded:')
    await rename(temp, final)
    await fsyncPath(destDir)
  } catch (error) {
    await rm(temp, { recursive: true, force: true })
    throw error
  }

  // The backup just written is always kept (even if older backups have higher heights, e.g. after a resync).
  const others = (await readdir(destDir)).filter((entry) => entry !== name)
  const removed =
    options.maxBackups > 0
      ? byHeightDescending(others)
          .slice(options.maxBackups - 1)
          .reverse()
      : []
  for (const old of removed) await rm(path.join(destDir, old), { recursive: true, force: true })
  return {
    status: 'created',
    path: final,
    height,
    bytes: await sizeOf(final),
    durationMs: Date.now() - started,
    removed,
  }
}

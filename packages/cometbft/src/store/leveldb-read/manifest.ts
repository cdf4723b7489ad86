import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { readBigVarint, readVarint } from './coding.js'
import { LevelDbCorruptionError, UnsupportedLevelDbError } from './errors.js'
import { compareInternalKeys, TRAILER_BYTES } from './internal-key.js'
import { readLogRecords } from './log-records.js'

/*
 * CURRENT → MANIFEST → the live version: which table files make up each level, the journal the MANIFEST says is
 * live, and the last sequence number. Follows goleveldb (session.recover, storage.GetMeta, versionStaging):
 * - CURRENT candidates in goleveldb's order: `CURRENT.<n>` (pending renames, highest first), `CURRENT`,
 *   `CURRENT.bak`; one that is malformed or names a missing MANIFEST is skipped;
 * - version edits (tags 1-7 and 9 of LevelDB's VersionEdit) accumulate, the last value of each field wins;
 *   a record goleveldb cannot decode is skipped as it would skip it, and reported;
 * - any number of levels (goleveldb grows levels dynamically; C++ LevelDB stops at 7).
 */

export const BYTEWISE_COMPARATOR = 'leveldb.BytewiseComparator'

const TAG_COMPARATOR = 1
const TAG_LOG_NUMBER = 2
const TAG_NEXT_FILE = 3
const TAG_LAST_SEQUENCE = 4
const TAG_COMPACT_POINTER = 5
const TAG_DELETED_FILE = 6
const TAG_NEW_FILE = 7
const TAG_PREV_LOG_NUMBER = 9

/** A live table file of the version. */
export interface TableFileMeta {
  level: number
  /** File number: `<number>.ldb` (or the older `.sst`). */
  number: number
  /** Size in bytes as the MANIFEST records it. */
  size: number
  /** Smallest and largest internal keys in the file. */
  smallest: Buffer
  largest: Buffer
}

/** What a MANIFEST says about the database. */
export interface ManifestState {
  /** Absolute path of the MANIFEST that was read. */
  manifestFile: string
  comparator: string
  logNumber: number
  prevLogNumber: number
  nextFileNumber: number
  lastSequence: bigint
  /** Live tables per level; index = level. Level 0 is in file-number order, deeper levels by smallest key. */
  levels: TableFileMeta[][]
  /** Version-edit records goleveldb would skip (it logs them as "manifest error … (skipped)"). */
  skipped: string[]
}

function manifestName(number: number): string {
  return `MANIFEST-${String(number).padStart(6, '0')}`
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/** The MANIFEST goleveldb would open, following its CURRENT fallbacks. */
export async function findManifest(dbDir: string): Promise<string> {
  let names: string[]
  try {
    names = await readdir(dbDir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new UnsupportedLevelDbError(
        dbDir,
        `${dbDir} is not a LevelDB database: the directory does not exist`,
      )
    throw error
  }
  const pending = names
    .flatMap((name) => {
      const match = /^CURRENT\.([0-9]+)$/.exec(name)
      return match === null ? [] : [{ name, n: BigInt(match[1] as string) }]
    })
    .sort((a, b) => (a.n < b.n ? 1 : a.n > b.n ? -1 : 0))
    .map((entry) => entry.name)

  const problems: string[] = []
  const tryCurrents = async (candidates: string[]): Promise<{ name: string; manifest: number } | null> => {
    for (const name of candidates) {
      let text: string
      try {
        text = await readFile(path.join(dbDir, name), 'latin1')
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw error
      }
      const match = /^MANIFEST-([0-9]+)\n$/.exec(text)
      if (match === null) {
        problems.push(`${name} is malformed (${JSON.stringify(text.slice(0, 80))})`)
        continue
      }
      const manifest = Number(match[1])
      if (!(await isFile(path.join(dbDir, manifestName(manifest))))) {
        problems.push(`${name} names ${manifestName(manifest)}, which does not exist`)
        continue
      }
      return { name, manifest }
    }
    return null
  }
  const pendingCurrent = pending.length > 0 ? await tryCurrents(pending) : null
  let current = await tryCurrents(['CURRENT', 'CURRENT.bak'])
  // A pending rename wins unless it is older than CURRENT (goleveldb storage.GetMeta).
  if (pendingCurrent !== null && (current === null || pendingCurrent.manifest > current.manifest))
    current = pendingCurrent
  if (current !== null) return path.join(dbDir, manifestName(current.manifest))

  const hasCurrent = names.some((name) => name === 'CURRENT' || name.startsWith('CURRENT.'))
  if (!hasCurrent) {
    const looksLikeLevelDb = names.some((name) => /^(MANIFEST-[0-9]+|[0-9]+\.(ldb|sst|log))$/.test(name))
    throw new UnsupportedLevelDbError(
      dbDir,
      looksLikeLevelDb
        ? `${dbDir}: the CURRENT file is missing, so the live MANIFEST is unknown (LevelDB files are present: the ` +
            'database is damaged; restore it from a backup or resync the node)'
        : `${dbDir} is not a LevelDB database (no CURRENT file)`,
    )
  }
  throw new UnsupportedLevelDbError(
    dbDir,
    `${dbDir}: no usable MANIFEST: ${problems.join('; ')} (the database is damaged; restore it from a backup or ` +
      'resync the node)',
  )
}

class RecordCursor {
  private offset = 0
  constructor(
    private readonly data: Buffer,
    private readonly file: string,
  ) {}

  done(): boolean {
    return this.offset >= this.data.length
  }

  private fail(field: string): never {
    throw new LevelDbCorruptionError(this.file, `version edit: ${field}: short read or overflow`)
  }

  uint(field: string): number {
    const v = readVarint(this.data, this.offset)
    if (v === null) this.fail(field)
    this.offset += v.length
    return v.value
  }

  bigUint(field: string): bigint {
    const v = readBigVarint(this.data, this.offset)
    if (v === null) this.fail(field)
    this.offset += v.length
    return v.value
  }

  bytes(field: string): Buffer {
    const length = this.uint(field)
    if (this.offset + length > this.data.length) this.fail(field)
    const out = this.data.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }
}

interface VersionEdit {
  comparator?: string
  logNumber?: number
  prevLogNumber?: number
  nextFileNumber?: number
  lastSequence?: bigint
  deleted: Array<{ level: number; number: number }>
  added: TableFileMeta[]
}

/** Decodes one version edit into `edit` (fields decoded before an error stay set, as in goleveldb). */
function decodeVersionEdit(record: Buffer, file: string, edit: VersionEdit): void {
  const cursor = new RecordCursor(record, file)
  while (!cursor.done()) {
    const tag = cursor.uint('field-header')
    switch (tag) {
      case TAG_COMPARATOR:
        edit.comparator = cursor.bytes('comparator').toString('latin1')
        break
      case TAG_LOG_NUMBER:
        edit.logNumber = cursor.uint('journal-num')
        break
      case TAG_PREV_LOG_NUMBER:
        edit.prevLogNumber = cursor.uint('prev-journal-num')
        break
      case TAG_NEXT_FILE:
        edit.nextFileNumber = cursor.uint('next-file-num')
        break
      case TAG_LAST_SEQUENCE:
        edit.lastSequence = cursor.bigUint('seq-num')
        break
      case TAG_COMPACT_POINTER:
        cursor.uint('comp-ptr.level')
        cursor.bytes('comp-ptr.ikey')
        break
      case TAG_DELETED_FILE:
        edit.deleted.push({ level: cursor.uint('del-table.level'), number: cursor.uint('del-table.num') })
        break
      case TAG_NEW_FILE: {
        const level = cursor.uint('add-table.level')
        const number = cursor.uint('add-table.num')
        const size = cursor.uint('add-table.size')
        const smallest = cursor.bytes('add-table.imin')
        const largest = cursor.bytes('add-table.imax')
        if (smallest.length < TRAILER_BYTES || largest.length < TRAILER_BYTES)
          throw new LevelDbCorruptionError(
            file,
            `version edit: table ${number} has a key shorter than 8 bytes`,
          )
        edit.added.push({ level, number, size, smallest, largest })
        break
      }
      default:
        // goleveldb ignores an unknown tag and misreads what follows; treating the record as corrupt (and
        // skipping it) is the closest outcome that does not invent table files.
        throw new LevelDbCorruptionError(file, `version edit: unknown tag ${tag}`)
    }
  }
}

/** Reads the MANIFEST goleveldb would use and replays its version edits into the live version. */
export async function readManifest(dbDir: string): Promise<ManifestState> {
  const manifestFile = await findManifest(dbDir)
  const data = await readFile(manifestFile)
  const skipped: string[] = []
  const records = readLogRecords(data, (reason) => skipped.push(`${path.basename(manifestFile)}: ${reason}`))
  const fields: Omit<VersionEdit, 'deleted' | 'added'> = {}
  const levels = new Map<number, Map<number, TableFileMeta>>()
  const levelOf = (level: number) => {
    let tables = levels.get(level)
    if (tables === undefined) {
      tables = new Map()
      levels.set(level, tables)
    }
    return tables
  }
  for (const record of records) {
    const edit: VersionEdit = { deleted: [], added: [] }
    let complete = true
    try {
      decodeVersionEdit(record, manifestFile, edit)
    } catch (error) {
      if (!(error instanceof LevelDbCorruptionError)) throw error
      skipped.push(error.message)
      complete = false
    }
    // goleveldb keeps the scalar fields of a record it could only partly decode, and drops its table changes.
    if (edit.comparator !== undefined) fields.comparator = edit.comparator
    if (edit.logNumber !== undefined) fields.logNumber = edit.logNumber
    if (edit.prevLogNumber !== undefined) fields.prevLogNumber = edit.prevLogNumber
    if (edit.nextFileNumber !== undefined) fields.nextFileNumber = edit.nextFileNumber
    if (edit.lastSequence !== undefined) fields.lastSequence = edit.lastSequence
    if (!complete) continue
    for (const d of edit.deleted) levels.get(d.level)?.delete(d.number)
    for (const a of edit.added) levelOf(a.level).set(a.number, a)
  }
  const missing = (field: string) =>
    new LevelDbCorruptionError(manifestFile, `the MANIFEST never records the ${field}`)
  if (fields.comparator === undefined) throw missing('comparator')
  if (fields.comparator !== BYTEWISE_COMPARATOR) {
    throw new UnsupportedLevelDbError(
      dbDir,
      `${dbDir} uses the comparator ${JSON.stringify(fields.comparator)}; only ${BYTEWISE_COMPARATOR} (what ` +
        'CometBFT uses) can be read',
    )
  }
  if (fields.nextFileNumber === undefined) throw missing('next file number')
  if (fields.logNumber === undefined) throw missing('journal (log) number')
  if (fields.lastSequence === undefined) throw missing('last sequence number')

  const maxLevel = levels.size === 0 ? -1 : Math.max(...levels.keys())
  const ordered: TableFileMeta[][] = []
  for (let level = 0; level <= maxLevel; level++) {
    const tables = [...(levels.get(level)?.values() ?? [])]
    if (level === 0) tables.sort((a, b) => a.number - b.number)
    else tables.sort((a, b) => compareInternalKeys(a.smallest, b.smallest) || a.number - b.number)
    ordered.push(tables)
  }
  return {
    manifestFile,
    comparator: fields.comparator,
    logNumber: fields.logNumber,
    prevLogNumber: fields.prevLogNumber ?? 0,
    nextFileNumber: fields.nextFileNumber,
    lastSequence: fields.lastSequence,
    levels: ordered,
    skipped,
  }
}

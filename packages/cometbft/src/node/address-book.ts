import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { errorCode, removeFileDurably, removeStaleTempFiles, writeFileAtomic } from './atomic-file.js'
import { readNodeConfig } from './config-toml.js'
import { AddressBookError } from './errors.js'

/*
 * Stash and restore of the node's address book around ghost mode: the stashed book always wins on the
 * way back to normal mode, and it is never deleted before it has been restored.
 *
 * A node started without its address book writes a fresh, near-empty one within two minutes and on shutdown.
 * KYVE's supervysor then found that file on the way back and deleted the
 * good stashed copy. Here the rules are:
 *
 * 1. The stash always wins. Once a stash is recorded (its manifest written, which happens before the live book
 *    is removed), the live book is treated as ghost-written: entering ghost mode again never copies it over
 *    the stash, and returning to normal mode overwrites it with the stash. A stash file without a manifest is
 *    an interrupted stash whose live book was never removed, so that live book is still the node's own.
 * 2. A copy is deleted only after the other copy is durable and verified: the live book only after the stash
 *    and its manifest are on disk (stash), the stash only after the live book was rewritten and re-read
 *    (restore). A SIGKILL between any two steps leaves the stash or the restored book, never neither.
 * 3. The manifest (`addrbook.stash.json`) records what was stashed: the sha256 and address count of the stash,
 *    or that the node had no address book at all (then restore does not invent one). Its `phase` says
 *    whether a restore has already put the book back, so a crash during the restore's cleanup cannot make a
 *    later stash keep an outdated copy over the live, authoritative book.
 * 4. Anything unexpected (an unparsable book, a stash that does not match its manifest, a manifest whose stash
 *    is gone) is an AddressBookError and nothing is changed: an operator has to look.
 *
 * Both operations must run while the node is stopped (the node rewrites its book every two minutes).
 */

const netAddressSchema = z.object({
  id: z.string('expected a node ID string'),
  ip: z.string('expected an IP address string'),
  port: z
    .int('expected an integer port')
    .min(0, 'expected a port >= 0')
    .max(65_535, 'expected a port <= 65535'),
})

const knownAddressSchema = z.object({
  addr: netAddressSchema,
  src: netAddressSchema,
  // Go renders a nil slice as null.
  buckets: z.array(z.int('expected integer bucket numbers'), 'expected an array').nullable().optional(),
  attempts: z.int('expected an integer'),
  bucket_type: z
    .int('expected 1 (new) or 2 (old)')
    .min(1, 'expected 1 (new) or 2 (old)')
    .max(2, 'expected 1 or 2'),
  last_attempt: z.string('expected a timestamp string'),
  last_success: z.string('expected a timestamp string'),
  // Added in Tendermint v0.34; absent in books written by older nodes.
  last_ban_time: z.string('expected a timestamp string').optional(),
})

/**
 * CometBFT's `config/addrbook.json` (p2p/pex/file.go `addrBookJSON`, written with encoding/json: numbers are
 * numbers). Unknown fields are accepted; `addrs: null` (a nil slice) reads as an empty list.
 */
export const addressBookSchema = z.object({
  key: z.string('expected the book key (a hex string)'),
  addrs: z
    .array(knownAddressSchema, 'expected an array of known addresses')
    .nullable()
    .transform((addrs) => addrs ?? []),
})

/** A parsed address book. */
export type AddressBook = z.output<typeof addressBookSchema>

/** An address book file as read from disk. */
export interface AddressBookFile {
  /** Absolute path of the file. */
  path: string
  book: AddressBook
  /** Number of known addresses. */
  addrCount: number
  /** sha256 of the file's bytes (lowercase hex). */
  sha256: string
  /** The file's exact bytes (restores write these back, never a re-serialisation). */
  bytes: Buffer
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid'
  const where = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}: `
  return `${where}${issue.message}`
}

/**
 * Reads and validates an address book. Returns `undefined` when the file does not exist (CometBFT treats a
 * missing book as an empty one).
 *
 * @throws {@link AddressBookError} when the file is unreadable, not JSON or not an address book.
 */
export async function readAddressBook(file: string): Promise<AddressBookFile | undefined> {
  const absolute = path.resolve(file)
  let bytes: Buffer
  try {
    bytes = await readFile(absolute)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw new AddressBookError(absolute, `cannot read (${errorCode(error) ?? String(error)})`, {
      cause: error,
    })
  }
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch (error) {
    throw new AddressBookError(absolute, 'not valid JSON, so not an address book', { cause: error })
  }
  const parsed = addressBookSchema.safeParse(json)
  if (!parsed.success) {
    throw new AddressBookError(absolute, `not a CometBFT address book: ${issueText(parsed.error)}`)
  }
  return {
    path: absolute,
    book: parsed.data,
    addrCount: parsed.data.addrs.length,
    sha256: sha256Hex(bytes),
    bytes,
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/

const manifestSchema = z
  .object({
    version: z.literal(1, 'expected manifest version 1'),
    phase: z.enum(['stashed', 'restored'], 'expected "stashed" or "restored"'),
    hadAddressBook: z.boolean('expected true or false'),
    sha256: z.string().regex(SHA256_HEX, 'expected a sha256 hex digest').optional(),
    addrCount: z.int().min(0).optional(),
    source: z.string('expected the live address book path'),
    stashedAt: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp' }),
    restoredAt: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp' }).optional(),
  })
  .refine(
    (m) => !m.hadAddressBook || (m.sha256 !== undefined && m.addrCount !== undefined),
    'a stashed address book needs sha256 and addrCount',
  )

/** The stash manifest written beside the stashed book. */
export type AddressBookStashManifest = z.output<typeof manifestSchema>

/** File names inside the stash directory. */
export const ADDRESS_BOOK_STASH_FILE = 'addrbook.json'
export const ADDRESS_BOOK_MANIFEST_FILE = 'addrbook.stash.json'

/** The durable steps of stash and restore, in order; {@link AddressBookOptions.afterStep} sees each. */
export type AddressBookStep =
  | 'previous-restore-cleaned'
  | 'stash-written'
  | 'manifest-written'
  | 'live-removed'
  | 'live-written'
  | 'manifest-marked-restored'
  | 'stash-removed'
  | 'manifest-removed'

/** Options for {@link stashAddressBook} and {@link restoreAddressBook}. */
export interface AddressBookOptions {
  /**
   * The live address book. Default: `[p2p] addr_book_file` of `<home>/config/config.toml`, relative to home.
   */
  addrBookPath?: string
  /** Clock for the manifest timestamps. @default () => new Date() */
  now?: () => Date
  /**
   * Called after each durable step. A test seam: throwing here stops the operation exactly as a SIGKILL at
   * that point would (no cleanup runs), which is how the crash tests walk every crash point.
   */
  afterStep?: (step: AddressBookStep) => void | Promise<void>
}

/** What {@link stashAddressBook} did. */
export interface StashResult {
  /**
   * - `stashed`: the live book was copied to the stash and removed.
   * - `already-stashed`: a stash existed and was kept (the stash wins); any live, ghost-written book was removed.
   * - `no-address-book`: the node had no address book; that fact was recorded so restore will not invent one.
   */
  status: 'stashed' | 'already-stashed' | 'no-address-book'
  /** Absolute path of the live address book. */
  liveFile: string
  /** Absolute path of the stashed copy. */
  stashFile: string
  /** Whether a live book was removed by this call. */
  removedLiveBook: boolean
  manifest: AddressBookStashManifest
}

/** What {@link restoreAddressBook} did. */
export interface RestoreResult {
  /**
   * - `restored`: the stash was written over the live book (replacing whatever the ghost node wrote),
   *   verified, and the stash removed.
   * - `restored-absent`: the node had no address book before ghost mode; the ghost-written book (if any) was
   *   removed and none was created.
   * - `already-restored`: the live book was already in place (an earlier restore put it back, or a stash was
   *   interrupted before it removed it); the leftovers were cleaned up.
   * - `no-stash`: nothing was stashed; nothing was changed.
   */
  status: 'restored' | 'restored-absent' | 'already-restored' | 'no-stash'
  liveFile: string
  stashFile: string
  /** Whether a live (ghost-written) book existed and was replaced or removed. */
  replacedLiveBook: boolean
  /** Addresses in the restored book (0 unless `restored`). */
  addrCount: number
}

interface Paths {
  live: string
  stash: string
  manifest: string
}

async function resolvePaths(home: string, stashDir: string, options: AddressBookOptions): Promise<Paths> {
  const live = path.resolve(options.addrBookPath ?? (await readNodeConfig(home)).p2p.addrBookPath)
  const dir = path.resolve(stashDir)
  const stash = path.join(dir, ADDRESS_BOOK_STASH_FILE)
  if (stash === live) {
    throw new AddressBookError(live, 'the stash directory must not be the directory of the live address book')
  }
  return { live, stash, manifest: path.join(dir, ADDRESS_BOOK_MANIFEST_FILE) }
}

async function readManifest(file: string): Promise<AddressBookStashManifest | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw new AddressBookError(
      file,
      `cannot read the stash manifest (${errorCode(error) ?? String(error)})`,
      {
        cause: error,
      },
    )
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new AddressBookError(file, 'the stash manifest is not valid JSON; inspect the stash by hand', {
      cause: error,
    })
  }
  const parsed = manifestSchema.safeParse(json)
  if (!parsed.success) {
    throw new AddressBookError(
      file,
      `invalid stash manifest: ${issueText(parsed.error)}; inspect the stash by hand`,
    )
  }
  return parsed.data
}

async function writeManifest(file: string, manifest: AddressBookStashManifest): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(manifest, null, 2)}\n`)
}

function manifestFor(stash: AddressBookFile, source: string, now: Date): AddressBookStashManifest {
  return {
    version: 1,
    phase: 'stashed',
    hadAddressBook: true,
    sha256: stash.sha256,
    addrCount: stash.addrCount,
    source,
    stashedAt: now.toISOString(),
  }
}

/** Checks that the stash on disk is the one the manifest describes. */
function checkStashMatches(
  paths: Paths,
  manifest: AddressBookStashManifest,
  stash: AddressBookFile | undefined,
) {
  if (!manifest.hadAddressBook) {
    if (stash !== undefined) {
      throw new AddressBookError(
        paths.stash,
        `the manifest ${paths.manifest} records that the node had no address book, yet a stash exists; ` +
          'inspect both by hand',
      )
    }
    return
  }
  if (stash === undefined) {
    throw new AddressBookError(
      paths.stash,
      `the manifest ${paths.manifest} records a stashed address book (${manifest.addrCount} addresses), but the ` +
        'stash file is missing; nothing was changed',
    )
  }
  if (stash.sha256 !== manifest.sha256) {
    throw new AddressBookError(
      paths.stash,
      `the stash does not match its manifest (sha256 ${stash.sha256}, manifest says ${manifest.sha256}); ` +
        'nothing was changed',
    )
  }
}

/**
 * Reads the live book. When a fallback copy exists, an unreadable live book counts as absent (the copy is
 * used instead); otherwise it is an error, because stashing it would lose nothing but restoring it later
 * would hand the node a file it panics on.
 */
async function readLiveIfValid(file: string, haveFallback: boolean): Promise<AddressBookFile | undefined> {
  try {
    return await readAddressBook(file)
  } catch (error) {
    if (haveFallback && error instanceof AddressBookError) return undefined
    throw error
  }
}

async function sweep(paths: Paths): Promise<void> {
  await removeStaleTempFiles(paths.live)
  await removeStaleTempFiles(paths.stash)
  await removeStaleTempFiles(paths.manifest)
}

/**
 * Stashes the node's address book before ghost mode: copies it to `<stashDir>/addrbook.json` (atomic, fsynced),
 * verifies the copy, records a manifest (`addrbook.stash.json`: sha256, address count, stashedAt) and only
 * then removes the live book. Idempotent and crash-safe; an existing stash is never overwritten (the stash
 * wins). Run it while the node is stopped.
 *
 * @throws {@link AddressBookError} when the live book or the stash is not a valid address book, or the stash
 * does not match its manifest; nothing is changed then.
 * @throws {@link NodeConfigError} when the address book path has to come from an invalid config.toml.
 */
export async function stashAddressBook(
  home: string,
  stashDir: string,
  options: AddressBookOptions = {},
): Promise<StashResult> {
  const now = options.now ?? (() => new Date())
  const step = async (name: AddressBookStep) => await options.afterStep?.(name)
  const paths = await resolvePaths(home, stashDir, options)
  await mkdir(path.dirname(paths.stash), { recursive: true })
  await sweep(paths)

  let manifest = await readManifest(paths.manifest)
  if (manifest?.phase === 'restored') {
    // A restore put the book back and crashed before cleaning up: the live book is authoritative again, the
    // leftover stash is outdated. Finish that cleanup, then stash the live book afresh.
    await removeFileDurably(paths.stash)
    await removeFileDurably(paths.manifest)
    await step('previous-restore-cleaned')
    manifest = undefined
  }
  const stash = await readAddressBook(paths.stash)

  if (manifest !== undefined) {
    checkStashMatches(paths, manifest, stash)
    // The stash wins: a live book now is the ghost node's (or the same book, if we crashed before removing it).
    const removedLiveBook = await removeFileDurably(paths.live)
    if (removedLiveBook) await step('live-removed')
    return {
      status: 'already-stashed',
      liveFile: paths.live,
      stashFile: paths.stash,
      removedLiveBook,
      manifest,
    }
  }

  // Without a manifest, a stash file is the copy of a stash that crashed before writing the manifest, so the
  // live book was never removed and no ghost node can have written it: it is still the authoritative book
  // (possibly newer, if the node ran on in normal mode). Stash it afresh; only if it is gone or unreadable,
  // finish from the complete copy (it appeared by rename).
  const live = await readLiveIfValid(paths.live, stash !== undefined)
  if (live === undefined && stash !== undefined) {
    manifest = manifestFor(stash, paths.live, now())
    await writeManifest(paths.manifest, manifest)
    await step('manifest-written')
    const removedLiveBook = await removeFileDurably(paths.live)
    if (removedLiveBook) await step('live-removed')
    return { status: 'stashed', liveFile: paths.live, stashFile: paths.stash, removedLiveBook, manifest }
  }

  if (live === undefined) {
    manifest = {
      version: 1,
      phase: 'stashed',
      hadAddressBook: false,
      source: paths.live,
      stashedAt: now().toISOString(),
    }
    await writeManifest(paths.manifest, manifest)
    await step('manifest-written')
    return {
      status: 'no-address-book',
      liveFile: paths.live,
      stashFile: paths.stash,
      removedLiveBook: false,
      manifest,
    }
  }

  await writeFileAtomic(paths.stash, live.bytes)
  await step('stash-written')
  const copy = await readAddressBook(paths.stash)
  if (copy === undefined || copy.sha256 !== live.sha256) {
    throw new AddressBookError(
      paths.stash,
      'the stashed copy does not read back identical; the live book was kept',
    )
  }
  manifest = manifestFor(copy, paths.live, now())
  await writeManifest(paths.manifest, manifest)
  await step('manifest-written')
  const removedLiveBook = await removeFileDurably(paths.live)
  if (removedLiveBook) await step('live-removed')
  return { status: 'stashed', liveFile: paths.live, stashFile: paths.stash, removedLiveBook, manifest }
}

/**
 * Restores the stashed address book when returning to normal mode: writes the stash over whatever the ghost
 * node wrote (atomic, fsynced), re-reads and verifies it, and only then removes the stash and its manifest.
 * Idempotent and crash-safe. When the node had no address book before ghost mode, the ghost-written one is
 * removed and none is created. With nothing stashed it changes nothing and reports `no-stash`. Run it while
 * the node is stopped.
 *
 * @throws {@link AddressBookError} when the stash is missing although the manifest records one, does not
 * match the manifest, or is not a valid address book; nothing is changed then.
 */
export async function restoreAddressBook(
  home: string,
  stashDir: string,
  options: AddressBookOptions = {},
): Promise<RestoreResult> {
  const now = options.now ?? (() => new Date())
  const step = async (name: AddressBookStep) => await options.afterStep?.(name)
  const paths = await resolvePaths(home, stashDir, options)
  await sweep(paths)

  const manifest = await readManifest(paths.manifest)
  const base = { liveFile: paths.live, stashFile: paths.stash }

  if (manifest?.phase === 'restored') {
    // The book was already put back and verified; only the cleanup was interrupted.
    await removeFileDurably(paths.stash)
    await step('stash-removed')
    await removeFileDurably(paths.manifest)
    await step('manifest-removed')
    return { ...base, status: 'already-restored', replacedLiveBook: false, addrCount: 0 }
  }

  const stash = await readAddressBook(paths.stash)
  if (manifest === undefined && stash === undefined) {
    return { ...base, status: 'no-stash', replacedLiveBook: false, addrCount: 0 }
  }

  if (manifest === undefined) {
    // A stash that crashed before its manifest never removed the live book, which is therefore still the
    // node's own (see stashAddressBook): keep it and drop the incomplete stash. Only if it is gone or
    // unreadable does the complete copy replace it.
    const current = await readLiveIfValid(paths.live, true)
    if (current !== undefined) {
      await removeFileDurably(paths.stash)
      await step('stash-removed')
      return { ...base, status: 'already-restored', replacedLiveBook: false, addrCount: current.addrCount }
    }
  } else {
    checkStashMatches(paths, manifest, stash)
  }

  if (manifest !== undefined && !manifest.hadAddressBook) {
    // Before ghost mode the node had no book: the one there now is the ghost node's, so it goes too.
    const replacedLiveBook = await removeFileDurably(paths.live)
    if (replacedLiveBook) await step('live-removed')
    await removeFileDurably(paths.manifest)
    await step('manifest-removed')
    return { ...base, status: 'restored-absent', replacedLiveBook, addrCount: 0 }
  }

  // Here the stash exists and matches its manifest (or, without one, the live book is unusable).
  const source = stash as AddressBookFile
  let replacedLiveBook = false
  try {
    replacedLiveBook = (await readAddressBook(paths.live)) !== undefined
  } catch {
    // An unparsable live book is the ghost node's problem file; it is exactly what gets overwritten.
    replacedLiveBook = true
  }
  await mkdir(path.dirname(paths.live), { recursive: true })
  await writeFileAtomic(paths.live, source.bytes, { mode: 0o644 })
  await step('live-written')
  const written = await readAddressBook(paths.live)
  if (written === undefined || written.sha256 !== source.sha256) {
    throw new AddressBookError(
      paths.live,
      'the restored book does not read back identical; the stash was kept',
    )
  }
  const restoredManifest: AddressBookStashManifest = {
    ...(manifest ?? manifestFor(source, paths.live, now())),
    phase: 'restored',
    restoredAt: now().toISOString(),
  }
  await writeManifest(paths.manifest, restoredManifest)
  await step('manifest-marked-restored')
  await removeFileDurably(paths.stash)
  await step('stash-removed')
  await removeFileDurably(paths.manifest)
  await step('manifest-removed')
  return { ...base, status: 'restored', replacedLiveBook, addrCount: source.addrCount }
}

/**
 * Reads the stash manifest, e.g. for a status page: `undefined` when nothing is stashed.
 *
 * @throws {@link AddressBookError} when the manifest exists but is invalid.
 */
export async function readAddressBookStash(stashDir: string): Promise<AddressBookStashManifest | undefined> {
  return await readManifest(path.join(path.resolve(stashDir), ADDRESS_BOOK_MANIFEST_FILE))
}

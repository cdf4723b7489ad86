import { createHash, randomBytes } from 'node:crypto'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import path from 'node:path'
import { z } from 'zod'
import { AddrBookError, describeFirstIssue } from './errors.js'
import { GO_ZERO_TIME, goMarshalIndent, rfc3339NanoFromMs } from './go-format.js'
import { formatNetAddress, isNodeId, isRoutable, type NetAddress } from './net-address.js'

export const BUCKET_TYPE_NEW = 1
export const BUCKET_TYPE_OLD = 2

// p2p/pex/params.go
const NEW_BUCKET_COUNT = 256
const OLD_BUCKET_COUNT = 64
const MAX_NEW_BUCKETS_PER_ADDRESS = 4
const MAX_GET_SELECTION = 250

/** One `knownAddress` entry, field for field as CometBFT serialises it. Times are kept as Go wrote them. */
export interface KnownAddress {
  addr: NetAddress
  src: NetAddress
  buckets: number[]
  attempts: number
  bucket_type: number
  last_attempt: string
  last_success: string
  last_ban_time: string
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

const netAddressSchema = z.object({
  id: z.string().default(''),
  ip: z.string().refine((ip) => isIP(ip) !== 0, 'invalid IP address'),
  port: z.number().int().min(0).max(65535).default(0),
})

const goTime = z.string().regex(RFC3339, 'not an RFC 3339 time').default(GO_ZERO_TIME)

// Go's json.Decoder: unknown keys ignored, missing keys take zero values, wrong types are errors.
const addrBookSchema = z.object({
  key: z.string().default(''),
  addrs: z
    .array(
      z.object({
        addr: netAddressSchema,
        src: netAddressSchema,
        buckets: z
          .array(z.number().int())
          .nullish()
          .transform((b) => b ?? []),
        attempts: z.number().int().default(0),
        bucket_type: z.number().int().min(0).max(255).default(0),
        last_attempt: goTime,
        last_success: goTime,
        last_ban_time: goTime,
      }),
    )
    .nullish()
    .transform((a) => a ?? []),
})

export interface AddrBookOptions {
  /** `addr_book_strict`: refuse non-routable (loopback, private…) addresses. */
  strict: boolean
  /** Our own addresses: never added (CometBFT's `AddOurAddress`). */
  ourAddresses?: NetAddress[]
  /** `private_peer_ids`: never added nor gossiped. */
  privateIds?: string[]
}

/**
 * CometBFT's address book (p2p/pex/addrbook.go) reduced to what changes the file and the dialing:
 * addresses learned by PEX enter the "new" buckets, addresses we connected to move to "old";
 * the file is CometBFT's exact JSON (stdlib MarshalIndent with tabs), written atomically.
 */
export class AddressBook {
  private readonly entries = new Map<string, KnownAddress>()
  private readonly ours: Set<string>
  private readonly ourIds: Set<string>
  private readonly privateIds: Set<string>

  private constructor(
    readonly key: string,
    private readonly options: AddrBookOptions,
  ) {
    this.ours = new Set((options.ourAddresses ?? []).map(formatNetAddress))
    // CometBFT tracks only our ip:port here and later drops its own address when a dial reaches itself;
    // refusing our id up front has the same end result.
    this.ourIds = new Set((options.ourAddresses ?? []).map((a) => a.id))
    this.privateIds = new Set(options.privateIds ?? [])
  }

  /** A new, empty book with a fresh random key (`crypto.CRandHex(24)`). */
  static fresh(options: AddrBookOptions): AddressBook {
    return new AddressBook(randomBytes(12).toString('hex'), options)
  }

  /**
   * Parses a book file's text; throws {@link AddrBookError} where CometBFT would panic
   * ("Error reading file …").
   */
  static parse(text: string, file: string, options: AddrBookOptions): AddressBook {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (error) {
      throw new AddrBookError(`Error reading file ${file}: ${(error as Error).message}`, { cause: error })
    }
    const parsed = addrBookSchema.safeParse(raw)
    if (!parsed.success) {
      throw new AddrBookError(`Error reading file ${file}: ${describeFirstIssue(parsed.error)}`)
    }
    const book = new AddressBook(parsed.data.key, options)
    for (const ka of parsed.data.addrs) book.entries.set(ka.addr.id, { ...ka })
    return book
  }

  /** `loadFromFile`: a missing file gives a fresh book, a malformed one throws. */
  static async load(file: string, options: AddrBookOptions): Promise<{ book: AddressBook; loaded: boolean }> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { book: AddressBook.fresh(options), loaded: false }
      throw new AddrBookError(`Error opening file ${file}: ${(error as Error).message}`, { cause: error })
    }
    return { book: AddressBook.parse(text, file, options), loaded: true }
  }

  get size(): number {
    return this.entries.size
  }

  isEmpty(): boolean {
    return this.entries.size === 0
  }

  has(id: string): boolean {
    return this.entries.has(id)
  }

  get(id: string): KnownAddress | undefined {
    const ka = this.entries.get(id)
    return ka ? structuredClone(ka) : undefined
  }

  list(): KnownAddress[] {
    return [...this.entries.values()].map((ka) => structuredClone(ka))
  }

  /** Why `addr` would be refused (`addAddress`'s checks), or undefined when it is acceptable. */
  private refusal(addr: NetAddress, src: NetAddress): string | undefined {
    if (!isNodeId(addr.id)) return 'invalid node id'
    if (isIP(addr.ip) === 0 || addr.port === 0) return 'invalid address'
    if (this.privateIds.has(addr.id)) return 'private peer id'
    if (this.privateIds.has(src.id)) return 'private source'
    if (this.ours.has(formatNetAddress(addr)) || this.ourIds.has(addr.id)) return 'our own address'
    if (this.options.strict && !isRoutable(addr.ip)) return 'non-routable address (addr_book_strict)'
    return undefined
  }

  /** `AddAddress`: a new address goes to a "new" bucket; an "old" one with the same id is left alone. */
  addAddress(addr: NetAddress, src: NetAddress, nowMs = Date.now()): { added: boolean; reason?: string } {
    const reason = this.refusal(addr, src)
    if (reason) return { added: false, reason }
    const existing = this.entries.get(addr.id)
    if (existing) {
      if (existing.bucket_type === BUCKET_TYPE_OLD) return { added: false, reason: 'already known as good' }
      if (existing.buckets.length >= MAX_NEW_BUCKETS_PER_ADDRESS)
        return { added: false, reason: 'already known' }
      const bucket = this.newBucket(addr, src)
      if (!existing.buckets.includes(bucket)) existing.buckets.push(bucket)
      return { added: false, reason: 'already known' }
    }
    this.entries.set(addr.id, {
      addr: { ...addr },
      src: { ...src },
      buckets: [this.newBucket(addr, src)],
      attempts: 0,
      bucket_type: BUCKET_TYPE_NEW,
      // newKnownAddress stamps LastAttempt with time.Now().
      last_attempt: rfc3339NanoFromMs(nowMs),
      last_success: GO_ZERO_TIME,
      last_ban_time: GO_ZERO_TIME,
    })
    return { added: true }
  }

  /** `MarkGood`: a successful connection; the address moves to an "old" bucket. */
  markGood(id: string, nowMs = Date.now()): void {
    const ka = this.entries.get(id)
    if (!ka) return
    const now = rfc3339NanoFromMs(nowMs)
    ka.last_attempt = now
    ka.last_success = now
    ka.attempts = 0
    if (ka.bucket_type !== BUCKET_TYPE_OLD) {
      ka.bucket_type = BUCKET_TYPE_OLD
      ka.buckets = [this.oldBucket(ka.addr)]
    }
  }

  /** `MarkAttempt`: a dial that did not succeed. */
  markAttempt(id: string, nowMs = Date.now()): void {
    const ka = this.entries.get(id)
    if (!ka) return
    ka.last_attempt = rfc3339NanoFromMs(nowMs)
    ka.attempts += 1
  }

  /** Removes an address (CometBFT's `MarkBad` / authentication failure). */
  remove(id: string): void {
    this.entries.delete(id)
  }

  /** Addresses to dial, vetted ("old") ones first, then by fewest failed attempts. */
  dialCandidates(): NetAddress[] {
    return [...this.entries.values()]
      .sort((a, b) => b.bucket_type - a.bucket_type || a.attempts - b.attempts)
      .map((ka) => ({ ...ka.addr }))
  }

  /** `GetSelection`: what we answer a PEX request with. */
  selection(): NetAddress[] {
    return [...this.entries.values()]
      .filter((ka) => !this.privateIds.has(ka.addr.id))
      .slice(0, MAX_GET_SELECTION)
      .map((ka) => ({ ...ka.addr }))
  }

  /** The file's exact bytes: `json.MarshalIndent(addrBookJSON, "", "\t")`, no trailing newline. */
  serialize(): string {
    return goMarshalIndent({ key: this.key, addrs: [...this.entries.values()] }, '\t')
  }

  /** `saveToFile`: atomic replace (temp file in the same directory, then rename), mode 0644. */
  async save(file: string): Promise<void> {
    const tmp = path.join(
      path.dirname(file),
      `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    )
    try {
      await writeFile(tmp, this.serialize(), { mode: 0o644 })
      await rename(tmp, file)
    } catch (error) {
      await unlink(tmp).catch(() => undefined)
      throw error
    }
  }

  private group(ip: string): string {
    return isIP(ip) === 4 ? ip.split('.').slice(0, 2).join('.') : ip.split(':').slice(0, 3).join(':')
  }

  private bucketOf(parts: string[], count: number): number {
    const digest = createHash('sha256').update(parts.join('|')).digest()
    return digest.readUInt32BE(0) % count
  }

  private newBucket(addr: NetAddress, src: NetAddress): number {
    return this.bucketOf([this.key, this.group(addr.ip), this.group(src.ip)], NEW_BUCKET_COUNT)
  }

  private oldBucket(addr: NetAddress): number {
    return this.bucketOf([this.key, formatNetAddress(addr)], OLD_BUCKET_COUNT)
  }
}

import { type FileHandle, open } from 'node:fs/promises'
import { uncompress } from 'snappyjs'
import { type BlockHandle, readBlockHandle, readVarint } from './coding.js'
import { maskedCrc32c } from './crc32c.js'
import { LevelDbCorruptionError, UnsupportedLevelDbError } from './errors.js'
import { compareInternalKeys, TRAILER_BYTES } from './internal-key.js'

/*
 * One LevelDB table file (`.ldb`/`.sst`), read-only, for point lookups:
 *   data blocks… | meta blocks… | metaindex block | index block | footer (48 bytes)
 * footer = metaindex handle, index handle (varints, zero padded to 40 bytes), magic 0xdb4775248b80fb57.
 * Every block is followed by a 5-byte trailer: compression type (0 none, 1 snappy) and the masked CRC-32C of
 * block + type, which is verified (goleveldb verifies block checksums by default too): a damaged block is an
 * error naming the file and offset, never garbage.
 * A block holds entries `shared | non_shared | value_length (varints) | key delta | value` with a restart point
 * (shared = 0) every few entries, then the restart offsets (uint32 each) and their count (uint32).
 * Keys are internal keys everywhere (the index holds separators ≥ the last key of their block).
 * Filter blocks (named in the metaindex) are not used: they only make misses faster.
 */

const FOOTER_BYTES = 48
const TRAILER = 5
const MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb])
const NO_COMPRESSION = 0
const SNAPPY = 1
/** An uncompressed block larger than this is a corrupt length, not a real block (LevelDB's are ~4 KiB). */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024
/** Decoded data blocks kept per open table (a block is ~4 KiB uncompressed). */
const BLOCK_CACHE_PER_TABLE = 16

/** A key/value entry of a block (views into the block). */
export interface BlockEntry {
  key: Buffer
  value: Buffer
}

/** A decoded block with its restart points, searchable by internal key. */
export class Block {
  private readonly restartsAt: number
  private readonly restarts: number

  constructor(
    private readonly data: Buffer,
    private readonly where: () => string,
  ) {
    if (data.length < 4) throw this.corrupt('block shorter than its restart count')
    this.restarts = data.readUInt32LE(data.length - 4)
    this.restartsAt = data.length - 4 - 4 * this.restarts
    if (this.restarts === 0 || this.restartsAt < 0) throw this.corrupt(`bad restart count ${this.restarts}`)
  }

  private corrupt(detail: string): LevelDbCorruptionError {
    const where = this.where()
    return new LevelDbCorruptionError(where.split(' ')[0] ?? where, `${detail} (${where})`)
  }

  private restartOffset(index: number): number {
    const offset = this.data.readUInt32LE(this.restartsAt + 4 * index)
    if (offset >= this.restartsAt) throw this.corrupt(`restart point ${index} points past the entries`)
    return offset
  }

  /** Decodes the entry at `offset` given the previous key; returns it and the next entry's offset. */
  private entryAt(offset: number, previousKey: Buffer | null): { entry: BlockEntry; next: number } {
    const shared = readVarint(this.data, offset)
    if (shared === null) throw this.corrupt(`bad entry at ${offset}`)
    const nonShared = readVarint(this.data, offset + shared.length)
    if (nonShared === null) throw this.corrupt(`bad entry at ${offset}`)
    const valueLength = readVarint(this.data, offset + shared.length + nonShared.length)
    if (valueLength === null) throw this.corrupt(`bad entry at ${offset}`)
    const keyAt = offset + shared.length + nonShared.length + valueLength.length
    const valueAt = keyAt + nonShared.value
    const next = valueAt + valueLength.value
    if (next > this.restartsAt) throw this.corrupt(`entry at ${offset} runs past the entries`)
    if (shared.value > (previousKey?.length ?? 0))
      throw this.corrupt(`entry at ${offset} shares too many bytes`)
    const delta = this.data.subarray(keyAt, valueAt)
    const key =
      shared.value === 0 || previousKey === null
        ? delta
        : Buffer.concat([previousKey.subarray(0, shared.value), delta])
    return { entry: { key, value: this.data.subarray(valueAt, next) }, next }
  }

  /** The first entry, or null for an empty block. */
  first(): BlockEntry | null {
    return this.restartsAt === 0 ? null : this.entryAt(0, null).entry
  }

  /** The first entry whose internal key is ≥ `target`, or null when every key is smaller. */
  seek(target: Buffer): BlockEntry | null {
    for (const entry of this.from(target)) return entry
    return null
  }

  /** The entries from the first one whose internal key is ≥ `target`, in order. */
  *from(target: Buffer): Generator<BlockEntry> {
    // Binary search for the last restart point whose key is < target, then scan forward from it.
    let lo = 0
    let hi = this.restarts - 1
    if (this.restartsAt === 0) return
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      const at = this.restartOffset(mid)
      const { entry } = this.entryAt(at, null)
      if (entry.key.length < TRAILER_BYTES) throw this.corrupt(`key shorter than 8 bytes at ${at}`)
      if (compareInternalKeys(entry.key, target) < 0) lo = mid
      else hi = mid - 1
    }
    let offset = this.restartsAt === 0 ? 0 : this.restartOffset(lo)
    let previous: Buffer | null = null
    let reached = false
    while (offset < this.restartsAt) {
      const { entry, next } = this.entryAt(offset, previous)
      if (!reached) {
        if (entry.key.length < TRAILER_BYTES) throw this.corrupt(`key shorter than 8 bytes at ${offset}`)
        reached = compareInternalKeys(entry.key, target) >= 0
      }
      if (reached) yield entry
      previous = entry.key
      offset = next
    }
  }

  /** Every entry in order (for the index of small tables and for tests). */
  *entries(): Generator<BlockEntry> {
    let offset = 0
    let previous: Buffer | null = null
    while (offset < this.restartsAt) {
      const { entry, next } = this.entryAt(offset, previous)
      yield entry
      previous = entry.key
      offset = next
    }
  }
}

/** A table file opened for reading; blocks are read with positional reads, the index block is kept. */
export class TableReader {
  private index: Block | null = null
  /** Recently read data blocks by offset, least recently used first (lookups in key order hit the same block). */
  private readonly blocks = new Map<number, Block>()

  private constructor(
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly size: number,
    private readonly dbDir: string,
  ) {}

  /** Opens `file` read-only and reads its footer and index block. */
  static async open(file: string, dbDir: string): Promise<TableReader> {
    const handle = await open(file, 'r')
    try {
      const size = (await handle.stat()).size
      const reader = new TableReader(file, handle, size, dbDir)
      await reader.loadIndex()
      return reader
    } catch (error) {
      await handle.close()
      throw error
    }
  }

  async close(): Promise<void> {
    await this.handle.close()
  }

  private async readAt(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    if (done !== length)
      throw new LevelDbCorruptionError(this.file, `truncated: wanted ${length} bytes at ${offset}, file ends`)
    return buf
  }

  private async loadIndex(): Promise<void> {
    if (this.size < FOOTER_BYTES)
      throw new LevelDbCorruptionError(this.file, `too short to be a table (${this.size} bytes)`)
    const footer = await this.readAt(this.size - FOOTER_BYTES, FOOTER_BYTES)
    if (!footer.subarray(FOOTER_BYTES - 8).equals(MAGIC))
      throw new LevelDbCorruptionError(
        this.file,
        'bad table magic number (not a LevelDB table, or truncated)',
      )
    const metaindex = readBlockHandle(footer, 0)
    const index = metaindex === null ? null : readBlockHandle(footer, metaindex.length)
    if (index === null) throw new LevelDbCorruptionError(this.file, 'bad block handle in the footer')
    this.index = await this.readBlock(index.handle, 'index block')
  }

  /** Reads, verifies and decompresses one block. */
  private async readBlock(handle: BlockHandle, what: string): Promise<Block> {
    const where = `${this.file} ${what} at offset ${handle.offset}`
    if (handle.offset + handle.size + TRAILER > this.size)
      throw new LevelDbCorruptionError(
        this.file,
        `${what} at ${handle.offset} (+${handle.size}) is past the end`,
      )
    const raw = await this.readAt(handle.offset, handle.size + TRAILER)
    const type = raw[handle.size] as number
    const stored = raw.readUInt32LE(handle.size + 1)
    if (maskedCrc32c(raw.subarray(0, handle.size + 1)) !== stored)
      throw new LevelDbCorruptionError(
        this.file,
        `checksum mismatch in the ${what} at offset ${handle.offset}`,
      )
    const body = raw.subarray(0, handle.size)
    let data: Buffer
    if (type === NO_COMPRESSION) data = body
    else if (type === SNAPPY) {
      try {
        data = Buffer.from(uncompress(body, MAX_BLOCK_BYTES))
      } catch (error) {
        throw new LevelDbCorruptionError(
          this.file,
          `snappy data of the ${what} at offset ${handle.offset} does not decompress: ${(error as Error).message}`,
        )
      }
    } else {
      throw new UnsupportedLevelDbError(
        this.dbDir,
        `${this.file}: the ${what} at offset ${handle.offset} uses compression type ${type}; LevelDB as CometBFT ` +
          'uses it (goleveldb) knows only 0 (none) and 1 (snappy)',
      )
    }
    return new Block(data, () => where)
  }

  private async dataBlock(handle: BlockHandle): Promise<Block> {
    const cached = this.blocks.get(handle.offset)
    if (cached !== undefined) {
      this.blocks.delete(handle.offset)
      this.blocks.set(handle.offset, cached)
      return cached
    }
    const block = await this.readBlock(handle, 'data block')
    this.blocks.set(handle.offset, block)
    if (this.blocks.size > BLOCK_CACHE_PER_TABLE) {
      const oldest = this.blocks.keys().next()
      if (oldest.done !== true) this.blocks.delete(oldest.value)
    }
    return block
  }

  /**
   * The first entry whose internal key is ≥ `target` (goleveldb table.Reader.find): the index names the block
   * that may hold it; when every key of that block is smaller, it is the first key of the next block.
   */
  async find(target: Buffer): Promise<BlockEntry | null> {
    let next = false
    for (const entry of (this.index as Block).from(target)) {
      const handle = readBlockHandle(entry.value, 0)
      if (handle === null) throw new LevelDbCorruptionError(this.file, 'bad data block handle in the index')
      const block = await this.dataBlock(handle.handle)
      const hit = next ? block.first() : block.seek(target)
      if (hit !== null) return hit
      next = true
    }
    return null
  }
}

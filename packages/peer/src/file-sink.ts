import { createHash, type Hash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { Writable } from 'node:stream'

/*
 * The writing end of a download. A socket yields chunks of 16-64 KiB; one write(2) per chunk made the write path
 * the largest cost of a transfer (a quarter of the CPU), so chunks are gathered into batches of at least
 * WRITE_BATCH_BYTES and written with one writev at an explicit position, without copying them. Each chunk is
 * hashed as it passes, so the caller gets the sha256 of what it wrote without reading the file back.
 */

/** Bytes gathered before one writev. */
export const WRITE_BATCH_BYTES = 1 << 20
/** Reads of a resumed file's prefix, to hash it. */
const PREFIX_READ_BYTES = 1 << 20
/** At most this many buffers per writev (IOV_MAX is 1024 on Linux). */
const MAX_IOV = 512

export interface FileSinkOptions {
  /** An open handle; the sink writes from `position` on and does not close it. */
  handle: FileHandle
  position: number
  /** A running hash to continue (for instance over the prefix already in the file), or none. */
  hash: Hash | null
}

/** A Writable that batches chunks into large positioned writes and hashes them on the way. */
export class FileSink extends Writable {
  /** Bytes written to the file (after the position it started at). */
  bytesWritten = 0
  readonly #handle: FileHandle
  readonly #hash: Hash | null
  #position: number
  #batch: Buffer[] = []
  #batched = 0
  /** The write in progress (or the last one): a destroy waits for it before writing what is left. */
  #writing: Promise<void> = Promise.resolve()

  constructor(options: FileSinkOptions) {
    // A high-water mark of two batches keeps the socket read while one batch is being written.
    super({ highWaterMark: 2 * WRITE_BATCH_BYTES })
    this.#handle = options.handle
    this.#hash = options.hash
    this.#position = options.position
  }

  /** The hex sha256 of everything hashed (prefix and written bytes); call once, after 'finish'. */
  digest(): string | null {
    return this.#hash === null ? null : this.#hash.digest('hex')
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#add(chunk)
    if (this.#batched < WRITE_BATCH_BYTES) done()
    else this.#flush().then(() => done(), done)
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    done: (error?: Error | null) => void,
  ): void {
    for (const { chunk } of chunks) this.#add(chunk)
    if (this.#batched < WRITE_BATCH_BYTES) done()
    else this.#flush().then(() => done(), done)
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#flush().then(() => done(), done)
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A cut transfer keeps every byte it received, as a write per chunk did: what is on disk is where the next try
    // resumes. After a failed write nothing more is written (the position is no longer known to be right).
    const keep = async (): Promise<void> => {
      await this.#writing
      if (this.#batched > 0) await this.#flush()
    }
    keep().then(
      () => done(error),
      () => done(error),
    )
  }

  #add(chunk: Buffer): void {
    this.#hash?.update(chunk)
    this.#batch.push(chunk)
    this.#batched += chunk.length
  }

  #flush(): Promise<void> {
    this.#writing = this.#write()
    return this.#writing
  }

  async #write(): Promise<void> {
    const batch = this.#batch
    this.#batch = []
    this.#batched = 0
    for (let first = 0; first < batch.length; first += MAX_IOV) {
      let buffers = batch.slice(first, first + MAX_IOV)
      let left = buffers.reduce((sum, b) => sum + b.length, 0)
      // writev may write less than asked (a signal, a full disk just before ENOSPC): write the rest.
      while (left > 0) {
        const { bytesWritten } = await this.#handle.writev(buffers, this.#position)
        this.#position += bytesWritten
        this.bytesWritten += bytesWritten
        left -= bytesWritten
        if (left > 0) buffers = dropFront(buffers, bytesWritten)
      }
    }
  }
}

/** `buffers` without their first `count` bytes. */
function dropFront(buffers: Buffer[], count: number): Buffer[] {
  let skip = count
  const rest: Buffer[] = []
  for (const buffer of buffers) {
    if (skip >= buffer.length) skip -= buffer.length
    else {
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer)
      skip = 0
    }
  }
  return rest
}

/** A sha256 over the first `length` bytes of the open file (a resumed download's prefix), read once. */
export async function hashPrefix(handle: FileHandle, length: number): Promise<Hash> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(Math.min(PREFIX_READ_BYTES, Math.max(1, length)))
  let position = 0
  while (position < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position)
    if (bytesRead === 0) throw new Error(`the file ended at byte ${position} of the ${length} it held`)
    hash.update(buffer.subarray(0, bytesRead))
    position += bytesRead
  }
  return hash
}

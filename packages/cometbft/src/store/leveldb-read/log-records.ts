import { maskedCrc32c } from './crc32c.js'

/*
 * The LevelDB log format, shared by the journal (`NNNNNN.log`) and the MANIFEST: 32 KiB blocks of chunks, each
 * chunk `crc32c (4, masked, over type + payload) | length (2) | type (1) | payload`, a record split into
 * FULL or FIRST, MIDDLE…, LAST chunks; a block tail shorter than a header is zero padding.
 *
 * This is a port of goleveldb's journal.Reader (leveldb/journal/journal.go) in the mode a CometBFT node opens
 * its databases with (checksums verified, not strict): a chunk with a bad checksum, a bad type, a zero header or
 * a length past its block drops the rest of that block; a record missing a part is dropped; an orphan MIDDLE or
 * LAST chunk is skipped; a torn tail at the end of the file ends the log. Every drop is reported, so the caller
 * can say what the node will silently skip.
 */

const BLOCK_SIZE = 32 * 1024
const HEADER_SIZE = 7
const FULL = 1
const FIRST = 2
const LAST = 4

type ChunkResult = 'ok' | 'skip' | 'eof'

/** Reads every record of a log file held in memory, as goleveldb would; `onDrop` hears each corruption. */
export function readLogRecords(data: Buffer, onDrop: (reason: string) => void): Buffer[] {
  let blockStart = 0
  let nextBlock = 0
  let n = 0
  let i = 0
  let j = 0
  let last = true

  const nextChunk = (first: boolean): ChunkResult => {
    for (;;) {
      if (j + HEADER_SIZE <= n) {
        const at = blockStart + j
        const checksum = data.readUInt32LE(at)
        const length = data.readUInt16LE(at + 4)
        const type = data[at + 6] as number
        const unprocessed = n - j
        const dropBlock = (reason: string): ChunkResult => {
          i = n
          j = n
          onDrop(`${reason} (${unprocessed} bytes dropped at offset ${at})`)
          return 'skip'
        }
        if (checksum === 0 && length === 0 && type === 0) return dropBlock('zero header')
        if (type < FULL || type > LAST) return dropBlock(`invalid chunk type ${type}`)
        i = j + HEADER_SIZE
        j = j + HEADER_SIZE + length
        if (j > n) return dropBlock('chunk length overflows block')
        if (checksum !== maskedCrc32c(data.subarray(blockStart + i - 1, blockStart + j)))
          return dropBlock('checksum mismatch')
        if (first && type !== FULL && type !== FIRST) {
          onDrop(`orphan chunk (${j - i + HEADER_SIZE} bytes skipped at offset ${at})`)
          i = j
          return 'skip'
        }
        last = type === FULL || type === LAST
        return 'ok'
      }
      // The last block (shorter than a full one) is used up: the end of the log.
      if (n < BLOCK_SIZE && n > 0) {
        if (!first) {
          onDrop('missing chunk part at the end of the log')
          return 'skip'
        }
        return 'eof'
      }
      const remaining = data.length - nextBlock
      if (remaining <= 0) {
        if (!first) {
          onDrop('missing chunk part at the end of the log')
          return 'skip'
        }
        return 'eof'
      }
      blockStart = nextBlock
      n = Math.min(BLOCK_SIZE, remaining)
      nextBlock += n
      i = 0
      j = 0
    }
  }

  const records: Buffer[] = []
  for (;;) {
    i = j
    let start: ChunkResult
    do start = nextChunk(true)
    while (start === 'skip')
    if (start === 'eof') return records
    const parts: Buffer[] = [data.subarray(blockStart + i, blockStart + j)]
    i = j
    let complete = true
    while (!last) {
      const more = nextChunk(false)
      if (more !== 'ok') {
        complete = false
        break
      }
      parts.push(data.subarray(blockStart + i, blockStart + j))
      i = j
    }
    if (complete) records.push(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))
  }
}

import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { readVarint } from './coding.js'
import { TYPE_DELETION, TYPE_VALUE } from './internal-key.js'
import { readLogRecords } from './log-records.js'

/*
 * The journal replay a CometBFT node does when it opens a database (goleveldb db.recoverJournal +
 * batch.decodeBatchToMem), into an in-memory table instead of new files:
 * - the journals replayed are the `.log` files numbered ≥ the MANIFEST's log number, or equal to its previous log
 *   number, in file-number order;
 * - a batch is `sequence (uint64 LE) | count (uint32 LE) | records`, a record `type (1) | key | value` with
 *   varint-prefixed key and value (no value for a deletion);
 * - the rule that matters: a batch whose sequence is below the expected one — the MANIFEST's last
 *   sequence, then the end of the last applied batch — is "corrupted" and skipped, and so is one that does not
 *   decode; the records of a batch decoded before its error stay applied, but the sequence does not advance.
 * What is skipped is reported, with goleveldb's wording, so a caller can show what the node will drop.
 */

/** The newest version of a key in the journal. */
export interface MemEntry {
  sequence: bigint
  deleted: boolean
  value: Buffer
}

/** The result of replaying the journals. */
export interface JournalReplay {
  /** Newest version per user key (`latin1` of the key bytes). */
  entries: Map<string, MemEntry>
  /** The sequence number after the last applied batch (the MANIFEST's when nothing was applied). */
  lastSequence: bigint
  /** The journal files replayed, in order. */
  files: string[]
  /** What goleveldb would log as "journal error … (skipped)" or drop as a corrupt chunk. */
  skipped: string[]
}

const BATCH_HEADER = 12

class BatchCorrupted extends Error {}

/** The journal files a node replays for a MANIFEST with these log numbers, in replay order. */
export async function journalFiles(
  dbDir: string,
  logNumber: number,
  prevLogNumber: number,
): Promise<string[]> {
  const numbered = (await readdir(dbDir)).flatMap((name) => {
    const match = /^([0-9]+)\.log$/.exec(name)
    return match === null ? [] : [{ name, number: Number(match[1]) }]
  })
  return numbered
    .filter((f) => f.number >= logNumber || (prevLogNumber !== 0 && f.number === prevLogNumber))
    .sort((a, b) => a.number - b.number)
    .map((f) => path.join(dbDir, f.name))
}

function applyBatch(
  data: Buffer,
  expected: bigint,
  entries: Map<string, MemEntry>,
): { sequence: bigint; count: number } {
  if (data.length < BATCH_HEADER) throw new BatchCorrupted('leveldb: batch corrupted: batch is too short')
  const sequence = data.readBigUInt64LE(0)
  const count = data.readUInt32LE(8)
  if (sequence < expected) throw new BatchCorrupted('leveldb: batch corrupted: invalid sequence number')
  let offset = BATCH_HEADER
  let decoded = 0
  while (offset < data.length) {
    const type = data[offset] as number
    if (type > TYPE_VALUE)
      throw new BatchCorrupted(`leveldb: batch corrupted: bad record: invalid type ${type.toString(16)}`)
    offset++
    const keyLength = readVarint(data, offset)
    if (keyLength === null || keyLength.length + offset + keyLength.value > data.length)
      throw new BatchCorrupted('leveldb: batch corrupted: bad record: invalid key length')
    offset += keyLength.length
    const key = data.subarray(offset, offset + keyLength.value)
    offset += keyLength.value
    let value: Buffer = Buffer.alloc(0)
    if (type === TYPE_VALUE) {
      const valueLength = readVarint(data, offset)
      if (valueLength === null || valueLength.length + offset + valueLength.value > data.length)
        throw new BatchCorrupted('leveldb: batch corrupted: bad record: invalid value length')
      offset += valueLength.length
      value = data.subarray(offset, offset + valueLength.value)
      offset += valueLength.value
    }
    if (decoded >= count) throw new BatchCorrupted('leveldb: batch corrupted: invalid records length')
    const entrySequence = sequence + BigInt(decoded)
    const id = key.toString('latin1')
    const existing = entries.get(id)
    if (existing === undefined || existing.sequence <= entrySequence)
      entries.set(id, { sequence: entrySequence, deleted: type === TYPE_DELETION, value: Buffer.from(value) })
    decoded++
  }
  if (decoded !== count)
    throw new BatchCorrupted(`leveldb: batch corrupted: invalid records length: ${count} vs ${decoded}`)
  return { sequence, count }
}

/** Replays the journals into memory as goleveldb would on open; `lastSequence` is the MANIFEST's. */
export async function replayJournals(files: string[], lastSequence: bigint): Promise<JournalReplay> {
  const entries = new Map<string, MemEntry>()
  const skipped: string[] = []
  let expected = lastSequence
  for (const file of files) {
    const name = path.basename(file)
    const records = readLogRecords(await readFile(file), (reason) => skipped.push(`${name}: ${reason}`))
    for (const record of records) {
      try {
        const { sequence, count } = applyBatch(record, expected, entries)
        expected = sequence + BigInt(count)
      } catch (error) {
        if (!(error instanceof BatchCorrupted)) throw error
        skipped.push(`${name}: journal error: ${error.message} (skipped)`)
      }
    }
  }
  return { entries, lastSequence: expected, files, skipped }
}

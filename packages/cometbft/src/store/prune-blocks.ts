/**
 * The block phase of the offline pruner: which blocks go (found by scanning, a pure function of the store and the
 * prune height) and the deletes, in batches that each carry the new `blockStore` base. Why it is done this way is
 * in the module comment of pruner.ts.
 */
import { decodeBlockMetaIds } from './block-messages.js'
import { PruneRefusedError, StoreCorruptionError } from './errors.js'
import { BLOCK_STORE_STATE_KEY } from './keys.js'
import { readVarint } from './leveldb-read/coding.js'
import type { Db } from './prune-db.js'
import { type BlockStoreState, decodeBlockStoreState, encodeBlockStoreState } from './state-messages.js'

/** Reads `blockStore`; refuses the pre-v0.34 amino-JSON encoding. */
export async function loadBlockStoreState(db: Db): Promise<BlockStoreState> {
  const raw = await db.get(BLOCK_STORE_STATE_KEY)
  if (raw === undefined || raw.length === 0) return { base: 0, height: 0 }
  if (raw[0] === 0x7b) {
    throw new PruneRefusedError(
      'the blockStore state is JSON (tendermint ≤ v0.33); this layout is not supported',
    )
  }
  return decodeBlockStoreState(raw)
}

/** Validates a prune height exactly as CometBFT's `PruneBlocks` does (same messages). */
export function checkPruneHeight(untilHeight: number, bs: BlockStoreState): void {
  if (untilHeight <= 0) throw new PruneRefusedError('height must be greater than 0')
  if (untilHeight > bs.height)
    throw new PruneRefusedError(`cannot prune beyond the latest height ${bs.height}`)
  if (untilHeight < bs.base) {
    throw new PruneRefusedError(
      `cannot prune to height ${untilHeight}, it is lower than base height ${bs.base}`,
    )
  }
}

/** The blocks below a prune height that are still in the store, ascending. */
export interface PrunableBlocks {
  heights: number[]
  /** `block_id.hash` of each height's meta in lowercase hex (its `BH:` key). */
  hashesHex: string[]
  /** `block_id.part_set_header.total` of each height's meta (its `P:h:0..total-1` keys). */
  partsTotal: number[]
  /** Heights below the prune height that have an `EC:` key. */
  extendedCommits: Set<number>
}

const DIGIT_0 = 0x30
const DIGIT_9 = 0x39

/**
 * The height in a key `<prefix><h>` written by CometBFT (`%v`: no sign, no leading zeros, at most 16 digits), or
 * null. Keys come from iterators as strings (see {@link scanRange}); a key that is not UTF-8 holds U+FFFD there,
 * which is no digit, so it is never a height.
 */
export function heightAfterPrefix(key: string, prefixLength: number): number | null {
  const n = key.length - prefixLength
  if (n < 1 || n > 16 || key.charCodeAt(prefixLength) === DIGIT_0) return null
  let h = 0
  for (let i = prefixLength; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c < DIGIT_0 || c > DIGIT_9) return null
    h = h * 10 + (c - DIGIT_0)
  }
  return Number.isSafeInteger(h) ? h : null
}

/** Entries per page of {@link scanRange}, and the bytes a page may hold (a 1M-block `H:` scan is ~700 MB). */
const SCAN_PAGE_ENTRIES = 10_000
const SCAN_PAGE_BYTES = 16 * 1024 * 1024

/**
 * Iterates `[gte, lt)` in pages: one round trip to classic-level's worker thread per page instead of per entry.
 * classic-level ends a page after 16 KiB by default (`highWaterMarkBytes`), i.e. every ~20 block metas; each round
 * trip is two thread hand-offs, which on a busy machine cost far more than the reading. Keys arrive as strings and
 * values as views: classic-level creates both natively, which costs a third less per entry than a Buffer each
 * (measured, bench/prune.bench.mjs); every key the pruner looks at is ASCII.
 */
export async function scanRange(
  db: Db,
  range: { gte: string; lt: string; values: boolean },
  onEntry: (key: string, value: Uint8Array | undefined) => void,
): Promise<void> {
  const it = db.iterator<string, Uint8Array>({
    gte: range.gte,
    lt: range.lt,
    keys: true,
    values: range.values,
    keyEncoding: 'utf8',
    valueEncoding: 'view',
    highWaterMarkBytes: SCAN_PAGE_BYTES,
  })
  try {
    for (;;) {
      const page = await it.nextv(SCAN_PAGE_ENTRIES)
      if (page.length === 0) return
      for (const [key, value] of page) onEntry(key, value)
    }
  } finally {
    await it.close()
  }
}

/** The varint at `at` if it ends by `end` (a field or message end), with the offset after it. */
function varintAt(b: Uint8Array, at: number, end: number): { value: number; next: number } | null {
  const v = readVarint(b, at)
  return v === null || at + v.length > end ? null : { value: v.value, next: at + v.length }
}

/**
 * Whether the fields in `[at, end)` are well-formed and none has a number in `repeated` (a field that was already
 * read: protobuf lets a later occurrence win, so the fast path gives up on one).
 */
function restIsPlain(b: Uint8Array, at: number, end: number, repeated: readonly number[]): boolean {
  while (at < end) {
    const tag = varintAt(b, at, end)
    if (tag === null || repeated.includes(Math.floor(tag.value / 8))) return false
    const wire = tag.value % 8
    if (wire === 0) {
      const v = varintAt(b, tag.next, end)
      if (v === null) return false
      at = v.next
    } else if (wire === 2) {
      const len = varintAt(b, tag.next, end)
      if (len === null) return false
      at = len.next + len.value
    } else if (wire === 1) at = tag.next + 8
    else if (wire === 5) at = tag.next + 4
    else return false
  }
  return at === end
}

/**
 * The ids of a BlockMeta as Go's protobuf encoder writes them: `block_id` {hash, part_set_header {total, …}} as the
 * first field, and the header's height after its version and chain id. This skips the generic decoder's per-field
 * objects for the common case; anything shaped otherwise (a missing or zero field, a repeated field, another field
 * order) returns null, and the caller decodes the meta with {@link decodeBlockMetaIds}, which is the reference.
 */
function canonicalMetaIds(b: Uint8Array): { hashHex: string; partsTotal: number; height: number } | null {
  // block_id (1, LEN) { hash (1, LEN), part_set_header (2, LEN) { total (1, varint), … } }
  if (b[0] !== 0x0a) return null
  const idLen = varintAt(b, 1, b.length)
  if (idLen === null) return null
  const idEnd = idLen.next + idLen.value
  if (idEnd > b.length || b[idLen.next] !== 0x0a) return null
  const hashLen = varintAt(b, idLen.next + 1, idEnd)
  if (hashLen === null || hashLen.value === 0) return null
  const hashEnd = hashLen.next + hashLen.value
  if (hashEnd + 2 > idEnd || b[hashEnd] !== 0x12) return null
  const pshLen = varintAt(b, hashEnd + 1, idEnd)
  if (pshLen === null || pshLen.next + pshLen.value !== idEnd || b[pshLen.next] !== 0x08) return null
  const total = varintAt(b, pshLen.next + 1, idEnd)
  if (total === null || total.value === 0 || total.value > 0xffffffff) return null
  if (!restIsPlain(b, total.next, idEnd, [1])) return null
  // block_size (2, varint), then header (3, LEN) { version (1, LEN), chain_id (2, LEN), height (3, varint) }
  let at = idEnd
  if (b[at] === 0x10) {
    const size = varintAt(b, at + 1, b.length)
    if (size === null) return null
    at = size.next
  }
  if (b[at] !== 0x1a) return null
  const headerLen = varintAt(b, at + 1, b.length)
  if (headerLen === null) return null
  at = headerLen.next
  const headerEnd = at + headerLen.value
  if (headerEnd > b.length) return null
  for (const field of [0x0a, 0x12]) {
    if (b[at] !== field) return null
    const len = varintAt(b, at + 1, headerEnd)
    if (len === null) return null
    at = len.next + len.value
  }
  if (at >= headerEnd || b[at] !== 0x18) return null
  const height = varintAt(b, at + 1, headerEnd)
  if (height === null || !restIsPlain(b, height.next, headerEnd, [3])) return null
  if (!restIsPlain(b, headerEnd, b.length, [1, 3])) return null
  const hash = Buffer.from(b.buffer, b.byteOffset + hashLen.next, hashLen.value)
  return { hashHex: hash.toString('hex'), partsTotal: total.value, height: height.value }
}

function metaIds(value: Uint8Array): { hashHex: string; partsTotal: number; height: number } {
  const fast = canonicalMetaIds(value)
  if (fast !== null) return fast
  const ids = decodeBlockMetaIds(value)
  const hash = Buffer.from(ids.hash.buffer, ids.hash.byteOffset, ids.hash.length)
  return { hashHex: hash.toString('hex'), partsTotal: ids.partsTotal, height: ids.height }
}

/**
 * Every block below `untilHeight` that still has its meta (`H:h`), found by one range scan of the `H:` keys (not
 * by looping from the recorded base: see pruner.ts). CometBFT deletes a height's keys from its meta only (the `BH:`
 * key from its hash, the parts from its total), and so does the pruner; a height without a meta is skipped, as
 * CometBFT does ("assume already deleted"). Reads only.
 */
export async function findPrunableBlocks(blockDb: Db, untilHeight: number): Promise<PrunableBlocks> {
  const found: Array<{ height: number; hashHex: string; partsTotal: number }> = []
  await scanRange(blockDb, { gte: 'H:', lt: 'H;', values: true }, (key, value) => {
    const h = heightAfterPrefix(key, 2)
    if (h === null || h >= untilHeight || value === undefined) return
    const ids = metaIds(value)
    if (ids.height !== h || ids.hashHex.length === 0) {
      throw new StoreCorruptionError(
        `H:${h} holds a block meta for height ${ids.height} (hash ${ids.hashHex.length / 2} bytes)`,
      )
    }
    found.push({ height: h, hashHex: ids.hashHex, partsTotal: ids.partsTotal })
  })
  found.sort((a, b) => a.height - b.height)
  // `EC:` exists only with vote extensions (v0.38+); deleting it only where it exists saves a seventh of the
  // deletes on every other chain and leaves the same keys.
  const extendedCommits = new Set<number>()
  await scanRange(blockDb, { gte: 'EC:', lt: 'EC;', values: false }, (key) => {
    const h = heightAfterPrefix(key, 3)
    if (h !== null && h < untilHeight) extendedCommits.add(h)
  })
  return {
    heights: found.map((b) => b.height),
    hashesHex: found.map((b) => b.hashHex),
    partsTotal: found.map((b) => b.partsTotal),
    extendedCommits,
  }
}

/** Options of {@link deleteBlocks}. */
export interface DeleteBlocksOptions {
  /** The recorded base before this run; intermediate bases never go below it. */
  base: number
  untilHeight: number
  /** The recorded height (unchanged by pruning). */
  height: number
  /** Heights per batch. */
  batchSize: number
  /** Called after each written batch with the number of heights deleted so far. */
  onBatch?: (done: number) => void
}

/** Keys as Buffers: per-op encoding options cost about 2.5× the CPU per delete (measured, bench/prune.bench.mjs). */
const key = (s: string): Buffer => Buffer.from(s, 'latin1')

/**
 * Deletes every block of `prunable` (`H:`, `BH:`, `C:`, `SC:`, `EC:` where present, `P:` keys of a height always in
 * the same batch), ascending, and sets `blockStore` in every batch: to `max(base, last deleted + 1)` in intermediate
 * batches and to `{untilHeight, height}` in the last one (also when there is nothing left to delete but the base
 * is behind). Batches are not synced: the caller flushes them into tables (prune-db.ts) before anything depends on
 * them. The next batch is built while the previous one is written.
 */
export async function deleteBlocks(
  blockDb: Db,
  prunable: PrunableBlocks,
  o: DeleteBlocksOptions,
): Promise<void> {
  const { heights, hashesHex, partsTotal, extendedCommits } = prunable
  if (heights.length === 0 && o.base === o.untilHeight) return
  let inFlight: Promise<void> | null = null
  let i = 0
  do {
    const end = Math.min(i + o.batchSize, heights.length)
    const batch = blockDb.batch()
    // One prefix after the other, in key order within each (heights of equal length are in key order, the
    // hashes are sorted): C++ LevelDB's memtable inserts cost about a quarter less when each follows its
    // neighbour in key order than when the prefixes alternate (measured, bench/prune.bench.mjs). The batch holds
    // the same keys either way, and it is atomic.
    for (let j = i; j < end; j++) batch.del(key(`H:${heights[j]}`))
    const hashKeys = hashesHex.slice(i, end).sort()
    for (const hash of hashKeys) batch.del(key(`BH:${hash}`))
    for (let j = i; j < end; j++) batch.del(key(`C:${heights[j]}`))
    for (let j = i; j < end; j++) {
      const h = heights[j] as number
      if (extendedCommits.has(h)) batch.del(key(`EC:${h}`))
    }
    for (let j = i; j < end; j++) {
      const h = heights[j] as number
      const total = partsTotal[j] as number
      for (let p = 0; p < total; p++) batch.del(key(`P:${h}:${p}`))
    }
    for (let j = i; j < end; j++) batch.del(key(`SC:${heights[j]}`))
    const last = end === heights.length
    const base = last ? o.untilHeight : Math.max(o.base, (heights[end - 1] as number) + 1)
    batch.put(BLOCK_STORE_STATE_KEY, Buffer.from(encodeBlockStoreState({ base, height: o.height })))
    if (inFlight !== null) await inFlight
    const done = end
    inFlight = batch.write().then(() => o.onBatch?.(done))
    i = end
  } while (i < heights.length)
  await inFlight
}

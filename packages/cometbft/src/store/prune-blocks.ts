/**
 * The block phase of the offline pruner: which blocks go (found by scanning, a pure function of the store and the
 * prune height) and the deletes, in batches that each carry the new `blockStore` base. Why it is done this way is
 * in the module comment of pruner.ts.
 */
import { decodeBlockMetaIds } from './block-messages.js'
import { PruneRefusedError, StoreCorruptionError } from './errors.js'
import { BLOCK_STORE_STATE_KEY } from './keys.js'
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
  /** `block_id.hash` of each height's meta (its `BH:` key). */
  hashes: Buffer[]
  /** `block_id.part_set_header.total` of each height's meta (its `P:h:0..total-1` keys). */
  partsTotal: number[]
  /** Heights below the prune height that have an `EC:` key. */
  extendedCommits: Set<number>
}

const CANONICAL_HEIGHT = /^[1-9][0-9]{0,15}$/

/** The height in a key `<prefix><h>` written by CometBFT (`%v`: no sign, no leading zeros), or null. */
export function heightAfterPrefix(key: Buffer, prefixLength: number): number | null {
  const digits = key.toString('latin1', prefixLength)
  if (!CANONICAL_HEIGHT.test(digits)) return null
  const h = Number(digits)
  return Number.isSafeInteger(h) ? h : null
}

/** Iterates `[gte, lt)` in pages (one native call per page instead of one per entry). */
export async function scanRange(
  db: Db,
  range: { gte: Buffer; lt: Buffer; values: boolean },
  onEntry: (key: Buffer, value: Buffer | undefined) => void,
): Promise<void> {
  const it = db.iterator({ gte: range.gte, lt: range.lt, keys: true, values: range.values })
  try {
    for (;;) {
      const page = await it.nextv(1000)
      if (page.length === 0) return
      for (const [key, value] of page) onEntry(key, value)
    }
  } finally {
    await it.close()
  }
}

/**
 * Every block below `untilHeight` that still has its meta (`H:h`), found by one range scan of the `H:` keys (not
 * by looping from the recorded base: see pruner.ts). CometBFT deletes a height's keys from its meta only (the `BH:`
 * key from its hash, the parts from its total), and so does the pruner; a height without a meta is skipped, as
 * CometBFT does ("assume already deleted"). Reads only.
 */
export async function findPrunableBlocks(blockDb: Db, untilHeight: number): Promise<PrunableBlocks> {
  const found: Array<{ height: number; hash: Buffer; partsTotal: number }> = []
  await scanRange(
    blockDb,
    { gte: Buffer.from('H:', 'latin1'), lt: Buffer.from('H;', 'latin1'), values: true },
    (key, value) => {
      const h = heightAfterPrefix(key, 2)
      if (h === null || h >= untilHeight || value === undefined) return
      const ids = decodeBlockMetaIds(value)
      if (ids.height !== h || ids.hash.length === 0) {
        throw new StoreCorruptionError(
          `H:${h} holds a block meta for height ${ids.height} (hash ${ids.hash.length} bytes)`,
        )
      }
      // A copy: the hash is a view into the meta, which is not kept.
      found.push({ height: h, hash: Buffer.from(ids.hash), partsTotal: ids.partsTotal })
    },
  )
  found.sort((a, b) => a.height - b.height)
  // `EC:` exists only with vote extensions (v0.38+); deleting it only where it exists saves a seventh of the
  // deletes on every other chain and leaves the same keys.
  const extendedCommits = new Set<number>()
  await scanRange(
    blockDb,
    { gte: Buffer.from('EC:', 'latin1'), lt: Buffer.from('EC;', 'latin1'), values: false },
    (key) => {
      const h = heightAfterPrefix(key, 3)
      if (h !== null && h < untilHeight) extendedCommits.add(h)
    },
  )
  return {
    heights: found.map((b) => b.height),
    hashes: found.map((b) => b.hash),
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
  const { heights, hashes, partsTotal, extendedCommits } = prunable
  if (heights.length === 0 && o.base === o.untilHeight) return
  let inFlight: Promise<void> | null = null
  let i = 0
  do {
    const end = Math.min(i + o.batchSize, heights.length)
    const batch = blockDb.batch()
    for (let j = i; j < end; j++) {
      const h = heights[j] as number
      batch.del(key(`H:${h}`))
      batch.del(key(`BH:${(hashes[j] as Buffer).toString('hex')}`))
      batch.del(key(`C:${h}`))
      batch.del(key(`SC:${h}`))
      if (extendedCommits.has(h)) batch.del(key(`EC:${h}`))
      const total = partsTotal[j] as number
      for (let p = 0; p < total; p++) batch.del(key(`P:${h}:${p}`))
    }
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

/**
 * The state phase of the offline pruner: CometBFT's PruneStates keep sets (cometbft.md §2.4, not materialised),
 * the state entries below the prune height found by scanning, and their deletion. Why by scanning and why after
 * the block phase: see the module comment of pruner.ts.
 */
import { PruneRefusedError } from './errors.js'
import { abciResponsesKey, consensusParamsKey, lastStoredHeightFor, validatorsKey } from './keys.js'
import { heightAfterPrefix, scanRange } from './prune-blocks.js'
import type { Db } from './prune-db.js'
import { decodeConsensusParamsInfo, decodeValidatorsInfo, isEmptyConsensusParams } from './state-messages.js'

/** The state entries below `to` that heights ≥ `to` still need. */
export interface StateKeepSets {
  validators: Set<number>
  consensusParams: Set<number>
}

/**
 * CometBFT's PruneStates keep sets for `to`, closed under pointers: when a kept height holds only a pointer, its
 * target is kept too (instead of materialising a full object there). They cover every height ≥ `to`, not just
 * `to`: `last_height_changed` never decreases with the height, so a later height's pointer below `to` leads to the
 * same change height and the same checkpoint. Refuses when `to` has no entries.
 */
export async function stateKeepSets(stateDb: Db, to: number): Promise<StateKeepSets> {
  const valRaw = await stateDb.get(validatorsKey(to))
  if (valRaw === undefined) throw new PruneRefusedError(`validators at height ${to} not found`)
  const paramsRaw = await stateDb.get(consensusParamsKey(to))
  if (paramsRaw === undefined) throw new PruneRefusedError(`consensus params at height ${to} not found`)

  const validators = new Set<number>()
  const pending: number[] = []
  const valInfo = decodeValidatorsInfo(valRaw)
  if (valInfo.validatorSet === null) {
    pending.push(valInfo.lastHeightChanged, lastStoredHeightFor(to, valInfo.lastHeightChanged))
  }
  for (let h = pending.pop(); h !== undefined; h = pending.pop()) {
    if (h >= to || validators.has(h)) continue
    validators.add(h)
    const raw = await stateDb.get(validatorsKey(h))
    if (raw === undefined) continue
    const info = decodeValidatorsInfo(raw)
    if (info.validatorSet === null) pending.push(lastStoredHeightFor(h, info.lastHeightChanged))
  }

  const consensusParams = new Set<number>()
  const paramsInfo = decodeConsensusParamsInfo(paramsRaw)
  let next = isEmptyConsensusParams(paramsInfo.consensusParams) ? paramsInfo.lastHeightChanged : null
  while (next !== null && next < to && !consensusParams.has(next)) {
    consensusParams.add(next)
    const raw = await stateDb.get(consensusParamsKey(next))
    if (raw === undefined) break
    const info = decodeConsensusParamsInfo(raw)
    next = isEmptyConsensusParams(info.consensusParams) ? info.lastHeightChanged : null
  }
  return { validators, consensusParams }
}

/** The state entries below a prune height that go, by height, ascending. */
export interface PrunableStates {
  /** Every height below the prune height with a `validatorsKey:` or `consensusParamsKey:` entry that goes, or a
   * kept height with an `abciResponsesKey:` entry. */
  heights: number[]
  /** Per height, which of its `validatorsKey:` ({@link GOES_VALIDATORS}) / `consensusParamsKey:`
   * ({@link GOES_PARAMS}) entries go; its `abciResponsesKey:` entry always goes. */
  goes: Uint8Array
  /** Distinct heights with at least one entry that goes (= heights.length). */
  heightCount: number
}

export const GOES_VALIDATORS = 1
export const GOES_PARAMS = 2

/** The key range of a prefix that ends in `:` (all of the pruner's do): `[prefix, prefix with ';' for ':')`. */
function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` }
}

/**
 * Appends to per-key-length lists and reads them back in numeric order. A range scan returns `<prefix><h>` keys
 * in byte order, where heights of the same number of digits are in numeric order (CometBFT writes no leading
 * zeros), so one list per digit count, concatenated from the shortest, is sorted without a sort or a Set.
 */
class ByDigits {
  private readonly lists: number[][] = []
  add(digits: number, height: number): void {
    let list = this.lists[digits]
    if (list === undefined) {
      list = []
      this.lists[digits] = list
    }
    list.push(height)
  }
  ascending(): number[] {
    const out: number[] = []
    for (const list of this.lists) if (list !== undefined) for (const h of list) out.push(h)
    return out
  }
}

/** The heights below `untilHeight` with a `<prefix><h>` key and not in `keep`, ascending (see ByDigits). */
async function heightsBelow(
  stateDb: Db,
  prefix: string,
  untilHeight: number,
  keep: ReadonlySet<number>,
): Promise<number[]> {
  const out = new ByDigits()
  await scanRange(stateDb, { ...prefixRange(prefix), values: false }, (key) => {
    const h = heightAfterPrefix(key, prefix.length)
    if (h !== null && h < untilHeight && !keep.has(h)) out.add(key.length - prefix.length, h)
  })
  return out.ascending()
}

/**
 * The state entries below `untilHeight` that go, found by range scans of the small `validatorsKey:` and
 * `consensusParamsKey:` entries (keys only). `abciResponsesKey:h` is not scanned (its values are KBs, so a scan
 * reads most of state.db): it goes at every height found, and at the kept heights. That finds every one of them,
 * because a node writes all three entries for every height, CometBFT's PruneStates deletes the three of a height
 * together, and so does {@link deleteStates} (one batch per group of whole heights): an `abciResponsesKey:h` below
 * the prune height without either sibling entry never exists. Reads only.
 */
export async function findPrunableStates(
  stateDb: Db,
  untilHeight: number,
  keep: StateKeepSets,
): Promise<PrunableStates> {
  const validators = await heightsBelow(stateDb, 'validatorsKey:', untilHeight, keep.validators)
  const consensusParams = await heightsBelow(
    stateDb,
    'consensusParamsKey:',
    untilHeight,
    keep.consensusParams,
  )
  // A kept height keeps its validators or params entry, but not its ABCI responses: those few are looked up, so
  // that a re-run does not count (and tombstone) them again.
  const keptWithResponses: number[] = []
  for (const h of new Set([...keep.validators, ...keep.consensusParams])) {
    if ((await stateDb.get(abciResponsesKey(h))) !== undefined) keptWithResponses.push(h)
  }
  keptWithResponses.sort((a, b) => a - b)
  // Merge of three ascending lists, with what goes at each height.
  const heights: number[] = []
  const goesList: number[] = []
  let v = 0
  let p = 0
  let k = 0
  for (;;) {
    const hv = validators[v] ?? Number.POSITIVE_INFINITY
    const hp = consensusParams[p] ?? Number.POSITIVE_INFINITY
    const hk = keptWithResponses[k] ?? Number.POSITIVE_INFINITY
    const h = Math.min(hv, hp, hk)
    if (h === Number.POSITIVE_INFINITY) break
    let goes = 0
    if (hv === h) {
      goes |= GOES_VALIDATORS
      v++
    }
    if (hp === h) {
      goes |= GOES_PARAMS
      p++
    }
    if (hk === h) k++
    heights.push(h)
    goesList.push(goes)
  }
  return { heights, goes: Uint8Array.from(goesList), heightCount: heights.length }
}

/** Keys as Buffers: per-op encoding options cost about 2.5× the CPU per delete (measured, bench/prune.bench.mjs). */
const key = (s: string): Buffer => Buffer.from(s, 'latin1')

/**
 * Deletes the entries of `prunable`, all entries of a height in the same batch (see {@link findPrunableStates}),
 * `batchSize` heights per batch. Any order of batches is correct (nothing at or above the prune height, nothing
 * a kept height needs); unsynced, the caller flushes afterwards.
 */
export async function deleteStates(
  stateDb: Db,
  prunable: PrunableStates,
  o: { batchSize: number; onBatch?: (done: number, total: number) => void },
): Promise<void> {
  const { heights, goes } = prunable
  let inFlight: Promise<void> | null = null
  for (let i = 0; i < heights.length; i += o.batchSize) {
    const end = Math.min(i + o.batchSize, heights.length)
    const batch = stateDb.batch()
    // One prefix after the other, each in key order: cheaper memtable inserts (see deleteBlocks), same batch.
    for (let j = i; j < end; j++) batch.del(key(`abciResponsesKey:${heights[j]}`))
    for (let j = i; j < end; j++) {
      if (((goes[j] as number) & GOES_PARAMS) !== 0) batch.del(key(`consensusParamsKey:${heights[j]}`))
    }
    for (let j = i; j < end; j++) {
      if (((goes[j] as number) & GOES_VALIDATORS) !== 0) batch.del(key(`validatorsKey:${heights[j]}`))
    }
    if (inFlight !== null) await inFlight
    inFlight = batch.write().then(() => o.onBatch?.(end, heights.length))
  }
  await inFlight
}

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
  /** Of those, the heights whose `validatorsKey:` / `consensusParamsKey:` entry goes. */
  validators: Set<number>
  consensusParams: Set<number>
  /** Distinct heights with at least one entry that goes (= heights.length). */
  heightCount: number
}

/** The key range of a prefix that ends in `:` (all of the pruner's do): `[prefix, prefix with ';' for ':')`. */
function prefixRange(prefix: string): { gte: string; lt: string } {
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` }
}

async function heightsBelow(stateDb: Db, prefix: string, untilHeight: number): Promise<Set<number>> {
  const out = new Set<number>()
  await scanRange(stateDb, { ...prefixRange(prefix), values: false }, (key) => {
    const h = heightAfterPrefix(key, prefix.length)
    if (h !== null && h < untilHeight) out.add(h)
  })
  return out
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
  const validators = await heightsBelow(stateDb, 'validatorsKey:', untilHeight)
  const consensusParams = await heightsBelow(stateDb, 'consensusParamsKey:', untilHeight)
  for (const h of keep.validators) validators.delete(h)
  for (const h of keep.consensusParams) consensusParams.delete(h)
  const all = new Set<number>([...validators, ...consensusParams])
  // A kept height keeps its validators or params entry, but not its ABCI responses: those few are looked up, so
  // that a re-run does not count (and tombstone) them again.
  for (const h of [...keep.validators, ...keep.consensusParams]) {
    if (!all.has(h) && (await stateDb.get(abciResponsesKey(h))) !== undefined) all.add(h)
  }
  const heights = [...all].sort((a, b) => a - b)
  return { heights, validators, consensusParams, heightCount: heights.length }
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
  const { heights, validators, consensusParams } = prunable
  let inFlight: Promise<void> | null = null
  for (let i = 0; i < heights.length; i += o.batchSize) {
    const end = Math.min(i + o.batchSize, heights.length)
    const batch = stateDb.batch()
    // One prefix after the other, each in key order: cheaper memtable inserts (see deleteBlocks), same batch.
    for (let j = i; j < end; j++) batch.del(key(`abciResponsesKey:${heights[j]}`))
    for (let j = i; j < end; j++) {
      const h = heights[j] as number
      if (consensusParams.has(h)) batch.del(key(`consensusParamsKey:${h}`))
    }
    for (let j = i; j < end; j++) {
      const h = heights[j] as number
      if (validators.has(h)) batch.del(key(`validatorsKey:${h}`))
    }
    if (inFlight !== null) await inFlight
    inFlight = batch.write().then(() => o.onBatch?.(end, heights.length))
  }
  await inFlight
}

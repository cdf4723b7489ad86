/**
 * The offline pruner: deletes blocks and states below a height directly in a stopped node's `blockstore.db` and
 * `state.db`, with CometBFT v0.34/v0.37 semantics (cometbft.md §1.5 PruneBlocks, §2.4 PruneStates, §7) — the
 * semantics of KYVE's supervysor, which calls `PruneBlocks(H)` then `PruneStates(base, H)` offline.
 *
 * Result, for `H = untilHeight` and `B` = the block store base before pruning:
 * - blocks: for h in [B, H): `H:h`, `P:h:*`, `C:h`, `SC:h`, `EC:h`, `BH:<hash>` deleted; `blockStore.base` = H,
 *   `height` unchanged. `C:(B-1)` is never touched (CometBFT leaves it too).
 * - states: for h in [B, H): `abciResponsesKey:h` deleted; `validatorsKey:h` / `consensusParamsKey:h` deleted
 *   unless in the keep sets derived from height H (the full objects H's pointers lead to). `stateKey`,
 *   `lastABCIResponseKey`, `genesisDoc`, and everything at or above H are never touched.
 *
 * Decisions that differ from CometBFT, and why:
 * - Order and crash safety. CometBFT prunes all blocks, then all states; a crash after the blocks leaves base = H,
 *   so the states would never be revisited. Here the heights are processed in ascending chunks of `batchSize`:
 *   first the chunk's states (written with sync), then the chunk's blocks together with the new base in one atomic
 *   batch. A run killed anywhere leaves base at the start of the first unfinished chunk and only that chunk's states
 *   possibly gone; the next run (same H) redoes it and ends with exactly the keys of an uninterrupted run. Deleting
 *   an absent key is harmless, and the keep sets depend on H only.
 * - Intermediate base = first height not yet deleted (CometBFT writes the last deleted height, an off-by-one).
 * - Kept heights are not materialised. CometBFT rewrites a kept pointer entry as a full set (which needs its
 *   `IncrementProposerPriority`); we keep the entry and whatever it points to instead (following pointers until a
 *   full object), which leaves every height ≥ H loadable with nothing rewritten.
 * - v0.38+ evidence retention (keeping H:/C: and validator sets of unexpired evidence) is not replicated, like
 *   supervysor; all three of v0.34, v0.37, v0.38 store formats prune correctly by key.
 * - The node must be stopped. Both LOCK files are flock()ed for the whole run (goleveldb cannot start meanwhile) and
 *   the databases are opened with classic-level (refused when another C++ LevelDB holds them): see lock.ts.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { ClassicLevel } from 'classic-level'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import { decodeBlockMetaIds } from './block-messages.js'
import { DatabaseLockedError, PruneRefusedError, StoreCorruptionError, StoreNotFoundError } from './errors.js'
import {
  abciResponsesKey,
  BLOCK_STORE_STATE_KEY,
  blockCommitKey,
  blockHashKey,
  blockMetaKey,
  blockPartKey,
  consensusParamsKey,
  extendedCommitKey,
  lastStoredHeightFor,
  seenCommitKey,
  VERSION_KEY,
  validatorsKey,
} from './keys.js'
import { type FlockHold, holdFlock } from './lock.js'
import {
  type BlockStoreState,
  decodeBlockStoreState,
  decodeConsensusParamsInfo,
  decodeValidatorsInfo,
  encodeBlockStoreState,
  isEmptyConsensusParams,
} from './state-messages.js'

type Db = ClassicLevel<Buffer, Buffer>

/** Progress of {@link pruneHome}: `done` of `total` heights (blocks, states) or databases (compact). */
export interface PruneProgress {
  phase: 'blocks' | 'states' | 'compact'
  done: number
  total: number
}

/** Options of {@link pruneHome}. */
export interface PruneOptions {
  /** The node's home directory (holds `config/config.toml` and, by default, `data/`). */
  home: string
  /** Delete everything below this height; this height is kept (CometBFT `PruneBlocks(H)`). */
  untilHeight: number
  /** Also prune state.db (`PruneStates(base, H)`). @default true */
  statePruning?: boolean
  /** Compact both databases over the full key range afterwards (supervysor's `ForceCompact`). @default false */
  forceCompact?: boolean
  /** Called after every written batch. An exception aborts the prune (what is written stays consistent). */
  onProgress?: (progress: PruneProgress) => void
  /** Heights per batch. @default 1000 (CometBFT's flush interval) */
  batchSize?: number
}

/** What {@link pruneHome} did. */
export interface PruneResult {
  /** Block store base before. */
  fromBase: number
  /** Block store base after (= untilHeight unless noop). */
  toBase: number
  /** Block store height (unchanged). */
  height: number
  /** Heights whose block was deleted (heights without a block meta are skipped, as CometBFT does). */
  blocksPruned: number
  /** Heights whose state entries were processed. */
  statesPruned: number
  /** On-disk bytes of blockstore.db + state.db before and after (after compaction when forced). */
  bytesBefore: number
  bytesAfter: number
  durationMs: number
  /** True when there was nothing to do (untilHeight == base). */
  noop: boolean
  /** State heights below untilHeight that were kept because heights ≥ untilHeight still need them. */
  kept: { validators: number[]; consensusParams: number[] }
  /** The databases that were pruned. */
  dataDir: string
}

const optionsSchema = z.object({
  home: z.string().min(1),
  untilHeight: z.number().int().refine(Number.isSafeInteger, 'must be a safe integer'),
  statePruning: z.boolean().optional(),
  forceCompact: z.boolean().optional(),
  batchSize: z.number().int().positive().max(1_000_000).optional(),
})

const configSchema = z.looseObject({
  db_backend: z.string().optional(),
  db_dir: z.string().min(1).optional(),
})

/**
 * The data directory of a node home: `db_dir` of `config/config.toml` (relative to home unless absolute; default
 * `data`). Refuses a `db_backend` other than goleveldb.
 */
export async function resolveDataDir(home: string): Promise<string> {
  const configPath = path.join(home, 'config', 'config.toml')
  let text: string
  try {
    text = await readFile(configPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path.join(home, 'data')
    throw new PruneRefusedError(`cannot read ${configPath}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = parseToml(text)
  } catch (error) {
    throw new PruneRefusedError(`${configPath} is not valid TOML: ${(error as Error).message}`)
  }
  const result = configSchema.safeParse(parsed)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new PruneRefusedError(
      `${configPath}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
    )
  }
  const backend = result.data.db_backend ?? 'goleveldb'
  if (backend !== 'goleveldb') {
    throw new PruneRefusedError(
      `${configPath}: db_backend = "${backend}"; only goleveldb databases can be pruned offline by ghostfleet`,
    )
  }
  const dbDir = result.data.db_dir ?? 'data'
  return path.isAbsolute(dbDir) ? dbDir : path.join(home, dbDir)
}

/** Total size in bytes of the files directly inside `dir` (LevelDB directories are flat). */
export async function databaseBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    try {
      total += (await stat(path.join(dir, entry.name))).size
    } catch {
      // A file removed by compaction between readdir and stat.
    }
  }
  return total
}

async function openForPrune(location: string): Promise<Db> {
  const db = new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  try {
    await db.open()
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
    if (/\block\b/i.test(cause)) {
      throw new DatabaseLockedError(`${location} is locked by another process (fcntl): ${cause}`, location)
    }
    throw new PruneRefusedError(`cannot open ${location}: ${cause}`)
  }
  return db
}

async function checkLayout(db: Db, location: string): Promise<void> {
  const version = await db.get(VERSION_KEY)
  if (version === undefined) return
  const text = version.toString('latin1')
  if (text === 'v1') return
  if (text === 'v2') {
    throw new PruneRefusedError(
      `${location} uses CometBFT's "v2" (orderedcode) key layout; only the legacy "v1" layout can be pruned`,
    )
  }
  throw new PruneRefusedError(`${location} has an unknown key layout version ${JSON.stringify(text)}`)
}

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

/** The state entries below `to` that heights ≥ `to` still need. */
export interface StateKeepSets {
  validators: Set<number>
  consensusParams: Set<number>
}

/**
 * CometBFT's PruneStates keep sets for `to`, closed under pointers: when a kept height holds only a pointer, its
 * target is kept too (instead of materialising a full object there). Refuses when `to` has no entries.
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
  while (pending.length > 0) {
    const h = pending.pop()!
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

/** Deletes the state entries of heights [from, to) except the keep sets, in one batch. */
async function pruneStateChunk(stateDb: Db, from: number, to: number, keep: StateKeepSets): Promise<void> {
  const batch = stateDb.batch()
  for (let h = from; h < to; h++) {
    if (!keep.validators.has(h)) batch.del(validatorsKey(h))
    if (!keep.consensusParams.has(h)) batch.del(consensusParamsKey(h))
    batch.del(abciResponsesKey(h))
  }
  // Synced before the block batch that moves the base past these heights: after a power loss the base can only
  // be behind the state deletions, never ahead of them.
  await batch.write({ sync: true })
}

/**
 * Deletes the blocks of heights [from, to) and sets `blockStore` to {base: to, height} in one atomic batch.
 * Returns how many heights had a block.
 */
async function pruneBlockChunk(
  blockDb: Db,
  from: number,
  to: number,
  height: number,
  sync: boolean,
): Promise<number> {
  const heights = Array.from({ length: to - from }, (_, i) => from + i)
  const metas = await blockDb.getMany(heights.map(blockMetaKey))
  const batch = blockDb.batch()
  let pruned = 0
  for (let i = 0; i < heights.length; i++) {
    const h = heights[i]!
    const meta = metas[i]
    if (meta === undefined) continue // "assume already deleted", as CometBFT does
    const ids = decodeBlockMetaIds(meta)
    if (ids.height !== h || ids.hash.length === 0) {
      throw new StoreCorruptionError(
        `H:${h} holds a block meta for height ${ids.height} (hash ${ids.hash.length} bytes)`,
      )
    }
    batch.del(blockMetaKey(h))
    batch.del(blockHashKey(ids.hash))
    batch.del(blockCommitKey(h))
    batch.del(seenCommitKey(h))
    batch.del(extendedCommitKey(h))
    for (let p = 0; p < ids.partsTotal; p++) batch.del(blockPartKey(h, p))
    pruned++
  }
  batch.put(BLOCK_STORE_STATE_KEY, Buffer.from(encodeBlockStoreState({ base: to, height })))
  await batch.write({ sync })
  return pruned
}

/** Options shared by {@link pruneBlocks} and {@link pruneStates}. */
export interface PruneStepOptions {
  batchSize?: number
  onBatch?: (done: number, total: number) => void
}

/**
 * CometBFT `PruneBlocks(height)` on an open block store (no state pruning, no locking: the caller owns the
 * database). Returns the number of heights whose block was deleted.
 */
export async function pruneBlocks(
  blockDb: Db,
  height: number,
  options: PruneStepOptions = {},
): Promise<number> {
  const bs = await loadBlockStoreState(blockDb)
  checkPruneHeight(height, bs)
  const batchSize = options.batchSize ?? 1000
  let pruned = 0
  for (let from = bs.base; from < height; from += batchSize) {
    const to = Math.min(from + batchSize, height)
    pruned += await pruneBlockChunk(blockDb, from, to, bs.height, to === height)
    options.onBatch?.(to - bs.base, height - bs.base)
  }
  return pruned
}

/**
 * CometBFT `PruneStates(from, to)` on an open state store (keep sets per §2.4, not materialised: see the module
 * comment). Returns the number of heights processed.
 */
export async function pruneStates(
  stateDb: Db,
  from: number,
  to: number,
  options: PruneStepOptions = {},
): Promise<number> {
  if (from <= 0 || to <= 0)
    throw new PruneRefusedError(`from height ${from} and to height ${to} must be greater than 0`)
  if (from >= to) throw new PruneRefusedError(`from height ${from} must be lower than to height ${to}`)
  const keep = await stateKeepSets(stateDb, to)
  const batchSize = options.batchSize ?? 1000
  for (let a = from; a < to; a += batchSize) {
    const b = Math.min(a + batchSize, to)
    await pruneStateChunk(stateDb, a, b, keep)
    options.onBatch?.(b - from, to - from)
  }
  return to - from
}

async function statDbDir(location: string): Promise<void> {
  try {
    await stat(path.join(location, 'CURRENT'))
  } catch {
    throw new StoreNotFoundError(`no LevelDB database at ${location} (CURRENT missing)`, location)
  }
}

/**
 * Prunes a stopped node's block store and state store below `untilHeight` (see the module comment for exactly what
 * is deleted and why it is crash-safe and re-runnable). Refuses — changing nothing — a running node (either lock),
 * a missing database, the v2 key layout, a non-goleveldb backend, and heights CometBFT would refuse.
 */
export async function pruneHome(options: PruneOptions): Promise<PruneResult> {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new PruneRefusedError(
      `invalid prune options: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`,
    )
  }
  const started = performance.now()
  const { untilHeight } = options
  const statePruning = options.statePruning ?? true
  const batchSize = options.batchSize ?? 1000
  const dataDir = await resolveDataDir(options.home)
  const blockPath = path.join(dataDir, 'blockstore.db')
  const statePath = path.join(dataDir, 'state.db')
  await statDbDir(blockPath)
  await statDbDir(statePath)

  const holds: FlockHold[] = []
  const dbs: Db[] = []
  try {
    for (const location of [blockPath, statePath]) {
      const lockPath = path.join(location, 'LOCK')
      const hold = await holdFlock(lockPath)
      if (hold === null) {
        throw new DatabaseLockedError(
          `${lockPath} is flock()ed by another process: stop the node before pruning`,
          location,
        )
      }
      holds.push(hold)
    }
    const blockDb = await openForPrune(blockPath)
    dbs.push(blockDb)
    const stateDb = await openForPrune(statePath)
    dbs.push(stateDb)
    await checkLayout(blockDb, blockPath)
    await checkLayout(stateDb, statePath)

    const bs = await loadBlockStoreState(blockDb)
    checkPruneHeight(untilHeight, bs)
    const bytesBefore = (await databaseBytes(blockPath)) + (await databaseBytes(statePath))
    const result: PruneResult = {
      fromBase: bs.base,
      toBase: bs.base,
      height: bs.height,
      blocksPruned: 0,
      statesPruned: 0,
      bytesBefore,
      bytesAfter: bytesBefore,
      durationMs: 0,
      noop: untilHeight === bs.base,
      kept: { validators: [], consensusParams: [] },
      dataDir,
    }
    if (!result.noop) {
      // Computed (and `to`'s entries verified) before anything is deleted.
      const keep = statePruning ? await stateKeepSets(stateDb, untilHeight) : null
      if (keep !== null) {
        result.kept = {
          validators: [...keep.validators].filter((h) => h >= bs.base).sort((a, b) => a - b),
          consensusParams: [...keep.consensusParams].filter((h) => h >= bs.base).sort((a, b) => a - b),
        }
      }
      const total = untilHeight - bs.base
      for (let from = bs.base; from < untilHeight; from += batchSize) {
        const to = Math.min(from + batchSize, untilHeight)
        if (keep !== null) {
          await pruneStateChunk(stateDb, from, to, keep)
          result.statesPruned += to - from
          options.onProgress?.({ phase: 'states', done: to - bs.base, total })
        }
        result.blocksPruned += await pruneBlockChunk(blockDb, from, to, bs.height, to === untilHeight)
        result.toBase = to
        options.onProgress?.({ phase: 'blocks', done: to - bs.base, total })
      }
    }
    if (options.forceCompact) {
      options.onProgress?.({ phase: 'compact', done: 0, total: 2 })
      await blockDb.compactRange(Buffer.from([0x00]), Buffer.from([0xff, 0xff]))
      options.onProgress?.({ phase: 'compact', done: 1, total: 2 })
      await stateDb.compactRange(Buffer.from([0x00]), Buffer.from([0xff, 0xff]))
      options.onProgress?.({ phase: 'compact', done: 2, total: 2 })
    }
    result.bytesAfter = (await databaseBytes(blockPath)) + (await databaseBytes(statePath))
    result.durationMs = performance.now() - started
    return result
  } finally {
    await Promise.allSettled(dbs.map((db) => db.close()))
    for (const hold of holds) await hold.release()
  }
}

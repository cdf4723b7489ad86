/**
 * The simulated node's block store and state store: `<dataDir>/blockstore.db` and `<dataDir>/state.db` with the
 * exact keys and values CometBFT v0.37 writes, so the pruner, goleveldb and real tooling
 * see what a real node leaves on disk.
 *
 * This is the store of a *simulated* node only: on a writable open it repairs an interrupted append by truncating
 * blocks the state store has not caught up with (a real node would replay them instead).
 */
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import {
  type ABCIResponses,
  abciResponsesKey,
  BLOCK_STORE_STATE_KEY,
  type Block,
  type BlockID,
  type BlockMeta,
  type BlockStoreState,
  blockCommitKey,
  blockHashKey,
  blockMetaKey,
  blockPartKey,
  type Commit,
  type ConsensusParams,
  consensusParamsKey,
  DatabaseLockedError,
  decodeABCIResponses,
  decodeBlock,
  decodeBlockMeta,
  decodeBlockMetaIds,
  decodeBlockStoreState,
  decodeCommit,
  decodeConsensusParamsInfo,
  decodePart,
  decodeState,
  decodeValidatorsInfo,
  defaultConsensusParams,
  emptyBlockId,
  emptyConsensusParams,
  encodeABCIResponses,
  encodeABCIResponsesInfoRaw,
  encodeBlockMetaWithHeaderBytes,
  encodeBlockStoreState,
  encodeCommit,
  encodeConsensusParamsInfo,
  encodeHeightValue,
  encodePart,
  encodeState,
  encodeValidatorsInfo,
  extractLastCommitBytes,
  type Header,
  isEmptyConsensusParams,
  LAST_ABCI_RESPONSE_KEY,
  lastStoredHeightFor,
  merkleRoot,
  pathExists,
  resultsHash,
  STATE_KEY,
  type State,
  StoreCorruptionError,
  StoreNotFoundError,
  seenCommitKey,
  splitEncodedBlock,
  type Timestamp,
  timestampFromDate,
  VALSET_CHECKPOINT_INTERVAL,
  type ValidatorSet,
  validatorsKey,
} from '@ghostfleet/cometbft'
import { ClassicLevel } from 'classic-level'
import { ChainStoreError } from '../errors.js'
import {
  BLOCK_PROTOCOL_VERSION,
  defaultBlockResults,
  makeBlockParts,
  makeSyntheticCommit,
  sameConsensusParams,
  sameValidatorSet,
  syntheticAppHash,
  validatorUpdatesBetween,
} from './synthetic.js'

/** `State.version.software` written by the simulated node. */
export const SIMULATED_SOFTWARE_VERSION = '0.37.18'

type Db = ClassicLevel<Buffer, Buffer>

/** Options of {@link ChainStore.open}. */
export interface ChainStoreOpenOptions {
  /** Create missing databases (and `dataDir`). @default false: a missing store is an error naming the path. */
  create?: boolean
  /**
   * Refuse every write and skip the open-time repair. LevelDB has no read-only mode: the databases' LOCK files
   * are still held until {@link ChainStore.close}.
   */
  readOnly?: boolean
}

/** What the first append into an empty store needs: CometBFT's genesis state. */
export interface ChainGenesis {
  chainId: string
  /** @default the first appended block's height */
  initialHeight?: number
  genesisTime: Date | Timestamp
  validators: ValidatorSet
  /** @default CometBFT's DefaultConsensusParams() */
  consensusParams?: ConsensusParams
  /** The genesis app hash (header of the initial block). @default empty */
  appHash?: Uint8Array
}

/** One block for {@link ChainStore.appendBlocks}. */
export interface AppendBlockInput {
  block: Block
  /** Part size for the part set (CometBFT: 65536, {@link BLOCK_PART_SIZE_BYTES}). */
  partSize: number
  /** Results stored under `abciResponsesKey:<h>`. @default one successful DeliverTx per tx, no events */
  results?: ABCIResponses
  /**
   * The seen commit stored under `SC:<h>`. It should equal the next block's `last_commit`.
   * @default {@link makeSyntheticCommit} by this height's validators, timestamped with the block's time
   */
  seenCommit?: Commit
  /**
   * The complete validator set that this block's EndBlock switches to. CometBFT applies validator updates two
   * heights later: `last_height_validators_changed` becomes h+2 and the full set is stored at `validatorsKey:<h+2>`.
   * Ignored when equal to the current next set.
   */
  validatorSetUpdate?: ValidatorSet
  /**
   * The complete consensus params this block's EndBlock switches to: they apply from h+1
   * (`last_height_consensus_params_changed` = h+1, full params at `consensusParamsKey:<h+1>`). Ignored when equal.
   */
  consensusParamsUpdate?: ConsensusParams
  /** The app hash after executing this block (state.app_hash). @default {@link syntheticAppHash}(chainId, h) */
  appHash?: Uint8Array
}

/** Options of {@link ChainStore.appendBlocks} and {@link ChainStore.appendRawBlocks}. */
export interface AppendOptions {
  /** fsync both batches. @default false (a killed process keeps its writes; only power loss can lose them) */
  sync?: boolean
  /** Required when the store is empty; ignored otherwise (its chain id must match). */
  genesis?: ChainGenesis
}

/**
 * A stored block as raw database values, to be copied byte for byte by a syncing peer
 * ({@link ChainStore.appendRawBlocks}).
 */
export interface RawBlock {
  height: number
  /** `H:<h>` */
  blockMeta: Buffer
  /** `P:<h>:<i>` in index order */
  parts: Buffer[]
  /** `SC:<h>` */
  seenCommit: Buffer
  /** `abciResponsesKey:<h>`, null when absent */
  results: Buffer | null
  /** `validatorsKey:<h+2>` (written when h was committed): tells a follower whether block h changed the validators. */
  nextValidatorsInfo: Buffer
  /** `consensusParamsKey:<h+1>`: tells a follower whether block h changed the consensus params. */
  nextConsensusParamsInfo: Buffer
}

/** A block and its meta as loaded by {@link ChainStore.loadBlock}. */
export interface LoadedBlock {
  meta: BlockMeta
  block: Block
}

interface PreparedBlock {
  height: number
  header: Header
  blockId: BlockID
  metaBytes: Uint8Array
  partBytes: Uint8Array[]
  seenCommitBytes: Uint8Array
  lastCommitBytes: Uint8Array
  resultsBytes: Uint8Array
  resultsHash: Uint8Array
  validatorSetUpdate: ValidatorSet | undefined
  consensusParamsUpdate: ConsensusParams | undefined
  appHash: Uint8Array
}

const EMPTY_BLOCK_STORE: BlockStoreState = { base: 0, height: 0 }

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length)
}

function sameBlockId(a: BlockID, b: BlockID): boolean {
  return (
    Buffer.compare(a.hash, b.hash) === 0 &&
    a.partSetHeader.total === b.partSetHeader.total &&
    Buffer.compare(a.partSetHeader.hash, b.partSetHeader.hash) === 0
  )
}

function hex(b: Uint8Array): string {
  return toBuffer(b).toString('hex')
}

async function openDb(location: string, create: boolean): Promise<Db> {
  const db = new ClassicLevel<Buffer, Buffer>(location, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    createIfMissing: create,
    // Bigger than LevelDB's 4 MiB default: bulk generation writes thousands of blocks per batch. Does not affect
    // the on-disk format.
    writeBufferSize: 16 * 1024 * 1024,
  })
  try {
    await db.open()
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)
    if (/lock/i.test(cause)) {
      throw new DatabaseLockedError(`${location} is locked by another process: ${cause}`, location)
    }
    throw new ChainStoreError(`cannot open ${location}: ${cause}`, { cause: error })
  }
  return db
}

/**
 * CometBFT v0.37 block store + state store of one (simulated) node.
 *
 * ```ts
 * const store = await ChainStore.open(dataDir, { create: true })
 * await store.appendBlocks(inputs, { genesis })   // one LevelDB batch per database per call
 * const b = await store.loadBlock(store.height())
 * await store.close()
 * ```
 */
export class ChainStore {
  private bs: BlockStoreState
  private state: State | null
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private broken: Error | null = null

  private constructor(
    readonly dataDir: string,
    private readonly blockDb: Db,
    private readonly stateDb: Db,
    private readonly readOnly: boolean,
    bs: BlockStoreState,
    state: State | null,
  ) {
    this.bs = bs
    this.state = state
  }

  /**
   * Opens (or with `create`, creates) the store under `dataDir`. Reads `blockStore` and `stateKey` afresh, so a
   * base moved by an offline pruner is respected. Holds both LevelDB LOCKs until {@link close}.
   */
  static async open(dataDir: string, options: ChainStoreOpenOptions = {}): Promise<ChainStore> {
    const create = options.create ?? false
    const readOnly = options.readOnly ?? false
    if (create && readOnly)
      throw new ChainStoreError('ChainStore.open: create and readOnly exclude each other')
    const blockPath = path.join(dataDir, 'blockstore.db')
    const statePath = path.join(dataDir, 'state.db')
    if (!create) {
      for (const p of [blockPath, statePath]) {
        if (!(await pathExists(path.join(p, 'CURRENT')))) {
          throw new StoreNotFoundError(`no LevelDB database at ${p} (pass { create: true } to create one)`, p)
        }
      }
    } else {
      await mkdir(dataDir, { recursive: true })
    }
    const blockDb = await openDb(blockPath, create)
    let stateDb: Db
    try {
      stateDb = await openDb(statePath, create)
    } catch (error) {
      await blockDb.close()
      throw error
    }
    try {
      const bsBytes = await blockDb.get(BLOCK_STORE_STATE_KEY)
      const bs =
        bsBytes === undefined || bsBytes.length === 0
          ? { ...EMPTY_BLOCK_STORE }
          : decodeBlockStoreState(bsBytes)
      const stateBytes = await stateDb.get(STATE_KEY)
      const state = stateBytes === undefined ? null : decodeState(stateBytes)
      const store = new ChainStore(dataDir, blockDb, stateDb, readOnly, bs, state)
      if (!readOnly) await store.repair()
      return store
    } catch (error) {
      await Promise.allSettled([blockDb.close(), stateDb.close()])
      throw error
    }
  }

  /** Lowest stored height (0 when empty). */
  base(): number {
    return this.bs.base
  }

  /** Highest stored height (0 when empty). */
  height(): number {
    return this.bs.height
  }

  /** Location of `blockstore.db`. */
  get blockStorePath(): string {
    return path.join(this.dataDir, 'blockstore.db')
  }

  /** Location of `state.db`. */
  get stateStorePath(): string {
    return path.join(this.dataDir, 'state.db')
  }

  private checkOpen(): void {
    if (this.closed) throw new ChainStoreError(`ChainStore ${this.dataDir} is closed`)
  }

  private checkWritable(): void {
    this.checkOpen()
    if (this.readOnly) throw new ChainStoreError(`ChainStore ${this.dataDir} was opened read-only`)
    if (this.broken !== null) {
      throw new ChainStoreError(`ChainStore ${this.dataDir} failed a write; reopen it to repair`, {
        cause: this.broken,
      })
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /**
   * Blocks are written before the state (as CometBFT does), in two batches; a crash in between leaves blocks the
   * state has not seen. They are dropped here, so the store is always a consistent prefix of the chain.
   */
  private async repair(): Promise<void> {
    const stateHeight = this.state?.lastBlockHeight ?? 0
    if (this.bs.height === stateHeight) return
    if (this.bs.height < stateHeight) {
      throw new StoreCorruptionError(
        `${this.dataDir}: block store height ${this.bs.height} is below the state height ${stateHeight}`,
      )
    }
    const batch = this.blockDb.batch()
    const lowest = Math.max(stateHeight + 1, this.bs.base)
    for (let h = this.bs.height; h >= lowest; h--) {
      const meta = await this.blockDb.get(blockMetaKey(h))
      if (meta !== undefined) {
        const ids = decodeBlockMetaIds(meta)
        batch.del(blockHashKey(ids.hash))
        for (let i = 0; i < ids.partsTotal; i++) batch.del(blockPartKey(h, i))
      }
      batch.del(blockMetaKey(h))
      batch.del(seenCommitKey(h))
      batch.del(blockCommitKey(h - 1))
    }
    if (stateHeight < this.bs.base) {
      batch.del(BLOCK_STORE_STATE_KEY)
      this.bs = { ...EMPTY_BLOCK_STORE }
    } else {
      this.bs = { base: this.bs.base, height: stateHeight }
      batch.put(BLOCK_STORE_STATE_KEY, toBuffer(encodeBlockStoreState(this.bs)))
    }
    await batch.write({ sync: true })
  }

  /**
   * Appends contiguous blocks, writing exactly what CometBFT's `SaveBlock` writes for each (`P:h:i`, `H:h`,
   * `BH:<hash>`, `C:<h-1>` = the block's last commit, `SC:h`, `blockStore`) and what `state.Save` and
   * `SaveABCIResponses` write after executing it (`abciResponsesKey:h`, `validatorsKey:<h+2>`,
   * `consensusParamsKey:<h+1>`, `lastABCIResponseKey`, `stateKey`), in one batch per database per call.
   * Keys overwritten at every height (`blockStore`, `stateKey`, `lastABCIResponseKey`) are written once per call
   * with their final value: the result on disk is the same.
   */
  appendBlocks(blocks: readonly AppendBlockInput[], options: AppendOptions = {}): Promise<void> {
    return this.append(
      blocks,
      (first) => first.block.header,
      (state, input) => this.prepareBlock(state, input),
      options,
    )
  }

  /**
   * Appends blocks copied from another store ({@link loadRawBlock}): the block store values are written byte for
   * byte; the state store entries are derived as {@link appendBlocks} does, which reproduces the source's bytes
   * (the app hash follows the {@link syntheticAppHash} rule).
   */
  appendRawBlocks(blocks: readonly RawBlock[], options: AppendOptions = {}): Promise<void> {
    return this.append(
      blocks,
      (first) => decodeBlockMeta(first.blockMeta).header,
      (state, raw) => this.prepareRawBlock(state, raw),
      options,
    )
  }

  /** Prepares each block against the state the previous one leaves, then writes them all in {@link commit}. */
  private append<T>(
    blocks: readonly T[],
    headerOf: (first: T) => Header,
    prepare: (state: State, block: T) => PreparedBlock,
    options: AppendOptions,
  ): Promise<void> {
    return this.exclusive(async () => {
      this.checkWritable()
      if (blocks.length === 0) return
      const start = this.genesisStateFor(headerOf(blocks[0]!), options.genesis)
      let state = start
      const prepared: PreparedBlock[] = []
      const states: State[] = []
      for (const block of blocks) {
        const p = prepare(state, block)
        state = this.nextState(state, p)
        prepared.push(p)
        states.push(state)
      }
      await this.commit(start, prepared, states, options)
    })
  }

  /** The current state, or a genesis state when the store is empty. */
  private genesisStateFor(firstHeader: Header, genesis: ChainGenesis | undefined): State {
    if (this.state !== null) {
      if (genesis !== undefined && genesis.chainId !== this.state.chainId) {
        throw new ChainStoreError(
          `genesis chain id ${genesis.chainId} differs from the store's ${this.state.chainId}`,
        )
      }
      return this.state
    }
    if (genesis === undefined) {
      throw new ChainStoreError(`${this.dataDir} is empty: the first append must pass options.genesis`)
    }
    const initialHeight = genesis.initialHeight ?? firstHeader.height
    if (!Number.isSafeInteger(initialHeight) || initialHeight < 1) {
      throw new ChainStoreError(`genesis initial height ${initialHeight} must be a positive integer`)
    }
    return {
      version: { consensus: { block: BLOCK_PROTOCOL_VERSION, app: 0 }, software: SIMULATED_SOFTWARE_VERSION },
      chainId: genesis.chainId,
      initialHeight,
      lastBlockHeight: 0,
      lastBlockId: emptyBlockId(),
      lastBlockTime:
        genesis.genesisTime instanceof Date ? timestampFromDate(genesis.genesisTime) : genesis.genesisTime,
      nextValidators: genesis.validators,
      validators: genesis.validators,
      lastValidators: null,
      lastHeightValidatorsChanged: initialHeight,
      consensusParams: genesis.consensusParams ?? defaultConsensusParams(),
      lastHeightConsensusParamsChanged: initialHeight,
      lastResultsHash: new Uint8Array(0),
      appHash: genesis.appHash ?? new Uint8Array(0),
    }
  }

  private expectedHeight(state: State): number {
    return state.lastBlockHeight === 0 ? state.initialHeight : state.lastBlockHeight + 1
  }

  private checkHeader(state: State, header: Header, blockId: BlockID): void {
    const want = this.expectedHeight(state)
    if (header.height !== want) {
      throw new ChainStoreError(
        `cannot append block ${header.height}: blocks must be contiguous, the next height is ${want}`,
      )
    }
    if (header.chainId !== state.chainId) {
      throw new ChainStoreError(
        `block ${header.height} has chain id ${header.chainId}, the store holds ${state.chainId}`,
      )
    }
    if (!sameBlockId(header.lastBlockId, state.lastBlockId)) {
      throw new ChainStoreError(
        `block ${header.height} points at last block ${hex(header.lastBlockId.hash)}, ` +
          `but the stored block ${state.lastBlockHeight} is ${hex(state.lastBlockId.hash)}`,
      )
    }
    if (blockId.hash.length !== 32) {
      throw new ChainStoreError(`block ${header.height} has no 32-byte hash (empty validators_hash?)`)
    }
  }

  private prepareBlock(state: State, input: AppendBlockInput): PreparedBlock {
    const { block } = input
    const height = block.header.height
    if (block.lastCommit === null) {
      throw new ChainStoreError(`block ${height} has no last_commit (CometBFT blocks always carry one)`)
    }
    const { blockId, blockBytes, parts } = makeBlockParts(block, input.partSize)
    this.checkHeader(state, block.header, blockId)
    // Header and last commit as they appear inside the block encoding: equal to encoding them again, cheaper.
    const inner = splitEncodedBlock(blockBytes)
    const validators = state.validators
    if (validators === null) throw new StoreCorruptionError(`${this.dataDir}: state has no validators`)
    const seenCommit =
      input.seenCommit ??
      makeSyntheticCommit({
        chainId: state.chainId,
        height,
        blockId,
        validators,
        timestamp: block.header.time,
      })
    const results =
      input.results ??
      defaultBlockResults(
        block.data.txs.length,
        input.validatorSetUpdate !== undefined && state.nextValidators !== null
          ? validatorUpdatesBetween(state.nextValidators, input.validatorSetUpdate)
          : [],
        input.consensusParamsUpdate ?? null,
      )
    return {
      height,
      header: block.header,
      blockId,
      metaBytes: encodeBlockMetaWithHeaderBytes(
        blockId,
        blockBytes.length,
        inner.header,
        block.data.txs.length,
      ),
      partBytes: parts.map(encodePart),
      seenCommitBytes: encodeCommit(seenCommit),
      lastCommitBytes: inner.lastCommit ?? encodeCommit(block.lastCommit),
      resultsBytes: encodeABCIResponses(results),
      resultsHash: resultsHash(results),
      validatorSetUpdate: input.validatorSetUpdate,
      consensusParamsUpdate: input.consensusParamsUpdate,
      appHash: input.appHash ?? syntheticAppHash(state.chainId, height),
    }
  }

  private prepareRawBlock(state: State, raw: RawBlock): PreparedBlock {
    const meta = decodeBlockMeta(raw.blockMeta)
    const height = meta.header.height
    if (raw.height !== height) {
      throw new ChainStoreError(`raw block claims height ${raw.height} but its meta is for ${height}`)
    }
    this.checkHeader(state, meta.header, meta.blockId)
    if (raw.parts.length !== meta.blockId.partSetHeader.total) {
      throw new ChainStoreError(
        `raw block ${height} has ${raw.parts.length} parts, its meta says ${meta.blockId.partSetHeader.total}`,
      )
    }
    const chunks = raw.parts.map((p) => decodePartBytes(p, height))
    if (Buffer.compare(merkleRoot(chunks), meta.blockId.partSetHeader.hash) !== 0) {
      throw new ChainStoreError(`raw block ${height}: parts do not hash to the part set header`)
    }
    const lastCommitBytes = extractLastCommitBytes(Buffer.concat(chunks))
    if (lastCommitBytes === null) throw new ChainStoreError(`raw block ${height} has no last_commit`)
    if (raw.results === null) throw new ChainStoreError(`raw block ${height} has no results`)
    const results = decodeABCIResponses(raw.results)
    const valsInfo = decodeValidatorsInfo(raw.nextValidatorsInfo)
    const paramsInfo = decodeConsensusParamsInfo(raw.nextConsensusParamsInfo)
    return {
      height,
      header: meta.header,
      blockId: meta.blockId,
      metaBytes: raw.blockMeta,
      partBytes: raw.parts,
      seenCommitBytes: raw.seenCommit,
      lastCommitBytes,
      resultsBytes: raw.results,
      resultsHash: resultsHash(results),
      validatorSetUpdate:
        valsInfo.lastHeightChanged === height + 2 && valsInfo.validatorSet !== null
          ? valsInfo.validatorSet
          : undefined,
      consensusParamsUpdate:
        paramsInfo.lastHeightChanged === height + 1 && !isEmptyConsensusParams(paramsInfo.consensusParams)
          ? paramsInfo.consensusParams
          : undefined,
      appHash: syntheticAppHash(state.chainId, height),
    }
  }

  /** CometBFT's `updateState` for what the store keeps. */
  private nextState(state: State, p: PreparedBlock): State {
    const next = state.nextValidators
    if (next === null) throw new StoreCorruptionError(`${this.dataDir}: state has no next validators`)
    const valsChanged = p.validatorSetUpdate !== undefined && !sameValidatorSet(p.validatorSetUpdate, next)
    const paramsChanged =
      p.consensusParamsUpdate !== undefined &&
      !sameConsensusParams(p.consensusParamsUpdate, state.consensusParams)
    const params = paramsChanged ? p.consensusParamsUpdate! : state.consensusParams
    return {
      version: {
        consensus: {
          block: state.version.consensus.block,
          app: paramsChanged ? (params.version?.app ?? 0) : state.version.consensus.app,
        },
        software: state.version.software,
      },
      chainId: state.chainId,
      initialHeight: state.initialHeight,
      lastBlockHeight: p.height,
      lastBlockId: p.blockId,
      lastBlockTime: p.header.time,
      nextValidators: valsChanged ? p.validatorSetUpdate! : next,
      validators: next,
      lastValidators: state.validators,
      lastHeightValidatorsChanged: valsChanged ? p.height + 2 : state.lastHeightValidatorsChanged,
      consensusParams: params,
      lastHeightConsensusParamsChanged: paramsChanged ? p.height + 1 : state.lastHeightConsensusParamsChanged,
      lastResultsHash: p.resultsHash,
      appHash: p.appHash,
    }
  }

  private async commit(
    start: State,
    prepared: PreparedBlock[],
    states: State[],
    options: AppendOptions,
  ): Promise<void> {
    const sync = options.sync ?? false
    const blockBatch = this.blockDb.batch()
    const stateBatch = this.stateDb.batch()
    if (this.state === null) {
      // Genesis, as the handshake's `Save(genesisState)` writes it (state/store.go save with LastBlockHeight 0):
      // the initial validators at the initial height, then the regular entries for the next heights.
      stateBatch.put(
        validatorsKey(start.initialHeight),
        toBuffer(
          encodeValidatorsInfo({ validatorSet: start.validators, lastHeightChanged: start.initialHeight }),
        ),
      )
      putStateEntries(stateBatch, start, start.initialHeight)
    }
    for (let k = 0; k < prepared.length; k++) {
      const p = prepared[k]!
      const h = p.height
      for (let i = 0; i < p.partBytes.length; i++)
        blockBatch.put(blockPartKey(h, i), toBuffer(p.partBytes[i]!))
      blockBatch.put(blockMetaKey(h), toBuffer(p.metaBytes))
      blockBatch.put(blockHashKey(p.blockId.hash), encodeHeightValue(h))
      blockBatch.put(blockCommitKey(h - 1), toBuffer(p.lastCommitBytes))
      blockBatch.put(seenCommitKey(h), toBuffer(p.seenCommitBytes))
      stateBatch.put(abciResponsesKey(h), toBuffer(p.resultsBytes))
      putStateEntries(stateBatch, states[k]!, h + 1)
    }
    const last = prepared[prepared.length - 1]!
    const finalState = states[states.length - 1]!
    const bs: BlockStoreState = {
      base: this.bs.base === 0 ? prepared[0]!.height : this.bs.base,
      height: last.height,
    }
    blockBatch.put(BLOCK_STORE_STATE_KEY, toBuffer(encodeBlockStoreState(bs)))
    stateBatch.put(
      LAST_ABCI_RESPONSE_KEY,
      toBuffer(encodeABCIResponsesInfoRaw(last.resultsBytes, last.height)),
    )
    stateBatch.put(STATE_KEY, toBuffer(encodeState(finalState)))
    try {
      await blockBatch.write({ sync })
      await stateBatch.write({ sync })
    } catch (error) {
      // Possibly blocks on disk without their state: refuse more writes until a reopen repairs the store.
      this.broken = error instanceof Error ? error : new Error(String(error))
      throw error
    }
    this.bs = bs
    this.state = finalState
  }

  // -------------------------------------------------------------------------------------------------------------
  // Reads. Heights outside [base, height] read as null.

  private inRange(height: number): boolean {
    return (
      this.bs.height > 0 && Number.isSafeInteger(height) && height >= this.bs.base && height <= this.bs.height
    )
  }

  private async getBlock(key: Buffer): Promise<Buffer | undefined> {
    this.checkOpen()
    return await this.blockDb.get(key)
  }

  /** The value stored for a height in [base, height] under `keyOf(height)`, decoded. */
  private async loadAt<T>(
    db: Db,
    height: number,
    keyOf: (height: number) => Buffer,
    decode: (raw: Buffer) => T,
  ): Promise<T | null> {
    if (!this.inRange(height)) return null
    this.checkOpen()
    const raw = await db.get(keyOf(height))
    return raw === undefined ? null : decode(raw)
  }

  /** `H:<h>` decoded. */
  loadBlockMeta(height: number): Promise<BlockMeta | null> {
    return this.loadAt(this.blockDb, height, blockMetaKey, decodeBlockMeta)
  }

  /** The block reassembled from its parts and decoded, with its meta. */
  async loadBlock(height: number): Promise<LoadedBlock | null> {
    if (!this.inRange(height)) return null
    const metaRaw = await this.getBlock(blockMetaKey(height))
    if (metaRaw === undefined) return null
    const meta = decodeBlockMeta(metaRaw)
    const parts = await this.loadPartValues(height, meta.blockId.partSetHeader.total)
    const block = decodeBlock(Buffer.concat(parts.map((p) => decodePart(p).bytes)))
    return { meta, block }
  }

  private async loadPartValues(height: number, total: number): Promise<Buffer[]> {
    this.checkOpen()
    const keys = Array.from({ length: total }, (_, i) => blockPartKey(height, i))
    const values = await this.blockDb.getMany(keys)
    return values.map((v, i) => {
      if (v === undefined)
        throw new StoreCorruptionError(`${this.dataDir}: block ${height} is missing part ${i} of ${total}`)
      return v
    })
  }

  /** `SC:<h>`: the commit this node saw for block h. */
  loadSeenCommit(height: number): Promise<Commit | null> {
    return this.loadAt(this.blockDb, height, seenCommitKey, decodeCommit)
  }

  /** `C:<h>`: the canonical commit for block h (from block h+1's last_commit; absent for the top block). */
  loadCommit(height: number): Promise<Commit | null> {
    return this.loadAt(this.blockDb, height, blockCommitKey, decodeCommit)
  }

  /** The height of the block with this hash (`BH:`), or null. */
  async loadBlockHeightByHash(hash: Uint8Array): Promise<number | null> {
    const raw = await this.getBlock(blockHashKey(hash))
    if (raw === undefined) return null
    const text = raw.toString('latin1')
    if (!/^[0-9]+$/.test(text))
      throw new StoreCorruptionError(`${this.dataDir}: BH value ${JSON.stringify(text)}`)
    const height = Number(text)
    return this.inRange(height) ? height : null
  }

  /** `abciResponsesKey:<h>` decoded (the `/block_results` of h). */
  loadBlockResults(height: number): Promise<ABCIResponses | null> {
    return this.loadAt(this.stateDb, height, abciResponsesKey, decodeABCIResponses)
  }

  /** `stateKey` decoded, or null before genesis. */
  async loadState(): Promise<State | null> {
    this.checkOpen()
    const raw = await this.stateDb.get(STATE_KEY)
    return raw === undefined ? null : decodeState(raw)
  }

  /**
   * The validator set of height h, following pointers to the last change or checkpoint as CometBFT's
   * `LoadValidators` does, but without `IncrementProposerPriority` (our sets never rotate priorities).
   */
  async loadValidators(height: number): Promise<ValidatorSet | null> {
    this.checkOpen()
    const raw = await this.stateDb.get(validatorsKey(height))
    if (raw === undefined) return null
    const info = decodeValidatorsInfo(raw)
    if (info.validatorSet !== null) return info.validatorSet
    const stored = lastStoredHeightFor(height, info.lastHeightChanged)
    const fullRaw = await this.stateDb.get(validatorsKey(stored))
    const full = fullRaw === undefined ? null : decodeValidatorsInfo(fullRaw).validatorSet
    if (full === null) {
      throw new StoreCorruptionError(
        `${this.dataDir}: validators of height ${height} point at ${stored}, which has none`,
      )
    }
    return full
  }

  /** The consensus params of height h (following the pointer to the last change), or null when not stored. */
  async loadConsensusParams(height: number): Promise<ConsensusParams | null> {
    this.checkOpen()
    const raw = await this.stateDb.get(consensusParamsKey(height))
    if (raw === undefined) return null
    const info = decodeConsensusParamsInfo(raw)
    if (!isEmptyConsensusParams(info.consensusParams)) return info.consensusParams
    const fullRaw = await this.stateDb.get(consensusParamsKey(info.lastHeightChanged))
    const full = fullRaw === undefined ? null : decodeConsensusParamsInfo(fullRaw).consensusParams
    if (full === null || isEmptyConsensusParams(full)) {
      throw new StoreCorruptionError(
        `${this.dataDir}: params of height ${height} point at ${info.lastHeightChanged}, which has none`,
      )
    }
    return full
  }

  /** The stored values of block h, for {@link appendRawBlocks} on another store. */
  async loadRawBlock(height: number): Promise<RawBlock | null> {
    if (!this.inRange(height)) return null
    const blockMeta = await this.getBlock(blockMetaKey(height))
    if (blockMeta === undefined) return null
    const ids = decodeBlockMetaIds(blockMeta)
    const parts = await this.loadPartValues(height, ids.partsTotal)
    const seenCommit = await this.getBlock(seenCommitKey(height))
    if (seenCommit === undefined)
      throw new StoreCorruptionError(`${this.dataDir}: block ${height} has no seen commit`)
    const [results, nextValidatorsInfo, nextConsensusParamsInfo] = await this.stateDb.getMany([
      abciResponsesKey(height),
      validatorsKey(height + 2),
      consensusParamsKey(height + 1),
    ])
    if (nextValidatorsInfo === undefined || nextConsensusParamsInfo === undefined) {
      throw new StoreCorruptionError(
        `${this.dataDir}: state entries written after block ${height} are missing`,
      )
    }
    return {
      height,
      blockMeta,
      parts,
      seenCommit,
      results: results ?? null,
      nextValidatorsInfo,
      nextConsensusParamsInfo,
    }
  }

  /** Waits for pending appends and closes both databases (releasing their LOCKs). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.queue
    this.closed = true
    await Promise.all([this.blockDb.close(), this.stateDb.close()])
  }
}

/** `dbStore.save` entries for a state whose next height is `nextHeight`: validators at nextHeight+1, params at nextHeight. */
function putStateEntries(
  batch: { put(key: Buffer, value: Buffer): unknown },
  state: State,
  nextHeight: number,
): void {
  const valsHeight = nextHeight + 1
  const lhc = state.lastHeightValidatorsChanged
  batch.put(
    validatorsKey(valsHeight),
    toBuffer(
      encodeValidatorsInfo({
        lastHeightChanged: lhc,
        validatorSet:
          valsHeight === lhc || valsHeight % VALSET_CHECKPOINT_INTERVAL === 0 ? state.nextValidators : null,
      }),
    ),
  )
  const plhc = state.lastHeightConsensusParamsChanged
  batch.put(
    consensusParamsKey(nextHeight),
    toBuffer(
      encodeConsensusParamsInfo({
        lastHeightChanged: plhc,
        consensusParams: nextHeight === plhc ? state.consensusParams : emptyConsensusParams(),
      }),
    ),
  )
}

function decodePartBytes(raw: Buffer, height: number): Uint8Array {
  try {
    return decodePart(raw).bytes
  } catch (error) {
    throw new ChainStoreError(`raw block ${height}: undecodable part`, { cause: error })
  }
}

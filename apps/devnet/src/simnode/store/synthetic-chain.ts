/**
 * A generator of consistent synthetic chains: each block's header matches the state CometBFT would be in
 * (validators_hash of the set of that height, next_validators_hash, consensus_hash, last_results_hash, app_hash),
 * its last_commit equals the previous block's seen commit, and validator/param changes take effect at the heights
 * CometBFT applies them (validators h+2, params h+1). Feeds {@link ChainStore.appendBlocks}.
 */

import {
  type BlockID,
  type Commit,
  type ConsensusParams,
  defaultConsensusParams,
  resultsHash,
  timestampToDate,
  type ValidatorSet,
} from '@ghostfleet/cometbft'
import { ChainStoreError } from '../errors.js'
import type { AppendBlockInput, ChainGenesis, ChainStore } from './chain-store.js'
import {
  BLOCK_PART_SIZE_BYTES,
  defaultBlockResults,
  makeBlockParts,
  makeSyntheticBlock,
  makeSyntheticCommit,
  sameConsensusParams,
  sameValidatorSet,
  syntheticAppHash,
  validatorUpdatesBetween,
} from './synthetic.js'

/** Options of {@link SyntheticChain}. */
export interface SyntheticChainOptions {
  chainId: string
  /** @default 1 */
  initialHeight?: number
  genesisTime: Date
  /** Time between blocks. @default 1000 */
  blockIntervalMs?: number
  /** Genesis validators. */
  validators: ValidatorSet
  /** Genesis consensus params. @default CometBFT's defaults */
  consensusParams?: ConsensusParams
  /** Txs per block. @default 0 */
  txCount?: number
  /** Bytes per tx. @default 64 */
  txSize?: number
  /** @default 65536 (CometBFT's BlockPartSizeBytes) */
  partSize?: number
}

/** Per-block overrides for {@link SyntheticChain.next}. */
export interface NextBlockOptions {
  /** Block time. @default previous block time + blockIntervalMs (the commit time of the previous block) */
  time?: Date
  txCount?: number
  /** The validator set this block's EndBlock switches to (effective at h+2). */
  validatorSetUpdate?: ValidatorSet
  /** The consensus params this block's EndBlock switches to (effective at h+1). */
  consensusParamsUpdate?: ConsensusParams
}

/**
 * Where a chain continues: the state a generator needs to build the block at `height`. Plain data (structured-clone
 * safe), so a generator can be moved to a worker thread. {@link SyntheticChain.resume} derives it from a store.
 */
export interface SyntheticChainCursor {
  height: number
  lastBlockId: BlockID | null
  lastCommit: Commit | null
  validators: ValidatorSet
  nextValidators: ValidatorSet
  params: ConsensusParams
  lastResultsHash: Uint8Array | null
  time: Date
}

/** Generates blocks one after another; see the module comment. */
export class SyntheticChain {
  private cursor: SyntheticChainCursor
  private readonly interval: number
  private readonly initialHeight: number
  private readonly genesisParams: ConsensusParams

  constructor(
    private readonly options: SyntheticChainOptions,
    resumeAt?: SyntheticChainCursor,
  ) {
    this.interval = options.blockIntervalMs ?? 1000
    this.initialHeight = options.initialHeight ?? 1
    this.genesisParams = options.consensusParams ?? defaultConsensusParams()
    this.cursor = resumeAt ?? {
      height: this.initialHeight,
      lastBlockId: null,
      lastCommit: null,
      validators: options.validators,
      nextValidators: options.validators,
      params: this.genesisParams,
      lastResultsHash: null,
      time: options.genesisTime,
    }
  }

  /**
   * Continues the chain stored in `store` (a restarted simulated node). An empty store starts from genesis.
   * `options` must describe the same chain (chain id, genesis) as when it was written.
   */
  static async resume(store: ChainStore, options: SyntheticChainOptions): Promise<SyntheticChain> {
    const cursor = await SyntheticChain.cursorFrom(store, options)
    return cursor === null ? new SyntheticChain(options) : new SyntheticChain(options, cursor)
  }

  /** Where the chain in `store` continues, or null when the store holds no block yet. */
  static async cursorFrom(
    store: ChainStore,
    options: Pick<SyntheticChainOptions, 'chainId' | 'blockIntervalMs'>,
  ): Promise<SyntheticChainCursor | null> {
    const state = await store.loadState()
    if (state === null || state.lastBlockHeight === 0) return null
    if (state.chainId !== options.chainId) {
      throw new ChainStoreError(`store holds chain ${state.chainId}, not ${options.chainId}`)
    }
    const lastCommit = await store.loadSeenCommit(state.lastBlockHeight)
    if (lastCommit === null || state.validators === null || state.nextValidators === null) {
      throw new ChainStoreError(`cannot resume: block ${state.lastBlockHeight} or its state is incomplete`)
    }
    const lastTime = timestampToDate(state.lastBlockTime)
    return {
      height: state.lastBlockHeight + 1,
      lastBlockId: state.lastBlockId,
      lastCommit,
      validators: state.validators,
      nextValidators: state.nextValidators,
      params: state.consensusParams,
      lastResultsHash: state.lastResultsHash,
      time: new Date(lastTime.getTime() + (options.blockIntervalMs ?? 1000)),
    }
  }

  /** What {@link ChainStore.appendBlocks} needs for the first append. */
  get genesis(): ChainGenesis {
    return {
      chainId: this.options.chainId,
      initialHeight: this.initialHeight,
      genesisTime: this.options.genesisTime,
      validators: this.options.validators,
      consensusParams: this.genesisParams,
    }
  }

  /** Height of the block {@link next} returns. */
  get nextHeight(): number {
    return this.cursor.height
  }

  /** The next block with its seen commit, results and state changes. */
  next(options: NextBlockOptions = {}): AppendBlockInput {
    const c = this.cursor
    const { chainId } = this.options
    const partSize = this.options.partSize ?? BLOCK_PART_SIZE_BYTES
    const txCount = options.txCount ?? this.options.txCount ?? 0
    const time = options.time ?? c.time
    const block = makeSyntheticBlock({
      chainId,
      height: c.height,
      time,
      lastBlockId: c.lastBlockId,
      lastCommit: c.lastCommit,
      txCount,
      txSize: this.options.txSize ?? 64,
      validators: c.validators,
      nextValidators: c.nextValidators,
      consensusParams: c.params,
      appHash: c.lastBlockId === null ? new Uint8Array(0) : this.appHashAfter(c.height - 1),
      lastResultsHash: c.lastResultsHash ?? new Uint8Array(0),
    })
    const { blockId } = makeBlockParts(block, partSize)
    const commitTime = new Date(time.getTime() + this.interval)
    const seenCommit = makeSyntheticCommit({
      chainId,
      height: c.height,
      blockId,
      validators: c.validators,
      timestamp: commitTime,
    })
    const valsUpdate =
      options.validatorSetUpdate !== undefined &&
      !sameValidatorSet(options.validatorSetUpdate, c.nextValidators)
        ? options.validatorSetUpdate
        : undefined
    const paramsUpdate =
      options.consensusParamsUpdate !== undefined &&
      !sameConsensusParams(options.consensusParamsUpdate, c.params)
        ? options.consensusParamsUpdate
        : undefined
    const results = defaultBlockResults(
      txCount,
      valsUpdate === undefined ? [] : validatorUpdatesBetween(c.nextValidators, valsUpdate),
      paramsUpdate ?? null,
    )
    this.cursor = {
      height: c.height + 1,
      lastBlockId: blockId,
      lastCommit: seenCommit,
      validators: c.nextValidators,
      nextValidators: valsUpdate ?? c.nextValidators,
      params: paramsUpdate ?? c.params,
      lastResultsHash: resultsHash(results),
      time: commitTime,
    }
    const input: AppendBlockInput = {
      block,
      partSize,
      results,
      seenCommit,
      appHash: this.appHashAfter(c.height),
    }
    if (valsUpdate !== undefined) input.validatorSetUpdate = valsUpdate
    if (paramsUpdate !== undefined) input.consensusParamsUpdate = paramsUpdate
    return input
  }

  private lastAppHash: { height: number; hash: Uint8Array } | null = null

  /** {@link syntheticAppHash}, remembering the last one: block h needs the hash after h-1, which the previous call made. */
  private appHashAfter(height: number): Uint8Array {
    if (this.lastAppHash?.height !== height) {
      this.lastAppHash = { height, hash: syntheticAppHash(this.options.chainId, height) }
    }
    return this.lastAppHash.hash
  }

  /** The next `count` blocks (no state changes). */
  take(count: number): AppendBlockInput[] {
    return Array.from({ length: count }, () => this.next())
  }
}

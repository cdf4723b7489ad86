import { timestampToDate } from '@ghostfleet/cometbft'
import type { Logger } from './log.js'
import { Periodic } from './periodic.js'
import { hexUpper } from './rpc-encode.js'
import type { ChainGenesis, ChainStore } from './store/chain-store.js'
import { SyntheticChain } from './store/synthetic-chain.js'
import { validatorSetUpdateAt } from './validator-rotation.js'

export interface ProducerOptions {
  store: ChainStore
  genesis: ChainGenesis
  blockTimeMs: number
  txCount: number
  txSize: number
  partSize: number
  /** Validator set changes every this many heights (0: never). */
  valsetInterval: number
  log: Logger
  onError: (error: unknown) => void
}

/**
 * The chain's only block maker: one synthetic block every `blockTimeMs`, committed to the store (block and
 * state in one append), continuing whatever the store already holds.
 */
export class Producer {
  private readonly timer: Periodic
  private chain: SyntheticChain | undefined
  private lastTimeMs = 0

  constructor(private readonly o: ProducerOptions) {
    this.timer = new Periodic(o.blockTimeMs, () => this.produce(), o.onError, true)
  }

  async start(): Promise<void> {
    const g = this.o.genesis
    this.chain = await SyntheticChain.resume(this.o.store, {
      chainId: g.chainId,
      initialHeight: g.initialHeight ?? 1,
      genesisTime: g.genesisTime instanceof Date ? g.genesisTime : timestampToDate(g.genesisTime),
      blockIntervalMs: this.o.blockTimeMs,
      validators: g.validators,
      consensusParams: g.consensusParams ?? undefined,
      txCount: this.o.txCount,
      txSize: this.o.txSize,
      partSize: this.o.partSize,
    })
    const state = await this.o.store.loadState()
    if (state) this.lastTimeMs = timestampToDate(state.lastBlockTime).getTime()
    this.timer.start(this.o.blockTimeMs)
  }

  stop(): Promise<void> {
    return this.timer.stop()
  }

  private async produce(): Promise<void> {
    const chain = this.chain
    if (!chain) return
    const height = chain.nextHeight
    // Block times strictly increase, even if the clock steps back.
    const timeMs = Math.max(Date.now(), this.lastTimeMs + 1)
    const { chainId, validators } = this.o.genesis
    const update = validatorSetUpdateAt(chainId, validators, height, this.o.valsetInterval)
    const input = chain.next({ time: new Date(timeMs), ...(update ? { validatorSetUpdate: update } : {}) })
    await this.o.store.appendBlocks([input], { genesis: this.o.genesis })
    this.lastTimeMs = timeMs
    this.o.log.info('Committed state', {
      height,
      num_txs: input.block.data.txs.length,
      app_hash: hexUpper(input.appHash ?? new Uint8Array(0)),
      ...(input.validatorSetUpdate ? { validators: input.validatorSetUpdate.validators.length } : {}),
    })
  }
}

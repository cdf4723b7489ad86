import path from 'node:path'
import {
  type ConsensusParams,
  DatabaseLockedError,
  decodeBlockMeta,
  type FlockHold,
  holdFlock,
  LockCheckError,
  type ValidatorSet,
  validatorSetHash,
} from '@ghostfleet/cometbft'
import { HomeFileError, PeerProtocolError } from './errors.js'
import type { Genesis } from './genesis.js'
import { MAX_BLOCK_BYTES_PER_REQUEST, MAX_BLOCKS_PER_REQUEST, type RawBlockWire } from './p2p-protocol.js'
import { type ChainGenesis, ChainStore, type RawBlock } from './store/chain-store.js'
import { makeValidatorSet } from './store/synthetic.js'

/** The genesis of genesis.json in the store's terms. */
export function chainGenesisOf(g: Genesis): ChainGenesis {
  const ns = g.consensusParams.evidence.maxAgeDurationNs
  const consensusParams: ConsensusParams = {
    block: { maxBytes: g.consensusParams.block.maxBytes, maxGas: g.consensusParams.block.maxGas },
    evidence: {
      maxAgeNumBlocks: g.consensusParams.evidence.maxAgeNumBlocks,
      maxAgeDuration: { seconds: Number(ns / 1_000_000_000n), nanos: Number(ns % 1_000_000_000n) },
      maxBytes: g.consensusParams.evidence.maxBytes,
    },
    validator: { pubKeyTypes: [...g.consensusParams.validator.pubKeyTypes] },
    version: { app: g.consensusParams.version.app },
  }
  const validators: ValidatorSet = makeValidatorSet(
    g.validators.map((v) => ({
      pubKey: { type: 'ed25519', key: new Uint8Array(v.pubKey) },
      votingPower: v.power,
    })),
  )
  return {
    chainId: g.chainId,
    initialHeight: g.initialHeight,
    genesisTime: new Date(g.genesisTime),
    validators,
    consensusParams,
  }
}

const b64 = (b: Buffer) => b.toString('base64')
const unb64 = (s: string) => Buffer.from(s, 'base64')

export function rawBlockToWire(r: RawBlock): RawBlockWire {
  return {
    height: String(r.height),
    block_meta: b64(r.blockMeta),
    parts: r.parts.map(b64),
    seen_commit: b64(r.seenCommit),
    results: r.results === null ? null : b64(r.results),
    next_validators_info: b64(r.nextValidatorsInfo),
    next_consensus_params_info: b64(r.nextConsensusParamsInfo),
  }
}

export function rawBlockFromWire(w: RawBlockWire): RawBlock {
  return {
    height: Number(w.height),
    blockMeta: unb64(w.block_meta),
    parts: w.parts.map(unb64),
    seenCommit: unb64(w.seen_commit),
    results: w.results === null ? null : unb64(w.results),
    nextValidatorsInfo: unb64(w.next_validators_info),
    nextConsensusParamsInfo: unb64(w.next_consensus_params_info),
  }
}

/**
 * The node's chain: the {@link ChainStore} plus the genesis it was started with. Followers append raw copies
 * of a peer's stored blocks; before the first block of an empty store is accepted its `validators_hash` must
 * be the genesis validators' hash, as CometBFT's block verification would demand.
 */
export class SimChain {
  private constructor(
    readonly store: ChainStore,
    readonly genesis: ChainGenesis,
    private readonly flocks: FlockHold[],
  ) {}

  /**
   * Opens the store and, like a real (goleveldb) node, also holds flock(2) on both LOCK files while open:
   * classic-level itself only takes the fcntl lock, which `flock -n <db>/LOCK` checks do not see.
   * `onNoFlock` is told when the `flock` tool is missing (the fcntl lock is then the only one).
   */
  static async open(
    dataDir: string,
    genesis: Genesis,
    onNoFlock?: (reason: string) => void,
  ): Promise<SimChain> {
    const store = await ChainStore.open(dataDir, { create: true })
    const flocks: FlockHold[] = []
    try {
      for (const db of [store.blockStorePath, store.stateStorePath]) {
        const lockPath = path.join(db, 'LOCK')
        const hold = await holdFlock(lockPath).catch((error: unknown) => {
          if (error instanceof LockCheckError) {
            onNoFlock?.(error.message)
            return undefined
          }
          throw error
        })
        if (hold === null) {
          throw new DatabaseLockedError(`${db} is locked by another process (flock on ${lockPath})`, db)
        }
        if (hold) flocks.push(hold)
      }
      const state = await store.loadState()
      if (state && state.chainId !== genesis.chainId) {
        throw new HomeFileError(
          dataDir,
          `holds chain ${state.chainId}, but genesis.json is for ${genesis.chainId}`,
        )
      }
      return new SimChain(store, chainGenesisOf(genesis), flocks)
    } catch (error) {
      await store.close()
      await Promise.all(flocks.map((f) => f.release()))
      throw error
    }
  }

  get chainId(): string {
    return this.genesis.chainId
  }

  base(): number {
    return this.store.base()
  }

  height(): number {
    return this.store.height()
  }

  /** The next height this node needs. */
  nextHeight(): number {
    return this.store.height() === 0 ? (this.genesis.initialHeight ?? 1) : this.store.height() + 1
  }

  /** Stored blocks from `from` on, bounded by count and a byte budget (at least one block if any). */
  async loadRawRange(from: number, count: number): Promise<RawBlock[]> {
    const out: RawBlock[] = []
    const last = Math.min(this.store.height(), from + Math.min(count, MAX_BLOCKS_PER_REQUEST) - 1)
    let bytes = 0
    for (let h = Math.max(from, this.store.base()); h <= last && this.store.height() > 0; h++) {
      const raw = await this.store.loadRawBlock(h)
      if (raw === null) break
      bytes += raw.blockMeta.length + raw.seenCommit.length + raw.parts.reduce((n, p) => n + p.length, 0)
      if (out.length > 0 && bytes > MAX_BLOCK_BYTES_PER_REQUEST) break
      out.push(raw)
    }
    return out
  }

  /** Appends copies of a peer's blocks (contiguous, starting at {@link nextHeight}). */
  async appendRaw(blocks: RawBlock[]): Promise<void> {
    if (blocks.length === 0) return
    if (this.store.height() === 0) {
      const first = decodeBlockMeta(blocks[0]!.blockMeta)
      const want = Buffer.from(validatorSetHash(this.genesis.validators))
      if (!want.equals(Buffer.from(first.header.validatorsHash))) {
        throw new PeerProtocolError(
          `wrong Block.Header.ValidatorsHash at height ${first.header.height}: expected ${want.toString('hex').toUpperCase()}, ` +
            `got ${Buffer.from(first.header.validatorsHash).toString('hex').toUpperCase()} (is config/genesis.json this network's?)`,
        )
      }
    }
    await this.store.appendRawBlocks(blocks, { genesis: this.genesis })
  }

  /** Closes the databases, then drops the flocks. */
  async close(): Promise<void> {
    await this.store.close()
    await Promise.all(this.flocks.map((f) => f.release()))
  }
}

import { type ConsensusParams, defaultConsensusParams, type ValidatorSet } from '@ghostfleet/cometbft'
import { type AppendBlockInput, ChainStore } from '../../src/simnode/store/chain-store.js'
import { makeSyntheticValidatorSet } from '../../src/simnode/store/synthetic.js'
import {
  type NextBlockOptions,
  SyntheticChain,
  type SyntheticChainOptions,
} from '../../src/simnode/store/synthetic-chain.js'

export const GENESIS_SET: ValidatorSet = makeSyntheticValidatorSet({ count: 3, seed: 'genesis' })
export const SECOND_SET: ValidatorSet = makeSyntheticValidatorSet({
  count: 4,
  seed: 'second',
  votingPower: 7,
})
export const THIRD_SET: ValidatorSet = makeSyntheticValidatorSet({ count: 2, seed: 'third' })

export const CHANGED_PARAMS: ConsensusParams = {
  ...defaultConsensusParams(),
  block: { maxBytes: 1_000_000, maxGas: 50_000_000 },
}

export function chainOptions(overrides: Partial<SyntheticChainOptions> = {}): SyntheticChainOptions {
  return {
    chainId: 'simnet-1',
    genesisTime: new Date('2024-03-01T00:00:00Z'),
    validators: GENESIS_SET,
    txCount: 3,
    txSize: 120,
    // Small parts so that blocks span several of them.
    partSize: 256,
    ...overrides,
  }
}

export interface WrittenChain {
  blocks: AppendBlockInput[]
  chain: SyntheticChain
}

/**
 * Writes `count` blocks to a new store under `dataDir` in batches of `batch`, applying `changes[h]` to block h.
 * Returns every appended input (for comparisons).
 */
export async function writeChain(
  dataDir: string,
  count: number,
  opts: {
    batch?: number
    changes?: Record<number, NextBlockOptions>
    chain?: Partial<SyntheticChainOptions>
  } = {},
): Promise<WrittenChain> {
  const chain = new SyntheticChain(chainOptions(opts.chain))
  const store = await ChainStore.open(dataDir, { create: true })
  const blocks: AppendBlockInput[] = []
  try {
    const batch = opts.batch ?? 25
    let pending: AppendBlockInput[] = []
    for (let i = 0; i < count; i++) {
      const h = chain.nextHeight
      const input = chain.next(opts.changes?.[h] ?? {})
      blocks.push(input)
      pending.push(input)
      if (pending.length === batch || i === count - 1) {
        await store.appendBlocks(pending, { genesis: chain.genesis })
        pending = []
      }
    }
  } finally {
    await store.close()
  }
  return { blocks, chain }
}

/** The standard test history: validator changes decided at 10 and 40, params change decided at 20. */
export const STANDARD_CHANGES: Record<number, NextBlockOptions> = {
  10: { validatorSetUpdate: SECOND_SET },
  20: { consensusParamsUpdate: CHANGED_PARAMS },
  40: { validatorSetUpdate: THIRD_SET },
}

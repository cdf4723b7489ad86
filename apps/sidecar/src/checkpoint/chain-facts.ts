import path from 'node:path'
import {
  blockMetaKey,
  decodeBlockMeta,
  decodeState,
  openReadOnlyStore,
  readBlockStoreState,
  STATE_KEY,
} from '@ghostfleet/cometbft'
import { CheckpointRefusedError } from './errors.js'

/*
 * What a manifest says about the chain, read from the checkpoint's own copy of the stores with the read-only
 * LevelDB reader (never with a LevelDB engine: opening a goleveldb store with C++ LevelDB rewrites its files, and
 * these tables are hard links to the node's).
 *
 * App hashes: a block's header carries the app hash *before* it (after executing the previous block); the state
 * store's `stateKey` carries the app hash after its `last_block_height`. Both are recorded, so the new host can
 * compare `/block?height=<top>` and `/abci_info` (or the next header) with the donor's.
 */

export interface ChainFacts {
  chainId: string
  blockStore: { base: number; height: number }
  blocks: { base: { height: number; hash: string }; top: { height: number; hash: string; appHash: string } }
  state: { lastBlockHeight: number; appHash: string }
}

const upper = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase()

/** Reads the chain facts of the data directory `dataDir` (a checkpoint's `data/`). */
export async function readChainFacts(dataDir: string): Promise<ChainFacts> {
  const blockStore = await readBlockStoreState(dataDir)
  if (blockStore.height === 0) throw new CheckpointRefusedError(`the block store in ${dataDir} is empty`)
  const blocks = await openReadOnlyStore(path.join(dataDir, 'blockstore.db'))
  let base: ChainFacts['blocks']['base']
  let top: ChainFacts['blocks']['top']
  let headerChainId: string
  try {
    const meta = async (h: number) => {
      const raw = await blocks.get(blockMetaKey(h))
      if (raw === undefined)
        throw new CheckpointRefusedError(
          `the block store in ${dataDir} says height ${h} is stored, but its block meta (H:${h}) is missing`,
        )
      return decodeBlockMeta(raw)
    }
    const baseMeta = await meta(blockStore.base)
    const topMeta = await meta(blockStore.height)
    base = { height: blockStore.base, hash: upper(baseMeta.blockId.hash) }
    top = {
      height: blockStore.height,
      hash: upper(topMeta.blockId.hash),
      appHash: upper(topMeta.header.appHash),
    }
    headerChainId = topMeta.header.chainId
  } finally {
    await blocks.close()
  }
  const states = await openReadOnlyStore(path.join(dataDir, 'state.db'))
  try {
    const raw = await states.get(STATE_KEY)
    if (raw === undefined)
      throw new CheckpointRefusedError(`the state store in ${dataDir} has no state (stateKey)`)
    const state = decodeState(raw)
    if (state.chainId !== headerChainId) {
      throw new CheckpointRefusedError(
        `the state store says chain ${JSON.stringify(state.chainId)}, the block at ${blockStore.height} says ` +
          `${JSON.stringify(headerChainId)}: the data directory mixes two chains`,
      )
    }
    return {
      chainId: state.chainId,
      blockStore,
      blocks: { base, top },
      state: { lastBlockHeight: state.lastBlockHeight, appHash: upper(state.appHash) },
    }
  } finally {
    await states.close()
  }
}

/**
 * Worker half of `generate`: builds the synthetic blocks (hashing, encoding, commits) while the main thread
 * writes the previous batch, so both cores work. Blocks are posted in batches; the worker stays at most
 * `AHEAD` batches ahead of the acknowledged ones.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { AppendBlockInput } from './store/chain-store.js'
import { SyntheticChain, type SyntheticChainOptions } from './store/synthetic-chain.js'
import { validatorSetUpdateAt } from './validator-rotation.js'

export interface GenerateWorkerData {
  options: SyntheticChainOptions
  /** Where to continue (a non-empty store); undefined: from genesis. */
  cursor: ConstructorParameters<typeof SyntheticChain>[1]
  blocks: number
  batchSize: number
  /** Time of the first block (later ones follow at the chain's interval); 0 = the chain's own. */
  firstTimeMs: number
  valsetInterval: number
}

export type GenerateWorkerMessage = { batch: AppendBlockInput[] } | { error: string }

const AHEAD = 2

const data = workerData as GenerateWorkerData
const port = parentPort
if (!port) throw new Error('generate-worker must run as a worker thread')

const chain = new SyntheticChain(data.options, data.cursor)
let produced = 0
let inFlight = 0
let firstTimeMs = data.firstTimeMs

function pump(): void {
  try {
    while (inFlight < AHEAD && produced < data.blocks) {
      const n = Math.min(data.batchSize, data.blocks - produced)
      const batch: AppendBlockInput[] = []
      for (let i = 0; i < n; i++) {
        const update = validatorSetUpdateAt(
          data.options.chainId,
          data.options.validators,
          chain.nextHeight,
          data.valsetInterval,
        )
        batch.push(
          chain.next({
            ...(firstTimeMs > 0 ? { time: new Date(firstTimeMs) } : {}),
            ...(update ? { validatorSetUpdate: update } : {}),
          }),
        )
        firstTimeMs = 0
      }
      produced += n
      inFlight++
      port!.postMessage({ batch } satisfies GenerateWorkerMessage)
    }
  } catch (error) {
    port!.postMessage({ error: (error as Error).stack ?? String(error) } satisfies GenerateWorkerMessage)
  }
}

port.on('message', () => {
  inFlight--
  pump()
})
pump()

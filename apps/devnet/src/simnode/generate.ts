import { Worker } from 'node:worker_threads'
import { pathExists, timestampToDate } from '@ghostfleet/cometbft'
import { SimChain } from './chain.js'
import { readConfigToml } from './config-toml.js'
import { FlagError, SimnodeError } from './errors.js'
import type { GenerateWorkerData, GenerateWorkerMessage } from './generate-worker.js'
import { readGenesis } from './genesis.js'
import { defaultLayout, layoutFromConfig } from './home.js'
import { initHome } from './init.js'
import type { AppendBlockInput } from './store/chain-store.js'
import { SyntheticChain, type SyntheticChainOptions } from './store/synthetic-chain.js'

export interface GenerateOptions {
  home: string
  blocks: number
  /** Needed when the home does not exist yet (it is then initialised); must match the home's chain otherwise. */
  chainId?: string
  partSize: number
  blockTxs: number
  txSize: number
  /** Spacing of block times. */
  blockTimeMs: number
  valsetInterval: number
  /** Blocks per LevelDB batch. */
  batchSize?: number
  /** Progress lines go here. */
  progress: (line: string) => void
}

export interface GenerateResult {
  chainId: string
  firstHeight: number
  lastHeight: number
  seconds: number
  blocksPerSecond: number
}

/**
 * Appends `blocks` synthetic blocks to a home's store in large batches (one LevelDB batch per database per
 * batch, fsync only on the last). An uninitialised home is initialised first (`--chain-id` required); an
 * existing chain is continued from its height. The node must not be running (the store's LOCK is taken).
 * Block times run backwards from now, `blockTimeMs` apart, so a node started on the result looks recent.
 */
export async function generateChain(opts: GenerateOptions): Promise<GenerateResult> {
  if (!Number.isSafeInteger(opts.blocks) || opts.blocks < 1)
    throw new FlagError('--blocks must be a positive integer')
  const layout0 = defaultLayout(opts.home)
  if (!(await pathExists(layout0.configToml))) {
    if (!opts.chainId)
      throw new FlagError(`${opts.home} is not an initialised home: pass --chain-id to create it`)
    const created = await initHome({ home: opts.home, chainId: opts.chainId })
    opts.progress(`initialised ${opts.home} for chain ${created.chainId} (node id ${created.nodeId})`)
  }
  const config = await readConfigToml(layout0.configToml)
  const layout = layoutFromConfig(opts.home, config)
  const genesis = await readGenesis(layout.genesis)
  if (opts.chainId && opts.chainId !== genesis.chainId) {
    throw new FlagError(`--chain-id ${opts.chainId} does not match ${layout.genesis} (${genesis.chainId})`)
  }
  const sim = await SimChain.open(layout.dataDir, genesis, (reason) => opts.progress(`warning: ${reason}`))
  let worker: Worker | undefined
  try {
    const store = sim.store
    const g = sim.genesis
    const genesisTime = g.genesisTime instanceof Date ? g.genesisTime : timestampToDate(g.genesisTime)
    const options: SyntheticChainOptions = {
      chainId: g.chainId,
      initialHeight: g.initialHeight ?? 1,
      genesisTime,
      blockIntervalMs: opts.blockTimeMs,
      validators: g.validators,
      consensusParams: g.consensusParams ?? undefined,
      txCount: opts.blockTxs,
      txSize: opts.txSize,
      partSize: opts.partSize,
    }
    const cursor = await SyntheticChain.cursorFrom(store, options)
    const firstTimeMs = Math.max(
      cursor?.time.getTime() ?? 0,
      genesisTime.getTime(),
      Date.now() - opts.blocks * opts.blockTimeMs,
    )
    const firstHeight = cursor ? cursor.height : (g.initialHeight ?? 1)
    const lastHeight = firstHeight + opts.blocks - 1
    const batchSize = opts.batchSize ?? 2000
    const started = process.hrtime.bigint()
    let lastReport = Date.now()
    let done = 0

    // Building blocks (hashing, encoding) runs in a worker; this thread encodes them for the store and writes.
    const data: GenerateWorkerData = {
      options,
      cursor: cursor ?? undefined,
      blocks: opts.blocks,
      batchSize,
      firstTimeMs,
      valsetInterval: opts.valsetInterval,
    }
    const w = new Worker(new URL('./generate-worker.js', import.meta.url), { workerData: data })
    worker = w
    const batches: AppendBlockInput[][] = []
    let waiting: { resolve: (b: AppendBlockInput[]) => void; reject: (e: Error) => void } | undefined
    let failure: Error | undefined
    const fail = (e: Error) => {
      failure ??= e
      waiting?.reject(e)
      waiting = undefined
    }
    w.on('message', (m: GenerateWorkerMessage) => {
      if ('error' in m) fail(new SimnodeError(`block generation failed: ${m.error}`))
      else if (waiting) {
        const { resolve } = waiting
        waiting = undefined
        resolve(m.batch)
      } else batches.push(m.batch)
    })
    w.on('error', fail)
    w.on('exit', (code) => {
      if (done < opts.blocks) fail(new SimnodeError(`block generation worker exited early (code ${code})`))
    })
    const nextBatch = () =>
      new Promise<AppendBlockInput[]>((resolve, reject) => {
        if (failure) return reject(failure)
        const ready = batches.shift()
        if (ready) resolve(ready)
        else waiting = { resolve, reject }
      })

    while (done < opts.blocks) {
      const batch = await nextBatch()
      w.postMessage('ack')
      done += batch.length
      await store.appendBlocks(batch, { genesis: g, sync: done === opts.blocks })
      if (Date.now() - lastReport >= 1000 || done === opts.blocks) {
        lastReport = Date.now()
        const secs = Number(process.hrtime.bigint() - started) / 1e9
        opts.progress(
          `generated ${done}/${opts.blocks} blocks (height ${store.height()}, ${Math.round(done / secs)} blocks/s)`,
        )
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    return { chainId: g.chainId, firstHeight, lastHeight, seconds, blocksPerSecond: opts.blocks / seconds }
  } finally {
    await worker?.terminate()
    await sim.close()
  }
}

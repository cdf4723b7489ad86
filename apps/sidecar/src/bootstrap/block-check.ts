import { pause } from '@ghostfleet/core'
import { z } from 'zod'
import type { VerifiedManifest } from '../checkpoint/index.js'
import { BootstrapError } from './errors.js'

/*
 * The last proof of a clone: the node, started on the installed data, serves the donor's blocks. `/block` at the
 * manifest's base and top heights must show the block hashes the signed manifest names (and the top block the
 * app hash), so the node reads the window it was given, from its own databases.
 */

const blockAnswer = z.object({
  result: z.object({
    block_id: z.object({ hash: z.string().max(200) }),
    block: z.object({ header: z.object({ height: z.string().max(30), app_hash: z.string().max(200) }) }),
  }),
})

export interface CheckServedBlocksOptions {
  /** The node's RPC, e.g. http://127.0.0.1:26657. */
  rpcUrl: string
  manifest: VerifiedManifest
  /** How long the node may take to start answering. */
  timeoutMs: number
  /** @default 250 */
  pollMs?: number
  signal?: AbortSignal
}

/** The heights checked, once they match. @throws {@link BootstrapError} `verify` */
export async function checkServedBlocks(options: CheckServedBlocksOptions): Promise<number[]> {
  const { manifest } = options
  const expected = [
    { height: manifest.blocks.base.height, hash: manifest.blocks.base.hash, appHash: null },
    {
      height: manifest.blocks.top.height,
      hash: manifest.blocks.top.hash,
      appHash: manifest.blocks.top.appHash,
    },
  ]
  const deadline = Date.now() + options.timeoutMs
  for (const want of expected) {
    let lastProblem = 'no answer yet'
    for (;;) {
      const got = await fetchBlock(options.rpcUrl, want.height, options.signal)
      if (got.ok) {
        const header = got.block.result.block.header
        if (got.block.result.block_id.hash !== want.hash || Number(header.height) !== want.height)
          throw new BootstrapError(
            'verify',
            `the node serves block ${want.height} with hash ${got.block.result.block_id.hash}, the donor's manifest ` +
              `says ${want.hash}: the installed data is not the donor's window`,
          )
        if (want.appHash !== null && header.app_hash !== want.appHash)
          throw new BootstrapError(
            'verify',
            `the node's block ${want.height} has app hash ${header.app_hash}, the donor's manifest says ${want.appHash}`,
          )
        break
      }
      lastProblem = got.problem
      if (Date.now() >= deadline || options.signal?.aborted === true)
        throw new BootstrapError(
          'verify',
          `the node at ${options.rpcUrl} did not serve block ${want.height} within ${Math.round(options.timeoutMs / 1000)} s ` +
            `(${lastProblem}); the checkpoint is installed, look at the node's log`,
        )
      await pause(options.pollMs ?? 250, options.signal)
    }
  }
  return expected.map((e) => e.height)
}

async function fetchBlock(
  rpcUrl: string,
  height: number,
  signal: AbortSignal | undefined,
): Promise<{ ok: true; block: z.infer<typeof blockAnswer> } | { ok: false; problem: string }> {
  const timeout = AbortSignal.timeout(5_000)
  try {
    const response = await fetch(`${rpcUrl.replace(/\/$/, '')}/block?height=${height}`, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    })
    const text = await response.text()
    if (response.status !== 200)
      return { ok: false, problem: `HTTP ${response.status}: ${text.slice(0, 200)}` }
    const parsed = blockAnswer.safeParse(JSON.parse(text))
    if (!parsed.success) return { ok: false, problem: `unexpected answer: ${text.slice(0, 200)}` }
    return { ok: true, block: parsed.data }
  } catch (error) {
    return { ok: false, problem: (error as Error).message }
  }
}

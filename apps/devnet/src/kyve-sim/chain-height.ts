import { z } from 'zod'

/*
 * The data-source node's height, read the way supervysor reads it: `GET {rpc}/abci_info` →
 * `result.response.last_block_height` (a decimal string; CometBFT omits it before the first block, which counts
 * as 0). Bundles can only hold blocks the node already has, so this bounds every proposal.
 */

const abciInfoSchema = z.object({
  result: z.object({
    response: z.object({
      last_block_height: z
        .string()
        .regex(/^(?:0|[1-9][0-9]*)$/, 'expected a decimal height string')
        .refine((value) => Number.isSafeInteger(Number(value)), 'height too large')
        .optional(),
    }),
  }),
})

/** The chain RPC could not tell its height; the message says why. */
export class ChainHeightError extends Error {
  constructor(
    readonly rpc: string,
    reason: string,
  ) {
    super(`chain RPC ${rpc}: ${reason}`)
    this.name = 'ChainHeightError'
  }
}

/**
 * Asks `rpc` for its latest committed height.
 * @param timeoutMs deadline for the whole request.
 * @param signal aborts the request (the simulator stopping).
 * @throws ChainHeightError when the node is unreachable, answers non-2xx, or answers something else than
 *   an `/abci_info` result.
 */
export async function fetchChainHeight(
  rpc: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = AbortSignal.timeout(timeoutMs)
  let response: Response
  let text: string
  try {
    response = await fetch(`${rpc}/abci_info`, {
      signal: signal === undefined ? deadline : AbortSignal.any([signal, deadline]),
    })
    text = await response.text()
  } catch (error) {
    const reason = deadline.aborted ? `no answer within ${timeoutMs} ms` : describeFetchError(error)
    throw new ChainHeightError(rpc, reason)
  }
  if (!response.ok) throw new ChainHeightError(rpc, `/abci_info answered HTTP ${response.status}`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ChainHeightError(rpc, `/abci_info answered non-JSON: ${JSON.stringify(text.slice(0, 80))}`)
  }
  const parsed = abciInfoSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ChainHeightError(
      rpc,
      `/abci_info answer rejected at ${issue?.path.join('.')}: ${issue?.message}`,
    )
  }
  return Number(parsed.data.result.response.last_block_height ?? '0')
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}

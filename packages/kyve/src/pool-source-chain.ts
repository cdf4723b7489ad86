import { z } from 'zod'

/**
 * Which chain a pool's data comes from, and whether a node can be its data source.
 *
 * A KYVE pool names its source chain in its runtime config: `pool.data.config` is a JSON string such as
 * `{"network":"osmosis-1","rpc":"http://localhost:26657"}` for the tendermint runtimes, and the protocol node
 * rejects every block whose `header.chain_id` differs from `config.network` (kyvejs
 * `integrations/tendermint/src/runtime.ts`). Ghostfleet prunes a node below the pool's validated height, so
 * it must know that the pool validates *this node's* chain: a wrong `--pool-id` would otherwise delete blocks
 * of one chain because another chain's pool validated heights with the same numbers.
 */

/** The runtimes whose keys are block heights of a CometBFT chain served over its RPC. */
export const BLOCK_HEIGHT_RUNTIMES = ['@kyvejs/tendermint', '@kyvejs/tendermint-bsync'] as const

const runtimeConfigSchema = z.looseObject({ network: z.string().min(1).max(128) })

/**
 * `network` of a pool's runtime config, or null when the config is not JSON (an `ar://` link, say) or does
 * not name one.
 */
export function poolSourceNetwork(config: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(config)
  } catch {
    return null
  }
  const result = runtimeConfigSchema.safeParse(parsed)
  return result.success ? result.data.network : null
}

/** The facts about a pool that decide whether a node can serve it. */
export interface PoolSourceFacts {
  poolId: number
  runtime: string
  /** `network` of the pool's runtime config; null when it names none. */
  sourceNetwork: string | null
}

/**
 * Null when a node of chain `nodeChainId` can be the pool's data source, else a message an operator can act
 * on (it names the pool, both chains and what to check).
 */
export function poolChainProblem(pool: PoolSourceFacts, nodeChainId: string): string | null {
  if (!(BLOCK_HEIGHT_RUNTIMES as readonly string[]).includes(pool.runtime)) {
    return (
      `pool ${pool.poolId} runs the runtime ${JSON.stringify(pool.runtime)}, which is not a tendermint block ` +
      `runtime (${BLOCK_HEIGHT_RUNTIMES.join(', ')}): its keys are not block heights of a node ghostfleet can ` +
      'supervise. Check --pool-id.'
    )
  }
  if (pool.sourceNetwork === null) {
    return (
      `pool ${pool.poolId}'s runtime config does not name its network, so ghostfleet cannot verify that the pool ` +
      `validates chain ${JSON.stringify(nodeChainId)}; refusing rather than pruning a chain the pool may not serve`
    )
  }
  if (pool.sourceNetwork !== nodeChainId) {
    return (
      `pool ${pool.poolId} serves chain ${JSON.stringify(pool.sourceNetwork)}, but the node runs chain ` +
      `${JSON.stringify(nodeChainId)}: pruning it to this pool's heights would delete blocks no pool validated. ` +
      'Check --pool-id (and --chain-id, the KYVE chain) against the node home.'
    )
  }
  return null
}

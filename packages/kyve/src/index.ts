/**
 * KYVE REST client: reads a pool's validated height and settings from `GET /kyve/query/v1beta1/pool/{id}`,
 * with fallback endpoints asked in order of health, a timeout on every request, capped full-jitter backoff
 * between rounds, a hard per-call deadline, and rejection of answers that are malformed, about another pool,
 * or behind an answer already accepted. Every failure is a named `KyveError` subclass.
 *
 * ```ts
 * import { createKyveClient, PoolNotFoundError } from '@ghostfleet/kyve'
 *
 * const kyve = createKyveClient({ chainId: 'kyve-1', deadlineMs: 30_000 })
 * try {
 *   const pool = await kyve.getPool(1) // Osmosis on kyve-1
 *   if (pool.poolHeight !== null) console.log(`validated up to ${pool.poolHeight} (from ${pool.endpoint})`)
 *   else console.log(`non-integer key "${pool.poolHeightKey}": never prune from it`)
 * } catch (error) {
 *   if (error instanceof PoolNotFoundError) console.error(error.message) // wrong pool id or chain id
 *   else throw error // AllEndpointsFailedError, DeadlineExceededError: hold the current mode, retry later
 * } finally {
 *   kyve.close()
 * }
 * ```
 *
 * `poolChainProblem(pool, nodeChainId)` says whether a node of that chain can be the pool's data source (a tendermint
 * block runtime whose config names the node's chain), so a wrong pool id can never prune another chain's blocks.
 *
 * `poolResponseSchema` (the zod schema of the real response body) is exported for simulators and tests.
 *
 * @packageDocumentation
 */

export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js'
export { createKyveClient, type KyveClient, type KyveClientOptions } from './client.js'
export { type EndpointHealth, LATENCY_EWMA_WEIGHT, rankEndpoints } from './endpoint-health.js'
export {
  type AcceptedPoolHeight,
  AllEndpointsFailedError,
  ClientClosedError,
  DeadlineExceededError,
  EndpointError,
  type EndpointFailure,
  EndpointHttpError,
  EndpointNetworkError,
  EndpointTimeoutError,
  EndpointTooOldError,
  InvalidOptionsError,
  InvalidPoolIdError,
  InvalidRequestError,
  InvalidResponseError,
  KyveError,
  PoolHeightRegressionError,
  PoolMismatchError,
  PoolNotFoundError,
  UnknownChainError,
} from './errors.js'
export { poolRoute } from './pool-answer.js'
export { type AnswerContext, type PoolFacts, type PoolProgress, toPoolProgress } from './pool-progress.js'
export {
  POOL_STATUSES,
  type PoolResponse,
  type PoolStatus,
  poolResponseSchema,
  poolStatusSchema,
} from './pool-schema.js'
export {
  BLOCK_HEIGHT_RUNTIMES,
  type PoolSourceFacts,
  poolChainProblem,
  poolSourceNetwork,
} from './pool-source-chain.js'
export { CHAIN_PRESETS, type KnownChainId, normalizeEndpoint, resolveEndpoints } from './presets.js'
export type { RequestEvent, RequestOutcome } from './request-event.js'
export { PACKAGE_VERSION } from './version.js'

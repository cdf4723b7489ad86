import { InvalidResponseError } from './errors.js'
import type { PoolResponse, PoolStatus } from './pool-schema.js'
import { poolSourceNetwork } from './pool-source-chain.js'

/**
 * What the fleet keeps about a pool: the sidecar's and the tracker's view of it, and the record the tracker
 * publishes in Redis. {@link PoolProgress} is this plus the details of one answer.
 */
export interface PoolFacts {
  poolId: number
  /**
   * The latest validated key: `current_key`, or `start_key` while `current_key` is "" (no bundle finalized yet).
   * `bundle_proposal.to_key` is never used: it is not validated.
   */
  poolHeightKey: string
  /** `poolHeightKey` as a number when it is a canonical decimal integer, else null (state-sync keys "height/chunk"). */
  poolHeight: number | null
  maxBundleSize: number
  /** Seconds. */
  uploadInterval: number
  status: string
  disabled: boolean
  /** The endpoint that answered. */
  endpoint: string
  /** Epoch ms when the answer arrived (the clock of whoever asked). */
  fetchedAt: number
}

/** A pool's validated progress and the settings the fleet needs, as returned by `KyveClient.getPool`. */
export interface PoolProgress extends PoolFacts {
  /** The chain id the client was created for (the response itself does not name its chain). */
  chainId: string
  keyIsInteger: boolean
  startKey: string
  currentKey: string
  status: PoolStatus
  runtime: string
  /** `network` of the pool's runtime config (the source chain id); null when the config names none. */
  sourceNetwork: string | null
  totalBundles: number
  latencyMs: number
}

/** Where and when an answer was received. */
export interface AnswerContext {
  chainId: string
  endpoint: string
  fetchedAt: number
  latencyMs: number
}

const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/

/**
 * A validated u64 string as a JS number.
 * @throws InvalidResponseError above Number.MAX_SAFE_INTEGER, where a number would silently round.
 */
function safeNumber(value: string, field: string, endpoint: string): number {
  if (!CANONICAL_DECIMAL.test(value) || BigInt(value) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidResponseError(
      endpoint,
      `${field} "${value}" is not a decimal integer within Number.MAX_SAFE_INTEGER`,
    )
  }
  return Number(value)
}

/**
 * Turns a validated response into {@link PoolProgress}.
 * @throws InvalidResponseError when a number we use (ids, sizes, an integer height key) exceeds
 *   Number.MAX_SAFE_INTEGER: rounding a height would be worse than having none.
 */
export function toPoolProgress(response: PoolResponse, context: AnswerContext): PoolProgress {
  const { pool } = response
  const data = pool.data
  const endpoint = context.endpoint
  const poolHeightKey = data.current_key === '' ? data.start_key : data.current_key
  const keyIsInteger = CANONICAL_DECIMAL.test(poolHeightKey)
  return {
    poolId: safeNumber(pool.id, 'pool.id', endpoint),
    chainId: context.chainId,
    poolHeightKey,
    poolHeight: keyIsInteger
      ? safeNumber(
          poolHeightKey,
          data.current_key === '' ? 'pool.data.start_key' : 'pool.data.current_key',
          endpoint,
        )
      : null,
    keyIsInteger,
    startKey: data.start_key,
    currentKey: data.current_key,
    maxBundleSize: safeNumber(data.max_bundle_size, 'pool.data.max_bundle_size', endpoint),
    uploadInterval: safeNumber(data.upload_interval, 'pool.data.upload_interval', endpoint),
    status: pool.status,
    runtime: data.runtime,
    sourceNetwork: poolSourceNetwork(data.config),
    disabled: data.disabled,
    totalBundles: safeNumber(data.total_bundles, 'pool.data.total_bundles', endpoint),
    endpoint,
    fetchedAt: context.fetchedAt,
    latencyMs: context.latencyMs,
  }
}

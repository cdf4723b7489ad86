/**
 * The highest height a node may be pruned to: safety invariant 1, "never prune what the pool has not
 * validated". Both the tracker (to propose) and the sidecar (to re-check whatever it is told, so a wrong or
 * forged message cannot destroy data) call this with their own view.
 *
 * "Prune to H" keeps H and deletes everything below it, as CometBFT `PruneBlocks(H)` does. So
 *
 *   H = min(pool height, node height) − margin,   margin ≥ 1
 *
 * and the decision refuses, rather than guesses, whenever anything is unknown or odd. A refusal only delays a
 * prune; a wrong prune throws away weeks of sync.
 */
import { describeValue } from './describe-value.js'
import { parseHeightKey } from './height-key.js'
import { heightProblem, positiveNumberProblem } from './input-problems.js'

export type PruneRefusal =
  | 'pool-height-unknown'
  | 'pool-height-stale'
  | 'pool-key-not-integer'
  | 'node-behind-pool'
  | 'nothing-to-prune'
  | 'invalid-input'

export type PruneDecision =
  /** Prune to `height` (keep it, delete below); `blocks` heights are deleted. */
  { prune: true; height: number; blocks: number } | { prune: false; reason: PruneRefusal; detail: string }

export interface PruneInput {
  pool: {
    /** The raw pool key (`current_key`, or `start_key` before the first bundle); `null` when not fetched. */
    height: string | null
    /** When that key was fetched (epoch ms); `null` when unknown. */
    fetchedAt: number | null
  }
  /** Current time (epoch ms) of the caller's clock. */
  now: number
  /** Oldest pool height still trusted, in ms. */
  maxPoolAgeMs: number
  /** The node's committed height. */
  nodeHeight: number
  /** The node's lowest stored block (`earliest_block_height`, the block store base). */
  nodeBase: number
  /** Heights kept below min(pool, node) on top of the one `PruneBlocks(H)` keeps; an integer ≥ 1. */
  margin: number
}

function refuse(reason: PruneRefusal, detail: string): PruneDecision {
  return { prune: false, reason, detail }
}

function isTimestamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function invalidInput(input: PruneInput): string | null {
  if (typeof input !== 'object' || input === null)
    return `expected an input object, got ${describeValue(input)}`
  if (typeof input.pool !== 'object' || input.pool === null) {
    return `pool must be { height, fetchedAt }, got ${describeValue(input.pool)}`
  }
  const { height, fetchedAt } = input.pool
  if (height !== null && typeof height !== 'string') {
    return `pool.height must be a key string or null, got ${describeValue(height)}`
  }
  if (fetchedAt !== null && !isTimestamp(fetchedAt)) {
    return `pool.fetchedAt must be epoch milliseconds or null, got ${describeValue(fetchedAt)}`
  }
  if (!isTimestamp(input.now)) return `now must be epoch milliseconds, got ${describeValue(input.now)}`
  const problem =
    positiveNumberProblem({ maxPoolAgeMs: input.maxPoolAgeMs }) ??
    heightProblem({ nodeHeight: input.nodeHeight, nodeBase: input.nodeBase })
  if (problem !== null) return problem
  if (input.nodeBase > input.nodeHeight) {
    return `nodeBase ${input.nodeBase} is above nodeHeight ${input.nodeHeight}: the node's view is inconsistent`
  }
  const margin: unknown = input.margin
  if (typeof margin !== 'number' || !Number.isSafeInteger(margin) || margin < 1) {
    return `margin must be an integer ≥ 1, got ${describeValue(margin)}`
  }
  return null
}

/**
 * Decide whether and how far to prune. Never throws: bad input is a refusal (`invalid-input`) like any other.
 *
 * Refusals, checked in this order:
 * - `invalid-input`: a number that is negative, fractional, NaN or not a number; `margin` < 1; base > height.
 * - `pool-height-unknown`: no key (`null`, or `""`: the pool has no bundle yet and no `start_key`).
 * - `pool-key-not-integer`: the key is not a canonical decimal height (see `parseHeightKey`).
 * - `pool-height-stale`: `fetchedAt` unknown, older than `maxPoolAgeMs`, or more than `maxPoolAgeMs` in the
 *   future. Some skew is normal when the tracker's clock stamped the fetch and the sidecar's clock reads it;
 *   a timestamp further ahead than the staleness limit is a broken clock or a forged message.
 * - `node-behind-pool`: the node is still catching up to the pool; prune once it is ahead (in ghost mode).
 * - `nothing-to-prune`: H is not above the node's base.
 *
 * @example
 * safePruneHeight({ pool: { height: '1000000', fetchedAt: now - 5_000 }, now, maxPoolAgeMs: 600_000,
 *   nodeHeight: 1_010_000, nodeBase: 900_000, margin: 1 })
 * // → { prune: true, height: 999_999, blocks: 99_999 }
 */
export function safePruneHeight(input: PruneInput): PruneDecision {
  const invalid = invalidInput(input)
  if (invalid !== null) return refuse('invalid-input', invalid)
  const { pool, now, maxPoolAgeMs, nodeHeight, margin } = input

  if (pool.height === null || pool.height === '') {
    return refuse('pool-height-unknown', 'the pool height is unknown (no current_key or start_key yet)')
  }
  const poolHeight = parseHeightKey(pool.height)
  if (poolHeight === null) {
    return refuse(
      'pool-key-not-integer',
      `the pool key ${describeValue(pool.height)} is not a block height ` +
        '(state-sync pools use "height/chunk" keys; other keys must be plain decimal integers)',
    )
  }

  if (pool.fetchedAt === null) {
    return refuse('pool-height-stale', `pool height ${poolHeight} has no fetch time, so it cannot be trusted`)
  }
  const age = now - pool.fetchedAt
  if (age > maxPoolAgeMs) {
    return refuse(
      'pool-height-stale',
      `pool height ${poolHeight} was fetched ${age} ms ago, more than the ${maxPoolAgeMs} ms limit`,
    )
  }
  if (-age > maxPoolAgeMs) {
    return refuse(
      'pool-height-stale',
      `pool height ${poolHeight} is stamped ${-age} ms in the future, more than the ${maxPoolAgeMs} ms ` +
        'limit: check the clocks',
    )
  }

  if (nodeHeight < poolHeight) {
    return refuse(
      'node-behind-pool',
      `node height ${nodeHeight} is behind pool height ${poolHeight}; prune once the node is ahead of the pool`,
    )
  }

  // CometBFT loads a store with blocks but base 0 as base 1 (store.go, backward compatibility).
  const base = nodeHeight > 0 && input.nodeBase === 0 ? 1 : input.nodeBase
  const height = Math.min(poolHeight, nodeHeight) - margin
  if (height <= base) {
    return refuse(
      'nothing-to-prune',
      `prune height ${height} (min(pool ${poolHeight}, node ${nodeHeight}) − margin ${margin}) ` +
        `is not above the node's base ${base}`,
    )
  }
  return { prune: true, height, blocks: height - base }
}

/**
 * The stale-pool safety valve: when the pool height is too old to decide on, a ghost node returns to normal mode
 * if the pool, advancing at its fastest since it was last seen, could have come within `heightDifferenceMin` of
 * it. A ghost node does not sync; holding ghost on a stale height could let the pool catch up with a node that no
 * longer moves, and the data source stall. Returning to normal only costs disk space.
 *
 * The sidecar deciding alone and the tracker apply this same rule, so a fleet behaves as a standalone sidecar
 * would when KYVE cannot be reached.
 */
import { describeValue } from './describe-value.js'
import { heightProblem, positiveNumberProblem } from './input-problems.js'
import type { NodeMode } from './mode.js'

export interface StalePoolInput {
  /** The node's current mode; only a ghost node can need the valve. */
  mode: NodeMode
  /** The node's committed height. */
  nodeHeight: number
  /** The last pool height seen (an integer key). */
  poolHeight: number
  /** How old that pool height is, in ms. */
  poolAgeMs: number
  /** Pool settings: at most `maxBundleSize` blocks are validated per `uploadInterval` seconds. */
  maxBundleSize: number
  uploadInterval: number
  /** The node returns to normal at diff ≤ this (hysteresis). */
  heightDifferenceMin: number
}

export type StalePoolVerdict =
  | {
      /** Return to normal now. */
      returnToNormal: true
      /** Where the pool could be now, advancing at its fastest. */
      projectedPoolHeight: number
      /** node − projected pool. */
      projectedDiff: number
      /** One line for the log, with the numbers. */
      reason: string
    }
  | { returnToNormal: false; projectedPoolHeight: number; projectedDiff: number; reason: string }

/** {@link projectStalePool} was called with values no caller should pass. */
export class StalePoolInputError extends Error {
  override readonly name = 'StalePoolInputError'
}

/**
 * @example
 * projectStalePool({ mode: 'ghost', nodeHeight: 11_000, poolHeight: 10_000, poolAgeMs: 6 * 3_600_000,
 *   maxBundleSize: 100, uploadInterval: 60, heightDifferenceMin: 500 })
 * // → { returnToNormal: true, projectedPoolHeight: 46_000, projectedDiff: -35_000, reason: 'the last pool height
 * //     (10000) is 21600 s old; advancing at its fastest the pool could be at 46000, …: normal, to be safe' }
 */
export function projectStalePool(input: StalePoolInput): StalePoolVerdict {
  const { mode, nodeHeight, poolHeight, poolAgeMs, maxBundleSize, uploadInterval, heightDifferenceMin } =
    input
  const problem =
    heightProblem({ nodeHeight, poolHeight }) ?? positiveNumberProblem({ maxBundleSize, uploadInterval })
  if (problem !== null) throw new StalePoolInputError(problem)
  if (typeof poolAgeMs !== 'number' || !Number.isFinite(poolAgeMs)) {
    throw new StalePoolInputError(`poolAgeMs must be a finite number, got ${describeValue(poolAgeMs)}`)
  }
  const ageSeconds = Math.max(0, poolAgeMs) / 1000
  const projectedPoolHeight = poolHeight + Math.ceil((maxBundleSize / uploadInterval) * ageSeconds)
  const projectedDiff = nodeHeight - projectedPoolHeight
  const age = `the last pool height (${poolHeight}) is ${Math.round(ageSeconds)} s old`
  if (mode === 'ghost' && projectedDiff <= heightDifferenceMin) {
    return {
      returnToNormal: true,
      projectedPoolHeight,
      projectedDiff,
      reason:
        `${age}; advancing at its fastest the pool could be at ${projectedPoolHeight}, within ` +
        `${Math.max(projectedDiff, 0)} blocks of the node (min ${heightDifferenceMin}): normal, to be safe`,
    }
  }
  return {
    returnToNormal: false,
    projectedPoolHeight,
    projectedDiff,
    reason:
      mode === 'ghost'
        ? `${age}; even at its fastest the pool is at most at ${projectedPoolHeight}, ${projectedDiff} blocks ` +
          `behind the node (min ${heightDifferenceMin})`
        : `${age}; a normal node keeps syncing`,
  }
}

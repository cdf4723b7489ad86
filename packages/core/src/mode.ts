/**
 * Ghost/normal mode decision with hysteresis (the rule supervysor applies every 10 s, `start.go`).
 *
 * diff = node height − pool height. At diff ≥ max the node is far enough ahead: ghost (stop syncing, keep
 * serving). At diff ≤ min it must catch up: normal. In between it keeps its current mode, so it does not
 * restart back and forth around one threshold.
 */
import { describeValue } from './describe-value.js'
import { heightProblem } from './input-problems.js'
import { type Thresholds, thresholdProblems } from './thresholds.js'

export const NODE_MODES = ['normal', 'ghost'] as const
export type NodeMode = (typeof NODE_MODES)[number]

export interface ModeInput {
  /** The node's committed height (`/abci_info` last_block_height). */
  nodeHeight: number
  /** The pool's validated height (`current_key`, else `start_key`). */
  poolHeight: number
  currentMode: NodeMode
  thresholds: Thresholds
}

export interface ModeDecision {
  mode: NodeMode
  /** `mode !== currentMode`: the node has to be restarted into the new mode. */
  changed: boolean
  /** One line for the log, with the numbers that led to the decision. */
  reason: string
  /** node height − pool height. */
  diff: number
}

/** {@link decideMode} was called with values no caller should pass (a bug upstream, not an operator error). */
export class ModeInputError extends Error {
  override readonly name = 'ModeInputError'
}

function position(diff: number): string {
  if (diff > 0) return `node is ${diff} blocks ahead of the pool`
  if (diff < 0) return `node is ${-diff} blocks behind the pool`
  return 'node is level with the pool'
}

/**
 * @example
 * decideMode({ nodeHeight: 1_012_000, poolHeight: 1_000_000, currentMode: 'normal', thresholds })
 * // → { mode: 'ghost', changed: true, diff: 12000,
 * //     reason: 'node is 12000 blocks ahead of the pool (max 11520): ghost' }
 */
export function decideMode(input: ModeInput): ModeDecision {
  const { nodeHeight, poolHeight, currentMode, thresholds } = input
  const heights = heightProblem({ nodeHeight, poolHeight })
  if (heights !== null) throw new ModeInputError(heights)
  if (!NODE_MODES.includes(currentMode)) {
    throw new ModeInputError(`currentMode must be "normal" or "ghost", got ${describeValue(currentMode)}`)
  }
  const problems = thresholdProblems(thresholds)
  if (problems.length > 0)
    throw new ModeInputError(`invalid thresholds: ${problems.map((p) => p.message).join('; ')}`)

  const max = thresholds.heightDifferenceMax
  const min = thresholds.heightDifferenceMin
  const diff = nodeHeight - poolHeight
  let mode: NodeMode
  let reason: string
  if (diff >= max) {
    mode = 'ghost'
    reason = `${position(diff)} (max ${max}): ghost`
  } else if (diff <= min) {
    mode = 'normal'
    reason = `${position(diff)} (min ${min}): normal`
  } else {
    mode = currentMode
    reason = `${position(diff)} (between min ${min} and max ${max}): stays ${currentMode}`
  }
  return { mode, changed: mode !== currentMode, reason, diff }
}

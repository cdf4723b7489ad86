/**
 * What the tracker knows about a pool's progress, from its own poll or, right after an election, from the
 * record the previous leader shared in Redis. Only the fields decisions use.
 */
import { computeThresholds, type Thresholds, ThresholdsError } from '@ghostfleet/core'

export interface PoolProgressView {
  /** The latest validated key (`current_key`, or `start_key` before the first bundle). */
  poolHeightKey: string
  /** The key as a height, or null when it is not an integer (state-sync keys): then nothing is decided. */
  poolHeight: number | null
  maxBundleSize: number
  uploadInterval: number
  /** When the answer arrived (tracker clock, epoch ms). */
  fetchedAt: number
  /** The KYVE endpoint that answered. */
  endpoint: string
  status: string
  disabled: boolean
}

/** The pool's thresholds (computed from its settings plus overrides), or why there are none. */
export type PoolThresholds = { ok: true; thresholds: Thresholds } | { ok: false; problem: string }

export function poolThresholds(
  progress: PoolProgressView | null,
  overrides: Partial<Thresholds>,
): PoolThresholds {
  if (progress === null) return { ok: false, problem: 'the pool settings are not known yet' }
  try {
    const settings = { maxBundleSize: progress.maxBundleSize, uploadInterval: progress.uploadInterval }
    return { ok: true, thresholds: computeThresholds(settings, overrides) }
  } catch (error) {
    if (error instanceof ThresholdsError)
      return { ok: false, problem: `no usable thresholds: ${error.message}` }
    throw error
  }
}

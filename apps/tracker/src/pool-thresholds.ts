/** A pool's thresholds, from the settings in what the tracker knows of its progress (its own poll or the record the
 * previous leader shared in Redis). */
import { computeThresholds, type Thresholds, ThresholdsError } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'

/** The pool's thresholds (computed from its settings plus overrides), or why there are none. */
export type PoolThresholds = { ok: true; thresholds: Thresholds } | { ok: false; problem: string }

export function poolThresholds(progress: PoolFacts | null, overrides: Partial<Thresholds>): PoolThresholds {
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

import type { SidecarSample } from '../sidecar-sample.js'

/*
 * Validated blocks only: a prune to H deletes every block below H, and H must not exceed the pool height at the
 * moment of the prune. The simulator's true pool height only grows (answer-level faults such as `regress` do not
 * change it), so a node's base above the pool height read after the node's /status means blocks were deleted that
 * the pool had not validated yet.
 */

/** The problem with a node's base, or null. `poolHeight` must be read after the sample was taken. */
export function checkValidatedBase(sample: SidecarSample, poolHeight: number): string | null {
  if (sample.base === null) return null
  if (sample.base > Math.max(poolHeight, 1)) {
    return `${sample.id}: node base ${sample.base} is above the pool height ${poolHeight}: unvalidated blocks were pruned`
  }
  return null
}

/**
 * Whether the node must be able to serve the pool height from its store: it says its store runs from `base` to
 * `nodeHeight`, and the pool height lies in between.
 */
export function mustServe(sample: SidecarSample, poolHeight: number): boolean {
  return (
    sample.nodeReachable &&
    sample.base !== null &&
    sample.nodeHeight !== null &&
    sample.base <= poolHeight &&
    poolHeight <= sample.nodeHeight &&
    poolHeight >= 1
  )
}

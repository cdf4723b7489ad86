import type { SidecarSample } from '../sidecar-sample.js'

/**
 * Whether a sidecar has settled where the hysteresis puts it: answering, idle, its node running and reachable,
 * ghost when the node is at least `max` ahead of the pool, normal when at most `min` ahead (either in between).
 * Returns why not, or null when it has.
 */
export function unsettled(
  sample: SidecarSample,
  poolHeight: number,
  thresholds: { heightDifferenceMax: number; heightDifferenceMin: number },
): string | null {
  if (!sample.answered) return 'sidecar not answering'
  if (sample.activity !== 'idle') return `activity ${sample.activity}`
  if (sample.nodeState !== 'running' || !sample.nodeReachable || sample.nodeHeight === null)
    return `node ${sample.nodeState}`
  const diff = sample.nodeHeight - poolHeight
  if (diff >= thresholds.heightDifferenceMax && sample.mode !== 'ghost')
    return `diff ${diff} but ${sample.mode}`
  if (diff <= thresholds.heightDifferenceMin && sample.mode !== 'normal')
    return `diff ${diff} but ${sample.mode}`
  return null
}

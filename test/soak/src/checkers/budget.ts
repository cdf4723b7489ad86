import { isDisrupting, type SidecarSample } from '../sidecar-sample.js'

/**
 * Availability budget: at one sampled moment, no more than `maxUnavailable` sidecars of a pool are switching
 * modes or pruning. Only disruptions the fleet chose count: a node the schedule killed is down by force, not by a
 * decision the budget governs.
 */
export function checkBudget(
  pool: number,
  samples: readonly SidecarSample[],
  maxUnavailable: number,
): string | null {
  const busy = samples.filter((s) => s.pool === pool && isDisrupting(s))
  if (busy.length <= maxUnavailable) return null
  return `pool ${pool}: ${busy.length} sidecars disrupting at once (max ${maxUnavailable}): ${busy
    .map((s) => `${s.id} ${s.activity}`)
    .join(', ')}`
}

import { z } from 'zod'

/*
 * The demo compresses days into seconds: its pool catches up at 20 blocks/s while a node needs seconds to return to
 * normal, and the budget lets one node restart at a time. Between `height_difference_min` (30 blocks here) and the
 * pool overtaking a ghost node there would be 1.5 s, less than the queue of returns takes, and the table would
 * show a negative LAG, which no real pool (a day of bundles between the two) ever gets near. So the demo holds its
 * pool a few blocks short of its lowest node: a ghost node waiting for its turn, and as much a node that has just
 * returned to normal and is still restarting (holding back for ghost nodes only let the pool overtake those).
 * The hold is the simulator's `heightCap`, which its rounds obey: pausing the pool once it was seen at the ceiling
 * let it run on for as long as the check was late (a slow tracker answer on a busy machine), past the nodes.
 */

/** How far below the lowest node the pool is held: inside `height_difference_min`, so a ghost node returns. */
export const GHOST_HOLD_BLOCKS = 20

const fleetHeights = z.looseObject({
  sidecars: z.array(z.looseObject({ nodeHeight: z.number() })),
})

/**
 * The highest the pool may go now, or null before any sidecar has reported. The heights are the sidecars' last
 * reports, which can only be lower than the nodes' heights (a node's height never goes down), never higher.
 */
export function poolCeiling(fleet: z.infer<typeof fleetHeights>): number | null {
  const heights = fleet.sidecars.map((s) => s.nodeHeight)
  return heights.length === 0 ? null : Math.min(...heights) - GHOST_HOLD_BLOCKS
}

/** The tracker's `/v1/fleet`, as far as {@link poolCeiling} needs it; null when it does not answer. */
export async function fetchFleetHeights(trackerUrl: string): Promise<z.infer<typeof fleetHeights> | null> {
  try {
    const response = await fetch(new URL('/v1/fleet', trackerUrl), { signal: AbortSignal.timeout(1000) })
    if (!response.ok) return null
    const parsed = fleetHeights.safeParse(await response.json())
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

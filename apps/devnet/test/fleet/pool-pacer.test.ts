import { describe, expect, it } from 'vitest'
import { FLEET_THRESHOLDS } from '../../src/fleet/local-fleet.js'
import { GHOST_HOLD_BLOCKS, poolCeiling } from '../../src/fleet/pool-pacer.js'

describe('poolCeiling (the demo pool held short of its ghost nodes)', () => {
  it('is the lowest node less the hold (a ghost node, or one still restarting after its return), none before reports', () => {
    const sidecar = (mode: string, nodeHeight: number) => ({ mode, nodeHeight })
    expect(poolCeiling({ sidecars: [] })).toBeNull()
    expect(poolCeiling({ sidecars: [sidecar('ghost', 400), sidecar('ghost', 380)] })).toBe(
      380 - GHOST_HOLD_BLOCKS,
    )
    expect(poolCeiling({ sidecars: [sidecar('ghost', 400), sidecar('normal', 90)] })).toBe(
      90 - GHOST_HOLD_BLOCKS,
    )
  })

  it('holds inside height_difference_min, so the held node is due to return to normal', () => {
    expect(GHOST_HOLD_BLOCKS).toBeGreaterThan(0)
    expect(GHOST_HOLD_BLOCKS).toBeLessThan(FLEET_THRESHOLDS.heightDifferenceMin)
  })
})

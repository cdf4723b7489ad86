import { describe, expect, it } from 'vitest'
import { guardPruneHeight } from '../src/control/prune-guard.js'
import { NOW, nodeAt, poolAt, unreachable } from './helpers/observations.js'

const fresh = poolAt('1000', NOW - 1_000)
const base = { now: NOW, maxPoolAgeMs: 60_000, margin: 1 }

describe('guardPruneHeight', () => {
  it('allows a height at or below the own safe height', () => {
    expect(guardPruneHeight({ ...base, requested: 999, pool: fresh, node: nodeAt(1100, 500) })).toEqual({
      allowed: true,
      height: 999,
      blocks: 499,
    })
    expect(guardPruneHeight({ ...base, requested: 700, pool: fresh, node: nodeAt(1100, 500) })).toMatchObject(
      {
        allowed: true,
        height: 700,
      },
    )
  })

  it('refuses a requested height above what this sidecar knows is validated (a wrong or forged proposal)', () => {
    const verdict = guardPruneHeight({ ...base, requested: 1000, pool: fresh, node: nodeAt(1100, 500) })
    expect(verdict).toMatchObject({ allowed: false, reason: 'above-own-safe-height' })
    expect(
      guardPruneHeight({ ...base, requested: 5000, pool: fresh, node: nodeAt(6000, 500) }),
    ).toMatchObject({
      allowed: false,
      reason: 'above-own-safe-height',
    })
  })

  it("takes the lower of the app and the block-store height as the node's height", () => {
    // The app says 2100 but the block store only reaches 1500, below the pool: the node's view is behind.
    const node = { ...nodeAt(2100, 500), storeHeight: 1500 }
    const pool = poolAt('2000', NOW - 1_000)
    expect(guardPruneHeight({ ...base, requested: 1499, pool, node })).toMatchObject({
      allowed: false,
      reason: 'node-behind-pool',
    })
    expect(guardPruneHeight({ ...base, requested: 1499, pool, node: nodeAt(2100, 500) })).toMatchObject({
      allowed: true,
    })
  })

  it('refuses on a stale or unknown pool view, an unreachable node, or nothing to prune', () => {
    const stale = poolAt('1000', NOW - 61_000)
    expect(guardPruneHeight({ ...base, requested: 900, pool: stale, node: nodeAt(1100, 500) })).toMatchObject(
      {
        allowed: false,
        reason: 'pool-height-stale',
      },
    )
    expect(
      guardPruneHeight({
        ...base,
        requested: 900,
        pool: null,
        node: nodeAt(1100),
      }),
    ).toMatchObject({ allowed: false, reason: 'pool-height-unknown' })
    expect(guardPruneHeight({ ...base, requested: 900, pool: fresh, node: unreachable() })).toMatchObject({
      allowed: false,
    })
    expect(guardPruneHeight({ ...base, requested: 500, pool: fresh, node: nodeAt(1100, 500) })).toMatchObject(
      {
        allowed: false,
        reason: 'nothing-to-prune',
      },
    )
  })
})

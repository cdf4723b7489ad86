import type { PoolFacts } from '@ghostfleet/kyve'
import { describe, expect, it } from 'vitest'
import type { DecisionInput } from '../src/control/decision-source.js'
import { LocalDecisionSource } from '../src/control/local-decider.js'
import { NOW, nodeAt, poolAt, unreachable } from './helpers/observations.js'

const thresholds = { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 }

/** A decider whose ticks see `pool` as the sidecar's own KYVE answer. */
function decider(pool: PoolFacts | null, pruning = { enabled: true, margin: 1 }) {
  const source = new LocalDecisionSource({ thresholds, maxPoolAgeMs: 60_000, pruning })
  return {
    decide: (input: Omit<DecisionInput, 'pool'>) =>
      source.decide({ ...input, pool: { own: pool, published: null } }),
  }
}

describe('LocalDecisionSource: mode', () => {
  it('applies hysteresis: ghost at diff ≥ max, normal at diff ≤ min, otherwise keeps the mode', async () => {
    const d = decider(poolAt(1000))
    expect((await d.decide({ now: NOW, mode: 'normal', node: nodeAt(1040), pruneDue: false })).mode).toBe(
      'ghost',
    )
    expect((await d.decide({ now: NOW, mode: 'normal', node: nodeAt(1039), pruneDue: false })).mode).toBe(
      'normal',
    )
    expect((await d.decide({ now: NOW, mode: 'ghost', node: nodeAt(1021), pruneDue: false })).mode).toBe(
      'ghost',
    )
    expect((await d.decide({ now: NOW, mode: 'ghost', node: nodeAt(1020), pruneDue: false })).mode).toBe(
      'normal',
    )
    const d2 = await d.decide({ now: NOW, mode: 'normal', node: nodeAt(1040), pruneDue: false })
    expect(d2).toMatchObject({ diff: 40, decidedBy: 'local', pruneToHeight: null })
    expect(d2.reason).toMatch(/40 blocks ahead.*ghost/)
  })

  it('holds the mode when the node does not answer, the pool is unknown, or its key is not a height', async () => {
    for (const mode of ['normal', 'ghost'] as const) {
      const unreachableNode = await decider(poolAt(1000)).decide({
        now: NOW,
        mode,
        node: unreachable(),
        pruneDue: true,
      })
      expect(unreachableNode).toMatchObject({ mode, pruneToHeight: null })
      expect(unreachableNode.reason).toMatch(/node unreachable/)
      const noPool = await decider(null).decide({ now: NOW, mode, node: nodeAt(5000), pruneDue: true })
      expect(noPool).toMatchObject({ mode, pruneToHeight: null })
      expect(noPool.reason).toMatch(/pool height unknown/)
      const ssync = await decider(poolAt('1000/2')).decide({
        now: NOW,
        mode,
        node: nodeAt(5000),
        pruneDue: true,
      })
      expect(ssync).toMatchObject({ mode, pruneToHeight: null })
      expect(ssync.reason).toMatch(/not a block height/)
    }
  })

  it('holds the mode on a stale pool height (the KYVE API is down), in both modes', async () => {
    const stale = poolAt(1000, NOW - 61_000)
    // normal, far ahead: a fresh pool would send it to ghost; a stale one holds.
    expect(
      (await decider(stale).decide({ now: NOW, mode: 'normal', node: nodeAt(1100), pruneDue: false })).mode,
    ).toBe('normal')
    // ghost, far enough ahead that even the fastest pool cannot have caught up: holds ghost.
    const held = await decider(stale).decide({ now: NOW, mode: 'ghost', node: nodeAt(1200), pruneDue: true })
    expect(held).toMatchObject({ mode: 'ghost', pruneToHeight: null })
    expect(held.reason).toMatch(/61 s old/)
  })

  it('returns a ghost node to normal when the pool, at its fastest, could have caught up during a long outage', async () => {
    // 100 blocks per 60 s at most: after 20 min the pool may be 2000 blocks further, past the node's margin.
    const stale = poolAt(1000, NOW - 20 * 60_000)
    const decision = await decider(stale).decide({
      now: NOW,
      mode: 'ghost',
      node: nodeAt(1200),
      pruneDue: true,
    })
    expect(decision).toMatchObject({ mode: 'normal', pruneToHeight: null })
    expect(decision.reason).toMatch(/could be at 3000/)
    // Ten seconds of outage cannot close a 200-block gap: still ghost.
    const recent = poolAt(1000, NOW - 61_000)
    expect(
      (await decider(recent).decide({ now: NOW, mode: 'ghost', node: nodeAt(1200), pruneDue: false })).mode,
    ).toBe('ghost')
  })
})

describe('LocalDecisionSource: pruning', () => {
  it('prunes to min(pool, node) − margin only in ghost mode and only when due', async () => {
    const d = decider(poolAt(1000))
    const due = await d.decide({ now: NOW, mode: 'ghost', node: nodeAt(1100, 500), pruneDue: true })
    expect(due).toMatchObject({ mode: 'ghost', pruneToHeight: 999, pruneRefusal: null })
    expect(
      (await d.decide({ now: NOW, mode: 'ghost', node: nodeAt(1100, 500), pruneDue: false })).pruneToHeight,
    ).toBe(null)
    // Normal mode: deferred until ghost, as in supervysor.
    expect(
      (await d.decide({ now: NOW, mode: 'normal', node: nodeAt(1030, 500), pruneDue: true })).pruneToHeight,
    ).toBe(null)
    // Switching now: no prune in the same tick.
    expect(
      (await d.decide({ now: NOW, mode: 'ghost', node: nodeAt(1010, 500), pruneDue: true })).pruneToHeight,
    ).toBe(null)
    // Disabled.
    const off = decider(poolAt(1000), { enabled: false, margin: 1 })
    expect(
      (await off.decide({ now: NOW, mode: 'ghost', node: nodeAt(1100, 500), pruneDue: true })).pruneToHeight,
    ).toBe(null)
  })

  it('reports why a due prune is refused', async () => {
    const nothing = await decider(poolAt(1000)).decide({
      now: NOW,
      mode: 'ghost',
      node: nodeAt(1100, 999),
      pruneDue: true,
    })
    expect(nothing.pruneRefusal?.reason).toBe('nothing-to-prune')
    expect(nothing.pruneToHeight).toBe(null)
    const margin = await decider(poolAt(1000), { enabled: true, margin: 10 }).decide({
      now: NOW,
      mode: 'ghost',
      node: nodeAt(1100, 500),
      pruneDue: true,
    })
    expect(margin.pruneToHeight).toBe(990)
  })
})

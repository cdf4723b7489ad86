import { type PruneDecision, safePruneHeight } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { PruneRefusalReason } from '../prune-refusal.js'
import type { NodeObservation } from './node-observer.js'

/**
 * The last line of defence before a prune (never prune what the pool has not validated): whoever proposed the height — the local
 * decider or, in fleet mode, a tracker — the sidecar recomputes the safe height from its own view of the pool
 * and the node right now, and refuses anything above it. A wrong or forged proposal costs a log line, never
 * blocks the pool still needs.
 */
export interface GuardInput {
  requested: number
  /** This sidecar's own KYVE answer (never a tracker's published record), or null when it has none. */
  pool: PoolFacts | null
  node: NodeObservation
  now: number
  maxPoolAgeMs: number
  margin: number
}

export type GuardVerdict =
  | { allowed: true; height: number; blocks: number }
  | { allowed: false; reason: PruneRefusalReason; detail: string }

/** The safe height from this sidecar's own view (the node height is the lower of app and store height). */
export function ownSafePruneHeight(input: Omit<GuardInput, 'requested'>): PruneDecision {
  const node = input.node
  if (!node.reachable) {
    return {
      prune: false,
      reason: 'invalid-input',
      detail: `the node did not answer (${node.error}), so its height and base are unknown`,
    }
  }
  return safePruneHeight({
    pool: { height: input.pool?.poolHeightKey ?? null, fetchedAt: input.pool?.fetchedAt ?? null },
    now: input.now,
    maxPoolAgeMs: input.maxPoolAgeMs,
    // The pruner refuses a height above the block store; the app may lag it by one. Take the lower.
    nodeHeight: Math.min(node.appHeight, node.storeHeight),
    nodeBase: node.base,
    margin: input.margin,
  })
}

/** Allows `requested` only if it is not above the sidecar's own safe height. */
export function guardPruneHeight(input: GuardInput): GuardVerdict {
  const own = ownSafePruneHeight(input)
  if (!own.prune) return { allowed: false, reason: own.reason, detail: own.detail }
  if (!Number.isSafeInteger(input.requested) || input.requested < 1) {
    return {
      allowed: false,
      reason: 'invalid-input',
      detail: `prune height ${input.requested} is not a height`,
    }
  }
  if (input.requested > own.height) {
    return {
      allowed: false,
      reason: 'above-own-safe-height',
      detail:
        `requested prune height ${input.requested} is above this sidecar's own safe height ${own.height} ` +
        `(pool ${input.pool?.poolHeightKey}, margin ${input.margin}): refused`,
    }
  }
  const base = input.node.reachable ? Math.max(1, input.node.base) : 1
  if (input.requested <= base) {
    return {
      allowed: false,
      reason: 'nothing-to-prune',
      detail: `requested prune height ${input.requested} is not above the node's base ${base}`,
    }
  }
  return { allowed: true, height: input.requested, blocks: input.requested - base }
}

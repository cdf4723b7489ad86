import type { PruneRefusal } from '@ghostfleet/core'

/** Core's refusals plus the one only a remote decision can earn. */
export type PruneRefusalReason = PruneRefusal | 'above-own-safe-height'

/** Every refusal reason, for metric label pre-registration (bounded cardinality). */
export const PRUNE_REFUSAL_REASONS: readonly PruneRefusalReason[] = [
  'pool-height-unknown',
  'pool-height-stale',
  'pool-key-not-integer',
  'node-behind-pool',
  'nothing-to-prune',
  'invalid-input',
  'above-own-safe-height',
]

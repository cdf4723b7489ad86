import type { Sibling } from '@ghostfleet/coordination'
import type { LocalNodeState } from './local-node.js'

/** One place to ask, in the order they are tried. */
export type Upstream = { kind: 'local' } | { kind: 'sibling'; sibling: Sibling }

/**
 * Where a call goes, in order; the first good answer wins (see gateway-router.ts for what "good" means).
 *
 * With a height h:
 * 1. the local node, when it is up and its base is at most h. Also for h above its last observed height: the
 *    node has grown since the last look, and if it has not got h yet it says so and the next one is asked;
 * 2. siblings whose report says they serve [base, height] ∋ h, the highest first (the furthest from being
 *    pruned or overtaken);
 * 3. serving siblings whose base is at most h but whose report is below h (they report every few seconds and
 *    may have it by now), the highest first;
 * 4. nothing else: a sibling whose base is above h, or whose node is down, cannot answer.
 *
 * Without a height (`/status`, `/abci_info`, `/health`, `/block` for the latest): the local node when it is up,
 * else the serving sibling with the highest height. "The latest" of a sibling can differ from what the local node
 * would have said by a few blocks; that is the answer a protocol node gets from any healthy node of the pool.
 */
export function planRoute(
  height: number | null,
  local: LocalNodeState,
  siblings: readonly Sibling[],
): Upstream[] {
  const plan: Upstream[] = []
  if (local.up && (height === null || local.base <= height)) plan.push({ kind: 'local' })
  const serving = siblings.filter((sibling) => sibling.serving).sort((a, b) => b.height - a.height)
  if (height === null) {
    for (const sibling of serving) plan.push({ kind: 'sibling', sibling })
    return plan
  }
  const holding = serving.filter((sibling) => sibling.base <= height && height <= sibling.height)
  const maybe = serving.filter((sibling) => sibling.base <= height && height > sibling.height)
  for (const sibling of [...holding, ...maybe]) plan.push({ kind: 'sibling', sibling })
  return plan
}

/** The fencing token of a desired state: the leader epoch it was issued under, then its generation. */
export interface FencingToken {
  epoch: number
  generation: number
}

/**
 * Orders two tokens the way the storage does (`includes/storeDesired.lua`): by epoch, then by generation.
 * Returns a negative number when `a` is older, 0 when equal, positive when `a` is newer. A sidecar applies a
 * desired state only when `compareFencingTokens(state, applied) > 0`, with `applied` read from its own disk.
 */
export function compareFencingTokens(a: FencingToken, b: FencingToken): number {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1
  if (a.generation !== b.generation) return a.generation < b.generation ? -1 : 1
  return 0
}

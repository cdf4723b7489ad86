import type { PoolFacts } from '@ghostfleet/kyve'

/**
 * The pool as the controller sees it in one tick, taken once and handed to the decision source and the prune guard.
 * The two answers are kept apart because only one of them may justify deleting data.
 */
export interface PoolSnapshot {
  /** The last good answer of this sidecar's own KYVE client, however old (check `fetchedAt`): a prune rests on it. */
  own: PoolFacts | null
  /**
   * The pool progress a tracker published in Redis (fleet mode, read after the own answer): shown, never trusted
   * with a prune, because the record is not signed.
   */
  published: PoolFacts | null
}

/** The pool the sidecar shows and measures the node against: the tracker's record while it is read, else its own. */
export function shownPool(pool: PoolSnapshot): PoolFacts | null {
  return pool.published ?? pool.own
}

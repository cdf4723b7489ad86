/**
 * When the next prune is due. Pure: the caller passes the persisted times, so the schedule survives sidecar
 * restarts (supervysor counted in memory and started over after every restart).
 *
 * - The clock starts when the sidecar first runs (`clockStartedAt`, persisted once): the first prune is due one
 *   interval later, not at once, as in supervysor, whose counter started at zero. An operator who wants an
 *   immediate prune runs `ghostfleet-sidecar prune` by hand.
 * - After a successful prune the next one is due one interval after it.
 * - An attempt that failed or was interrupted (it started after the last success) is retried after
 *   `retryAfterFailureMs`, not on every tick: a prune stops the node, and a broken store must not turn into a
 *   restart loop.
 * - The schedule says only *when*; pruning happens in ghost mode only, so a prune that falls due in normal mode
 *   waits for the next ghost period (as in supervysor).
 */
export interface PruneScheduleInput {
  intervalMs: number
  /** When the last successful prune finished (epoch ms), or null. */
  lastPruneAt: number | null
  /** When the last attempt started, successful or not, or null. */
  lastAttemptAt: number | null
  /** When the prune clock started (the sidecar's first run). */
  clockStartedAt: number
  retryAfterFailureMs: number
}

/** Epoch ms at which the next prune is due. */
export function nextPruneDueAt(input: PruneScheduleInput): number {
  const regular = (input.lastPruneAt ?? input.clockStartedAt) + input.intervalMs
  const failedAttempt =
    input.lastAttemptAt !== null && (input.lastPruneAt === null || input.lastAttemptAt > input.lastPruneAt)
  if (!failedAttempt || input.lastAttemptAt === null) return regular
  return input.lastAttemptAt + input.retryAfterFailureMs
}

/** How long to wait before retrying a failed prune: the interval, but at most 10 minutes. */
export function retryAfterFailureMs(intervalMs: number): number {
  return Math.min(intervalMs, 10 * 60_000)
}

import type { LastPrune } from '../state/sidecar-state.js'
import type { StateKeeper } from '../state/state-keeper.js'
import type { NodeLifecycle } from './node-lifecycle.js'

/**
 * One prune of the running node, in an order that is safe to interrupt anywhere:
 *   1. record the attempt (`lastPruneAttemptAt`), so a failing prune is retried on a slower schedule and a
 *      restarted sidecar knows an attempt did not complete;
 *   2. stop the node (SIGTERM, wait for the exit, SIGKILL after the grace period);
 *   3. wait until the databases' LOCK files are free — a condition with a deadline, not a sleep: the process
 *      has exited, but a forked helper could still hold them;
 *   4. prune (crash-safe per batch: a kill leaves a consistent store with a base between the old base and H,
 *      and the next prune to H finishes the job);
 *   5. record the result (`lastPrune`), so the interval survives restarts;
 *   6. start the node again in the same mode — also when 3 or 4 failed: a failed prune must not leave the node
 *      down. The caller then checks `/status` earliest_block_height == H once the node answers.
 * When the sidecar is told to shut down mid-prune, `signal` aborts the pruner at its next batch boundary (what is
 * written stays consistent) and step 6 is skipped: the node stays stopped, as the shutdown wants it.
 */
export interface PruneResultLike {
  fromBase: number
  toBase: number
  blocksPruned: number
  bytesBefore: number
  bytesAfter: number
  durationMs: number
  noop: boolean
}

export interface PruneOperationDeps {
  node: NodeLifecycle
  state: StateKeeper
  now: () => number
  /** Resolves once no process holds the databases; rejects at its deadline. */
  waitUntilUnlocked: () => Promise<void>
  /** The offline pruner over the node home; it stops at a batch boundary when `signal` aborts. */
  prune: (untilHeight: number, signal: AbortSignal) => Promise<PruneResultLike>
  /** Aborts when the sidecar shuts down. */
  signal: AbortSignal
  /**
   * More work in the same stop, after the prune (a donation's checkpoint, so it holds the pruned home): run once
   * the databases were free, whether the prune succeeded or not, before the start. Its errors are its own.
   */
  whileStopped?: () => Promise<void>
}

export type PruneRun =
  | {
      outcome: 'ok' | 'noop'
      height: number
      result: PruneResultLike
      durationMs: number
      startError: Error | null
    }
  | { outcome: 'failed'; height: number; error: Error; durationMs: number; startError: Error | null }

export async function runPrune(deps: PruneOperationDeps, height: number): Promise<PruneRun> {
  const started = deps.now()
  await deps.state.update({ lastPruneAttemptAt: started })
  let run: PruneRun
  let unlocked = false
  try {
    await deps.node.stop()
    await deps.waitUntilUnlocked()
    unlocked = true
    const result = await deps.prune(height, deps.signal)
    const lastPrune: LastPrune = {
      toHeight: result.noop ? Math.max(1, result.toBase) : result.toBase,
      fromBase: result.fromBase,
      blocks: result.blocksPruned,
      bytesBefore: result.bytesBefore,
      bytesAfter: result.bytesAfter,
      durationMs: result.durationMs,
      at: deps.now(),
    }
    await deps.state.update({ lastPrune })
    run = {
      outcome: result.noop ? 'noop' : 'ok',
      height,
      result,
      durationMs: 0,
      startError: null,
    }
  } catch (error) {
    run = {
      outcome: 'failed',
      height,
      error: error instanceof Error ? error : new Error(String(error)),
      durationMs: 0,
      startError: null,
    }
  }
  if (unlocked && !deps.signal.aborted && deps.whileStopped !== undefined) {
    await deps.whileStopped().catch(() => undefined)
  }
  if (!deps.signal.aborted) {
    try {
      await deps.node.start()
    } catch (error) {
      run.startError = error instanceof Error ? error : new Error(String(error))
    }
  }
  run.durationMs = deps.now() - started
  return run
}

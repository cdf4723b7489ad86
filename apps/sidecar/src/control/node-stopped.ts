import type { NodeLifecycle } from './node-lifecycle.js'

/**
 * Work done on the node's home while the node is stopped (a checkpoint for a donation), in the order a prune uses
 * (`prune-operation.ts`): stop (SIGTERM, grace, SIGKILL), wait until the databases' LOCK files are free (a
 * deadline, not a sleep), the work, then start the node again — also when the wait or the work failed, so a failed
 * donation never leaves the node down. On shutdown (`signal` aborted) the node stays stopped, as the shutdown wants.
 */
export interface NodeStoppedDeps {
  node: NodeLifecycle
  waitUntilUnlocked: () => Promise<void>
  signal: AbortSignal
  now: () => number
}

export interface NodeStoppedRun {
  /** The stop, the wait or the work failed. */
  error: Error | null
  startError: Error | null
  /** From the stop to the start's return: the node's downtime, without the time it takes to answer again. */
  downtimeMs: number
}

export async function whileNodeStopped(
  deps: NodeStoppedDeps,
  work: () => Promise<void>,
): Promise<NodeStoppedRun> {
  const started = deps.now()
  let error: Error | null = null
  try {
    await deps.node.stop()
    await deps.waitUntilUnlocked()
    await work()
  } catch (caught) {
    error = caught instanceof Error ? caught : new Error(String(caught))
  }
  let startError: Error | null = null
  if (!deps.signal.aborted) {
    try {
      await deps.node.start()
    } catch (caught) {
      startError = caught instanceof Error ? caught : new Error(String(caught))
    }
  }
  return { error, startError, downtimeMs: deps.now() - started }
}

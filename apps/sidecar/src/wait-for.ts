/**
 * Waiting for a condition with a deadline: the only way this app waits.
 *
 * supervysor slept fixed 10–30 s around every restart and prune and tuned the numbers by hand when they were
 * wrong. Here every wait names what it waits for (a process exited, a lock is free, the node answers) and gives
 * up at a deadline with an error that says which condition did not hold. The poll interval is how often we
 * look, never a guess at how long the thing takes.
 */
import { pause } from '@ghostfleet/core'

/** A condition did not hold before its deadline. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError'
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastProblem: string | undefined,
  ) {
    super(
      `timed out after ${timeoutMs} ms waiting for ${what}${lastProblem ? ` (last: ${lastProblem})` : ''}`,
    )
  }
}

/** The wait was abandoned because its signal aborted (the sidecar is shutting down). */
export class WaitAbortedError extends Error {
  override readonly name = 'WaitAbortedError'
  constructor(readonly what: string) {
    super(`stopped waiting for ${what}: shutting down`)
  }
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number
  /** How often to look. @default 50 */
  pollMs?: number
  signal?: AbortSignal
}

/** Outcome of one look: `{ done: true, value }` ends the wait; `{ done: false, problem }` says what is missing. */
export type Probe<T> = { done: true; value: T } | { done: false; problem?: string }

/**
 * Polls `probe` until it reports done, and returns its value.
 *
 * @throws {@link WaitTimeoutError} at the deadline, naming `what` and the last problem the probe reported.
 * @throws {@link WaitAbortedError} when `signal` aborts first.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Probe<T> | Promise<Probe<T>>,
  options: WaitOptions,
): Promise<T> {
  const pollMs = options.pollMs ?? 50
  const deadline = Date.now() + options.timeoutMs
  let lastProblem: string | undefined
  for (;;) {
    if (options.signal?.aborted) throw new WaitAbortedError(what)
    const result = await probe()
    if (result.done) return result.value
    lastProblem = result.problem ?? lastProblem
    const left = deadline - Date.now()
    if (left <= 0) throw new WaitTimeoutError(what, options.timeoutMs, lastProblem)
    await pause(Math.min(pollMs, left), options.signal)
  }
}

/** Resolves with the promise's value, or `undefined` if it has not settled within `ms` (it keeps running). */
export async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

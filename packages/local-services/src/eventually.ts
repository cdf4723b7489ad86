/** Options for {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this many milliseconds. @default 10000 */
  timeoutMs?: number
  /** Wait this long between attempts. @default 50 */
  intervalMs?: number
  /** Shown in the error when the deadline passes. */
  description?: string
}

/**
 * Polls `check` until it returns (or resolves) without throwing, and returns its value.
 * Tests and the local fleet wait for conditions with deadlines, never for fixed times: this is the one way to wait.
 * The last error is rethrown with the description when the deadline passes.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const intervalMs = options.intervalMs ?? 50
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      return await check()
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) break
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError)
  const what = options.description ? ` waiting for ${options.description}` : ''
  const error = new Error(`eventually: timed out after ${timeoutMs} ms${what}: ${reason}`)
  error.cause = lastError
  throw error
}

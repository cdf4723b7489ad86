/**
 * Resolves after `ms` or as soon as `signal` aborts (never rejects); the building block of bounded polling and
 * of backoff waits that a shutdown must be able to cut short, not a sleep.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve()
      return
    }
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

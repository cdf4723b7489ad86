import type { RedisClient } from './connection.js'

/**
 * Resolves `true` as soon as the connection is ready for commands, `false` when `timeoutMs` passes, the signal
 * aborts or the connection is closed for good. A wait for a condition with a deadline, used after a command
 * failed on a lost connection, so a loop neither spins nor sleeps a guessed time.
 */
export async function waitForReady(
  redis: RedisClient,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (redis.status === 'ready') return true
  if (redis.status === 'end' || signal?.aborted) return false
  return await new Promise<boolean>((resolve) => {
    const finish = (ready: boolean) => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      redis.off('end', onEnd)
      signal?.removeEventListener('abort', onEnd)
      resolve(ready)
    }
    const onReady = () => finish(true)
    const onEnd = () => finish(false)
    const timer = setTimeout(onEnd, timeoutMs)
    redis.on('ready', onReady)
    redis.on('end', onEnd)
    signal?.addEventListener('abort', onEnd, { once: true })
  })
}

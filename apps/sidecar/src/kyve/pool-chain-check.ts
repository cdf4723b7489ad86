import type { PoolSource } from '../control/pool-refresher.js'
import { PoolChainMismatchError } from './kyve-source.js'

/** How long `start` waits for the pool before launching the node anyway (the check goes on in the pool refresher). */
export const STARTUP_CHAIN_CHECK_MS = 10_000

export type PoolChainCheck =
  | { kind: 'verified' }
  | { kind: 'mismatch'; message: string }
  | { kind: 'unverified'; reason: string }

/**
 * One bounded attempt to learn whether the pool validates the node's chain (the source rejects answers that do
 * not, see {@link PoolChainMismatchError}). Never throws: an unreachable API is `unverified`, not fatal.
 */
export async function verifyPoolChain(
  source: PoolSource,
  poolId: number,
  deadlineMs: number,
): Promise<PoolChainCheck> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<PoolChainCheck>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'unverified', reason: `no KYVE answer within ${deadlineMs} ms` }),
      deadlineMs,
    )
  })
  const attempt = source.getPool(poolId).then(
    (): PoolChainCheck => ({ kind: 'verified' }),
    (error: unknown): PoolChainCheck =>
      error instanceof PoolChainMismatchError
        ? { kind: 'mismatch', message: error.message }
        : { kind: 'unverified', reason: (error as Error).message },
  )
  try {
    return await Promise.race([attempt, deadline])
  } finally {
    clearTimeout(timer)
  }
}

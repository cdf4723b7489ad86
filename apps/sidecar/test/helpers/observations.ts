import type { PoolFacts } from '@ghostfleet/kyve'
import type { NodeObservation } from '../../src/control/node-observer.js'

export const NOW = 1_800_000_000_000

export function nodeAt(height: number, base = 1, catchingUp = false): NodeObservation {
  return { reachable: true, at: NOW, appHeight: height, storeHeight: height, base, catchingUp }
}

export function unreachable(error = 'connect ECONNREFUSED 127.0.0.1:26657'): NodeObservation {
  return { reachable: false, at: NOW, kind: 'unreachable', error }
}

export function poolAt(
  height: number | string,
  fetchedAt = NOW - 1_000,
  extra: Partial<PoolFacts> = {},
): PoolFacts {
  const key = String(height)
  return {
    poolId: 1,
    poolHeightKey: key,
    poolHeight: /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : null,
    maxBundleSize: 100,
    uploadInterval: 60,
    status: 'POOL_STATUS_ACTIVE',
    disabled: false,
    endpoint: 'http://127.0.0.1:1317',
    fetchedAt,
    ...extra,
  }
}

/**
 * A KYVE pool as the tracker knows it: the KYVE chain it lives on and its id. Sidecars name it in every report;
 * the tracker polls each one once per interval however many sidecars serve it.
 */

export interface PoolRef {
  /** The KYVE chain id (`kyve-1`, `kaon-1`, …), as the sidecar reports it. */
  chainId: string
  poolId: number
}

/** `kyve-1/3`: the map key and the human name of a pool. Chain ids cannot contain `/`, so it is unambiguous. */
export function poolKey(pool: PoolRef): string {
  return `${pool.chainId}/${pool.poolId}`
}

/**
 * One sidecar (or tracker) HTTP server that a discoverer found. The tracker and Prometheus reach it at
 * `address`; `id` is what it is called everywhere else (Redis keys, metrics labels, the fleet API).
 */
export interface DiscoveredTarget {
  /** The service id: for a sidecar, its sidecar id (the same id it reports under on Redis). */
  id: string
  /** `host:port` of the target's HTTP server (`[::1]:26670` for IPv6). */
  address: string
  /** The KYVE data-source chain, from the `chain:<id>` tag or the `chain_id` label. */
  chainId?: string
  /** The KYVE pool, from the `pool:<n>` tag or the `pool_id` label. */
  poolId?: number
  /** The node mode the sidecar last registered (`normal` or `ghost`), from the `mode:<m>` tag or label. */
  mode?: string
  /**
   * Consul: every check of the instance (its own and its node's) is passing. Static and file targets carry
   * no health information and are always `true`: whoever probes them decides.
   */
  healthy: boolean
  /** Consul service meta (`version`, `node_id`), or the file_sd labels of the target's group. */
  meta: Record<string, string>
}

/**
 * Where the tracker (and anything else) finds the fleet. One method, so the static list, the file and Consul
 * are interchangeable, as in solana-cluster's `Discoverer`.
 *
 * Each call is a fresh look: nothing is cached between calls, so a target that disappeared from the source
 * disappears from the next answer (no dead entries kept forever).
 */
export interface Discoverer {
  /**
   * The targets the source lists right now.
   * @throws when the source cannot be read or its answer is malformed; never returns a partial list.
   */
  discover(signal?: AbortSignal): Promise<DiscoveredTarget[]>
}

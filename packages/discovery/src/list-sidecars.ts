import { ConsulDiscoverer, type ConsulDiscovererOptions } from './consul-discoverer.js'
import type { DiscoveredTarget } from './discoverer.js'

/**
 * Every instance of the sidecar service Consul knows, passing or not (`healthy` tells which): the Consul side
 * of {@link reconcile}. A sidecar whose check is critical is still registered, and is exactly the kind that
 * may have gone silent on Redis, so it must not be filtered out here.
 *
 * @example
 * const inConsul = await listSidecarsFromConsul({ url: 'http://127.0.0.1:8500', token })
 * const report = reconcile(inConsul, await reportingSidecarIds(redis))
 */
export async function listSidecarsFromConsul(
  options: Omit<ConsulDiscovererOptions, 'passingOnly'>,
  signal?: AbortSignal,
): Promise<DiscoveredTarget[]> {
  const discoverer = new ConsulDiscoverer({ ...options, passingOnly: false })
  try {
    return await discoverer.discover(signal)
  } finally {
    discoverer.close()
  }
}

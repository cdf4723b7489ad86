/**
 * `@ghostfleet/discovery`: where the fleet is. One small interface, {@link Discoverer}, with three sources
 * (a static list, a Prometheus `file_sd` JSON file, Consul's health API), the sidecar's and tracker's own
 * Consul registration kept alive across agent restarts, and the comparison of Consul with Redis.
 *
 * - `StaticDiscoverer`, `FileDiscoverer`, `ConsulDiscoverer`: `discover()` asks the source afresh every time,
 *   so a target that left the source leaves the answer (no dead entries kept forever).
 * - `ConsulRegistration`: `register()`, `updateTags()` on a mode change, `start(intervalMs)` to re-register
 *   whenever the agent forgot the service (never throws; Consul down is logged and retried), `deregister()`.
 * - `listSidecarsFromConsul` and `reconcile`: sidecars registered in Consul but silent on Redis, and the reverse.
 * - Every option is validated at construction: `InvalidOptionsError` names each problem
 *   (`url: consul url must be http(s)://host:port, got "consul:8500"`).
 *
 * @example
 * ```ts
 * import { ConsulDiscoverer, ConsulRegistration, reconcile, listSidecarsFromConsul, sidecarTags } from '@ghostfleet/discovery'
 *
 * // sidecar
 * const registration = new ConsulRegistration({
 *   url: 'http://127.0.0.1:8500', token, service: 'ghostfleet-sidecar', id: 'ghostfleet-sidecar-host1-1',
 *   address: '10.0.0.5', port: 26670, tags: sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'normal' }),
 *   meta: { version: '0.1.0', node_id: nodeId },
 *   check: { http: 'http://10.0.0.5:26670/readyz', interval: '10s', timeout: '5s', deregisterCriticalServiceAfter: '5m' },
 *   logger,
 * })
 * registration.start(30_000)
 * await registration.updateTags(sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'ghost' }))
 * await registration.deregister() // on shutdown
 *
 * // tracker
 * const consul = new ConsulDiscoverer({ url: 'http://127.0.0.1:8500', token }) // passing instances only
 * const targets = await consul.discover(AbortSignal.timeout(5_000))
 * const { silentOnRedis, missingFromConsul } = reconcile(await listSidecarsFromConsul({ url, token }), reportingIds)
 * ```
 */

export { ConsulDiscoverer, type ConsulDiscovererOptions } from './consul-discoverer.js'
export {
  ConsulRegistration,
  type RegistrationState,
  type RegistrationStatus,
} from './consul-registration.js'
export {
  CONSUL_TOKEN_ENV,
  CONSUL_URL_ENV,
  type ConsulSettings,
  ConsulSettingsError,
  consulSettingsFrom,
} from './consul-settings.js'
export type { DiscoveredTarget, Discoverer } from './discoverer.js'
export {
  ConsulRequestError,
  DiscoveryError,
  DiscoveryFileError,
  InvalidOptionsError,
} from './errors/index.js'
export { FileDiscoverer } from './file-discoverer.js'
export { FILE_SD_LABELS } from './file-sd.js'
export { listSidecarsFromConsul } from './list-sidecars.js'
export type { DiscoveryLogger } from './logger.js'
export { type Reconciliation, reconcile } from './reconcile.js'
export {
  type ConsulRegistrationOptions,
  GHOSTFLEET_SERVICES,
  type GhostfleetService,
  type RegistrationCheck,
} from './registration-options.js'
export { StaticDiscoverer, type StaticTarget } from './static-discoverer.js'
export { parseTargetTags, type SidecarTagValues, sidecarTags, type TargetTagValues } from './target-tags.js'

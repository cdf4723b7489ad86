/**
 * `@ghostfleet/tracker`: the `ghostfleet-tracker` service. It learns the fleet from sidecar reports, polls each
 * KYVE pool once per interval however many sidecars serve it, and writes every sidecar's desired state (mode,
 * prune height) fenced by its leader epoch, within each pool's availability budget. Several trackers can run;
 * one leads.
 *
 * ```ts
 * import { loadTrackerConfig, resolveTrackerConfig, Tracker } from '@ghostfleet/tracker'
 *
 * const config = resolveTrackerConfig(
 *   await loadTrackerConfig({ file: '/etc/ghostfleet/tracker.toml', redisUrl: 'redis://127.0.0.1:6379', env: process.env }),
 * )
 * const tracker = await Tracker.start({ config, id: 'tracker-a' })
 * console.log(tracker.url, tracker.currentRole()) // http://127.0.0.1:26680 standby → leader once elected
 * await tracker.stop() // releases the lease: a standby takes over at once
 * ```
 *
 * The decision rules are pure and exported for tests and tools: `assessSidecar` (hysteresis, prune due and safe),
 * `advanceCommand` (a command's life), `budgetActivity`/`planBudget` (the availability budget).
 */

export { type BudgetPlan, budgetActivity, planBudget } from './budget.js'
export {
  advanceCommand,
  appliedAtLeast,
  type Command,
  type CommandProgress,
  type CommandToken,
  describeCommand,
  type PruneCommand,
  type SwitchCommand,
} from './commands.js'
export {
  type ConfigSources,
  loadTrackerConfig,
  type ResolvedTrackerConfig,
  resolveTrackerConfig,
} from './config.js'
export {
  CONSUL_TOKEN_ENV,
  CONSUL_URL_ENV,
  ConsulMonitor,
  type ConsulMonitorOptions,
  type ConsulSettings,
  consulSettingsFrom,
} from './consul-discovery.js'
export { type DesiredContent, sameCommand } from './desired-content.js'
export { ConfigFileError, TrackerStatusError, UsageError } from './errors.js'
export {
  type DiscoveryView,
  discoveryViewSchema,
  type FleetView,
  fleetViewSchema,
  type PoolView,
  poolViewSchema,
  type SidecarView,
  sidecarViewSchema,
  type TrackerView,
} from './fleet-view.js'
export { type PoolRef, poolKey } from './pool-ref.js'
export { type PoolSettings, resolvePoolSettings } from './pool-settings.js'
export { type PoolThresholds, poolThresholds } from './pool-thresholds.js'
export {
  type AssessInput,
  assessSidecar,
  compareWants,
  type SidecarAssessment,
  type Want,
} from './sidecar-decision.js'
export { fetchFleet, type StatusOptions } from './status-command.js'
export { formatAge, formatFleetTable } from './status-table.js'
export { DEFAULT_TIMING, retryDelay, type TrackerTiming } from './timing.js'
export {
  defaultTrackerId,
  Tracker,
  type TrackerOptions,
  type TrackerRegistration,
  type TrackerRole,
} from './tracker.js'
export { PACKAGE_VERSION } from './version.js'

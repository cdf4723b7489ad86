/**
 * The local devnet: `ghostfleet-simnode` (a simulated CometBFT node that writes the real on-disk layout and
 * serves the real RPC shapes) and `ghostfleet-devnet` (a simulated KYVE REST API, and `up` for a whole fleet).
 * `LocalFleet` holds the building blocks `up` and the end-to-end tests share (redis, producer, KYVE API, trackers,
 * sidecars).
 */

export {
  type FleetBinaries,
  type FleetCommand,
  fleetCommand,
  localFleetBinaries,
  resolveFleetBinaries,
} from './fleet/fleet-layout.js'
export {
  FLEET_KYVE_CHAIN_ID,
  FLEET_MAX_BUNDLE_SIZE,
  FLEET_POOL_ID,
  FLEET_SOURCE_CHAIN_ID,
  FLEET_THRESHOLDS,
  FLEET_UPLOAD_INTERVAL,
  type KyveSpec,
  LocalFleet,
  type PreparedSidecar,
  type ProducerInfo,
  type SidecarInfo,
  type SidecarSpec,
  type TrackerInfo,
  type TrackerSpec,
  waitForHttp,
} from './fleet/local-fleet.js'
export { ManagedProcess, type ManagedProcessOptions } from './fleet/managed-process.js'
export { fetchFleetHeights, GHOST_HOLD_BLOCKS, poolCeiling } from './fleet/pool-pacer.js'
export * from './kyve-sim/index.js'
export * from './simnode/index.js'

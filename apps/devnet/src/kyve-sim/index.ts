/**
 * A simulated KYVE REST API for tests and the local devnet: the real response shapes of chain ≥ v1.5 (compact)
 * or v1.4 (indented), the real error bodies, pools that advance bundle by bundle as far as a CometBFT node's
 * `/abci_info` height allows, and an admin API (`/admin/…`) to inject faults, steer pools and count requests.
 * See `README.md` next to this file for the routes and the admin API.
 *
 * ```ts
 * import { startKyveSimulator } from '@ghostfleet/devnet'
 *
 * const kyve = await startKyveSimulator({ pools: [{ id: 1 }], chainRpc: 'http://127.0.0.1:26657', bundleEveryMs: 500 })
 * kyve.setFault({ kind: 'error500', poolId: 1, times: 2 })      // the next two requests about pool 1 fail
 * await kyve.setPool(1, { paused: true, currentKey: '5000' })    // deterministic from here on
 * console.log(kyve.stats().byPool['1']?.byRoute.pool)            // how often clients asked for pool 1
 * await kyve.stop()
 * ```
 *
 * @packageDocumentation
 */

// Names are prefixed where a bare one (LogEntry, PoolSnapshot, …) could collide with the simnode exports that
// share the package root.
export { UnknownPoolError } from './admin-api.js'
export {
  FAULT_KINDS,
  type Fault,
  type FaultKind,
  type FaultSpec,
  InvalidFaultError,
  KYVE_ROUTES,
  type KyveRoute,
} from './faults.js'
export type { ApiVersion as KyveApiVersion } from './json-encoding.js'
export { kyveCommand, kyveOptionsFromFlags } from './kyve-command.js'
export type { LogEntry as KyveSimLogEntry } from './log.js'
export {
  InvalidSimulatorOptionsError,
  type KyvePoolOptions,
  type KyveSimulatorOptions,
} from './options.js'
export { InvalidPoolPatchError, type PoolPatch as KyvePoolPatch } from './pool-patch.js'
export type { LastRound as KyvePoolLastRound, PoolSnapshot as KyvePoolSnapshot } from './pool-runner.js'
export { PoolChangeRejectedError, type SimulatedPoolStatus } from './pool-state.js'
export type { CountedRoute, KyveSimStats, PoolRequestCounts } from './request-stats.js'
export { RUNTIMES as KYVE_RUNTIMES, type RuntimeName as KyveRuntimeName } from './runtime-keys.js'
export { type KyveSimulator, startKyveSimulator } from './simulator.js'

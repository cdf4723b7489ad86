/**
 * `ghostfleet-sidecar`: supervises one CometBFT node for a KYVE pool — ghost mode, safe pruning, backups,
 * health and metrics. The executable is `cli.js`; this module exports the building blocks the end-to-end tests
 * and fleet mode (a tracker-driven {@link DecisionSource}) are built from.
 *
 * ```ts
 * import { Controller, LocalDecisionSource, PoolRefresher } from '@ghostfleet/sidecar'
 *
 * const pool = new PoolRefresher({ source: kyve, poolId: 1, retry: { minMs: 10_000, maxMs: 300_000 } })
 * const decisions = new LocalDecisionSource({ thresholds, maxPoolAgeMs: 600_000, pruning: { enabled: true, margin: 1 } })
 * // fleet mode: `new FleetMode(...).decisionSource(localOptions, deps)` applies the tracker's desired state and
 * // falls back to a LocalDecisionSource (see src/fleet/ and README "Fleet mode")
 * const controller = new Controller(options, { decisions, pool, node, rpc, state, ... })
 * await controller.start()
 * ```
 */

export {
  type Activity,
  Controller,
  type ControllerDeps,
  type ControllerOptions,
  type ControllerSnapshot,
  type RecordedError,
} from './control/controller.js'
export type {
  DecidedBy,
  Decision,
  DecisionInput,
  DecisionSource,
} from './control/decision-source.js'
export { type LocalDeciderOptions, LocalDecisionSource } from './control/local-decider.js'
export { type ModeSwitchResult, reconcileAddressBook, switchMode } from './control/mode-switch.js'
export type { AddressBookKeeper, NodeLifecycle } from './control/node-lifecycle.js'
export { type NodeObservation, observeNode } from './control/node-observer.js'
export { PoolRefresher, type PoolRefresherStatus, type PoolSource } from './control/pool-refresher.js'
export { type PoolSnapshot, shownPool } from './control/pool-snapshot.js'
export {
  type GuardVerdict,
  guardPruneHeight,
  ownSafePruneHeight,
} from './control/prune-guard.js'
export { type PruneRun, runPrune } from './control/prune-operation.js'
export { nextPruneDueAt } from './control/prune-schedule.js'
export { DESIRED_OUTCOMES, type DesiredOutcome, type FleetMetrics } from './fleet/fleet-metrics.js'
export {
  type DecisionDeps,
  FleetMode,
  type FleetModeOptions,
  type FleetPorts,
} from './fleet/fleet-mode.js'
export { FleetPoolSource, type PoolView } from './fleet/fleet-pool-source.js'
export { FleetConfigError, type FleetSettings, resolveFleetSettings } from './fleet/fleet-settings.js'
export { buildSidecarReport } from './fleet/report-builder.js'
export { Reporter } from './fleet/reporter.js'
export {
  TrackerDecisionSource,
  type TrackerDecisionSourceOptions,
  type TrackerLinkStatus,
} from './fleet/tracker-decision-source.js'
export { buildStatusReport, readiness } from './http/status-report.js'
export { PRUNE_REFUSAL_REASONS, type PruneRefusalReason } from './prune-refusal.js'
export { prepareStart, StartupRefusedError } from './startup.js'
export { type SidecarState, SidecarStateStore } from './state/sidecar-state.js'
export { StateKeeper } from './state/state-keeper.js'
export { backupsToDelete, createBackup } from './storage/backup.js'
export { BACKUP_MANIFEST_NAME, type BackupManifest, ownBackupManifest } from './storage/backup-manifest.js'
export { homeInUse, waitUntilHomeIdle } from './storage/home-idle.js'
export {
  initBackendRefusal,
  PRUNING_OFF_REASONS,
  type PruningOffReason,
  type PruningSupport,
  pruningSupport,
} from './storage/pruning-support.js'
export { nodeEnvironment, SECRET_ENV_VARS } from './supervisor/node-environment.js'
export { type NodeExit, NodeProcess, type NodeProcessState } from './supervisor/node-process.js'
export { NODE_MARKER_ENV, processesLaunchedBy, processLiveness } from './supervisor/process-inspect.js'
export { createSidecarMetrics, type SidecarMetrics } from './telemetry/sidecar-metrics.js'
export { SIDECAR_VERSION } from './version.js'

/**
 * `@ghostfleet/core`: the rules every other Ghostfleet package obeys. Pure: no I/O, no clocks (callers pass
 * `now`; `pause` is its one timer), no dependency but zod.
 *
 * - Thresholds from a KYVE pool's settings, bit-compatible with supervysor (`computeThresholds`).
 * - The ghost/normal mode decision with hysteresis (`decideMode`).
 * - The highest height that is safe to prune to, or why not (`safePruneHeight`).
 * - The stale-pool safety valve: a ghost node the pool could have caught up with returns to normal
 *   (`projectStalePool`), the same rule for the sidecar deciding alone and the tracker.
 * - The availability budget: who may restart or prune now (`planDisruptions`), with holder coverage of the
 *   pool's cache window (`cacheWindow`, `minHolders`, `soleHeldRanges`): never every holder of a height the
 *   pool needs down at once.
 * - `backoffDelay`: the one retry curve (capped exponential growth, optional jitter) of every package.
 * - `silentLogger`/`StructuredLogger`: the pino-shaped logger the libraries accept (`loggerOption`: its zod field
 *   for options), and `pause` for waits a shutdown can cut short.
 * - `redactUrl`/`redactUrlsIn`: credentials out of every URL that is printed (logs, errors, status, labels).
 * - `DURATION_BOUNDS`: the range of every duration key, inside Node's 32-bit timer range; the config schemas
 *   and `refreshSecondsSchema` enforce them.
 * - Schemas for the sidecar and tracker config files and the wire messages, and `parseWith`, which turns a
 *   schema failure into an error an operator can act on; `ConfigError`, the base of every configuration error.
 * - `runUntilSignal`: the one process lifecycle of both binaries (start, run until SIGTERM/SIGINT, stop) and
 *   their one exit-code table, `EXIT_CODES`. The only part that touches the process (signals, a timer).
 * - `runAsEntry`/`markDispatched`: a CLI module runs itself unless the `ghostfleet` dispatcher loaded it.
 *
 * @example
 * ```ts
 * import { computeThresholds, decideMode, parseWith, safePruneHeight, sidecarConfigSchema } from '@ghostfleet/core'
 *
 * const config = parseWith(sidecarConfigSchema, parseToml(text), 'sidecar.toml') // throws ValidationError
 * const thresholds = computeThresholds({ maxBundleSize: 20, uploadInterval: 300 }, config.thresholds)
 * const decision = decideMode({ nodeHeight: 1_012_000, poolHeight: 1_000_000, currentMode: 'normal', thresholds })
 * // decision.reason === 'node is 12000 blocks ahead of the pool (max 11520): ghost'
 *
 * const prune = safePruneHeight({
 *   pool: { height: '1000000', fetchedAt: fetchedAt }, now: Date.now(), maxPoolAgeMs: 600_000,
 *   nodeHeight: 1_012_000, nodeBase: 900_000, margin: config.pruning.margin,
 * })
 * if (prune.prune) pruneBlocks(prune.height) // keeps prune.height, deletes everything below
 * else log.info({ reason: prune.reason }, prune.detail)
 * ```
 */

export {
  AvailabilityBudgetError,
  type CoverageInput,
  DISRUPTION_KINDS,
  type DisruptionCandidate,
  type DisruptionKind,
  type DisruptionPlan,
  type DisruptionRequest,
  MEMBER_ACTIVITIES,
  type MemberActivity,
  type PoolMember,
  planDisruptions,
} from './availability.js'
export { type BackoffCurve, backoffDelay } from './backoff.js'
export { type CliMain, isDispatched, markDispatched, runAsEntry } from './cli-entry.js'
export { isIntegerKey, parseHeightKey } from './height-key.js'
export {
  cacheWindow,
  cacheWindowSize,
  describeRanges,
  type HeightRange,
  HolderCoverageError,
  type Holding,
  minHolders,
  soleHeldRanges,
} from './holder-coverage.js'
export {
  checkListenAddress,
  type ListenAddress,
  type ListenAddressCheck,
  parseListenAddress,
} from './listen-address.js'
export { errorFields, loggerOption, type StructuredLogger, silentLogger } from './logger.js'
export {
  decideMode,
  type ModeDecision,
  type ModeInput,
  ModeInputError,
  NODE_MODES,
  type NodeMode,
} from './mode.js'
export { pause } from './pause.js'
export { type PruneDecision, type PruneInput, type PruneRefusal, safePruneHeight } from './prune-height.js'
export { REDACTED, redactUrl, redactUrlsIn } from './redact-url.js'
export {
  EXIT_CODES,
  type ExitCode,
  type RunLogger,
  type RunOptions,
  runUntilSignal,
  type Service,
} from './run-until-signal.js'
export {
  BOOTSTRAP_API_PATH,
  BOOTSTRAP_STATES,
  type BootstrapRequest,
  type BootstrapState,
  type BootstrapStatus,
  bootstrapRequestSchema,
  bootstrapStatusSchema,
  MAX_BOOTSTRAP_DETAIL,
  TRACKER_PEER_CHAIN_ID,
} from './schemas/bootstrap-api.js'
export {
  DURATION_BOUNDS,
  type DurationBound,
  durationExpectation,
  MAX_TIMER_MS,
  MIN_TIMER_MS,
  refreshSecondsSchema,
} from './schemas/duration.js'
export { ValidationError } from './schemas/errors.js'
export { BOOTSTRAP_ID_PATTERN, CHECKPOINT_ID_PATTERN, SIDECAR_ID_PATTERN } from './schemas/fields.js'
export { parseWith } from './schemas/parse.js'
export { type SidecarConfig, type SidecarConfigInput, sidecarConfigSchema } from './schemas/sidecar-config.js'
export { thresholdOverridesSchema, thresholdsSchema } from './schemas/thresholds.js'
export { type TrackerConfig, type TrackerConfigInput, trackerConfigSchema } from './schemas/tracker-config.js'
export {
  canonicalDesiredStatePayload,
  type DesiredState,
  DONATION_STATES,
  type DonationReport,
  type DonationRequest,
  type DonationState,
  desiredStateSchema,
  donationReportSchema,
  donationRequestSchema,
  MAX_REPORTED_DONATIONS,
  type SidecarReport,
  sidecarReportSchema,
  WIRE_VERSION,
} from './schemas/wire.js'
export { ConfigError } from './settings/config-error.js'
export {
  projectStalePool,
  type StalePoolInput,
  StalePoolInputError,
  type StalePoolVerdict,
} from './stale-pool.js'
export {
  computeThresholds,
  type PoolSettings,
  type ThresholdProblem,
  type Thresholds,
  ThresholdsError,
  thresholdProblems,
} from './thresholds.js'

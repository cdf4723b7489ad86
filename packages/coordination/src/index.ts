/**
 * `@ghostfleet/coordination`: the Redis protocol between Ghostfleet sidecars and the tracker.
 *
 * - Connections per role ({@link createRedis}): sidecars fail fast while Redis is down, the tracker absorbs short
 *   blips; both reconnect forever with capped, jittered delays.
 * - The key layout ({@link keyspace}), Cluster-safe through hash tags.
 * - Reports: sidecars {@link publishReport}; the leading tracker reads them with a {@link ReportConsumer} and
 *   rebuilds the fleet with {@link loadAllReports} after a failover.
 * - Desired states, fenced by leader epoch and generation: {@link writeDesiredState} (tracker),
 *   {@link readDesiredState} + {@link subscribeDesiredState} (sidecar), optionally HMAC-signed with a fleet key.
 * - Leader election with a fencing epoch ({@link LeaderElection}).
 * - Shared pool progress ({@link writePoolProgress}, {@link readPoolProgress}).
 * - Siblings of a sidecar (same chain and pool, serving peers) from their own reports ({@link readSiblings}).
 * - Redis ACL users per role ({@link trackerAclUser}, {@link sidecarAclUser}, {@link monitorAclUser}): each
 *   sidecar's credentials reach only its own keys.
 *
 * The package README documents the keys, the message flow, the fencing rules and the failure behaviour.
 *
 * @example
 * ```ts
 * import { compareFencingTokens, createRedis, FleetKey, LeaderElection, loadAllReports, publishReport,
 *   readDesiredState, ReportConsumer, subscribeDesiredState, writeDesiredState } from '@ghostfleet/coordination'
 *
 * const fleetKey = FleetKey.parse(keyText, 'GHOSTFLEET_FLEET_KEY') // or null when signing is off
 *
 * // Sidecar: report every tick and look at the desired state every tick; a wake-up only makes it look sooner.
 * const redis = createRedis({ role: 'sidecar', url: 'redis://127.0.0.1:6379' }) // fails fast while Redis is down
 * const wake = subscribeDesiredState(redis, 'osmosis-a', () => loop.runSoon())
 * await publishReport(redis, report, { intervalMs: 10_000 })
 * const desired = await readDesiredState(redis, 'osmosis-a', { fleetKey }) // null, valid, or throws a typed error
 * if (desired && compareFencingTokens(desired, applied) > 0) await apply(desired)
 *
 * // Tracker: lead, rebuild, consume, write; every write carries the epoch and is fenced by Redis.
 * const tracker = createRedis({ role: 'tracker', url: settings.redisUrl })
 * const consumer = new ReportConsumer({ redis: tracker, consumerName: 'tracker-1', onReport: (r) => fleet.update(r) })
 * const election = new LeaderElection({
 *   redis: tracker,
 *   candidateId: 'tracker-1',
 *   onElected: (epoch) => void lead(epoch),
 *   onDeposed: () => void consumer.stop(),
 * })
 * async function lead(epoch: number) {
 *   fleet.reset(await loadAllReports(tracker))
 *   consumer.start()
 *   for (const decision of decide(fleet)) {
 *     if (!election.isLeader()) return
 *     await writeDesiredState(tracker, { ...decision, epoch, generation: nextGeneration(decision.sidecarId) }, { fleetKey })
 *   }
 * }
 * election.start()
 * ```
 */

export {
  type AclUserSpec,
  aclPasswordHash,
  aclSetUserArgs,
  formatRedisCommand,
  generateAclPassword,
  MONITOR_ACL_USER,
  monitorAclUser,
  SIDECAR_ACL_USER_PREFIX,
  sidecarAclUser,
  TRACKER_ACL_USER,
  trackerAclUser,
} from './acl.js'
export {
  type BootstrapRecord,
  bootstrapRecordSchema,
  DEFAULT_BOOTSTRAP_RETAIN_MS,
  type LoadedBootstrapRecords,
  loadBootstrapRecords,
  readBootstrapRecord,
  writeBootstrapRecord,
} from './bootstrap-requests.js'
export {
  type ConnectionOverrides,
  type ConnectionRole,
  type ConnectionStatus,
  type ConnectionStatusEvent,
  type CreateRedisOptions,
  closeRedis,
  createRedis,
  duplicateRedis,
  type RedisClient,
  type RedisNode,
} from './connection.js'
export {
  type DesiredWriteResult,
  type DesiredWriteStatus,
  isDesiredWriteAccepted,
  type ReadDesiredStateOptions,
  readDesiredState,
  refreshDesiredStateExpiry,
  type WriteDesiredStateOptions,
  writeDesiredState,
} from './desired-state.js'
export {
  CoordinationError,
  type DesiredStateRejectCode,
  DesiredStateSignatureError,
  FencedDesiredStateError,
  InvalidBootstrapRecordError,
  InvalidDesiredStateError,
  InvalidFleetKeyError,
  InvalidKeyPartError,
  InvalidOptionsError,
  InvalidPoolProgressError,
  UnelectedEpochDesiredStateError,
} from './errors/index.js'
export { compareFencingTokens, type FencingToken } from './fencing-token.js'
export {
  FLEET_KEY_ENV,
  FleetKey,
  fleetKeyForWorkerThread,
  fleetKeyHmac,
  MIN_FLEET_KEY_BYTES,
} from './fleet-key.js'
export { assertKeyPart, DEFAULT_NAMESPACE, type KeySpace, keysOf, keyspace } from './keys.js'
export {
  type DeposedReason,
  LeaderElection,
  type LeaderElectionOptions,
  type LeaderElectionState,
  type LeaderRecord,
  readLeader,
  readLeaderEpoch,
  type StopOptions,
} from './leader.js'
export { type CoordinationLogger, silentLogger } from './logger.js'
export {
  type DesiredStateSubscription,
  type SubscribeDesiredStateOptions,
  subscribeDesiredState,
} from './notifications.js'
export {
  POOL_PROGRESS_VERSION,
  type PoolProgressRecord,
  type PoolProgressWriteStatus,
  poolProgressRecordSchema,
  readPoolProgress,
  type WritePoolProgressOptions,
  writePoolProgress,
} from './pool-progress.js'
export { DEFAULT_RECONNECT, type ReconnectOptions, reconnectDelay } from './reconnect-strategy.js'
export { parseRedisUrl, REDIS_URL_ENV, type RedisUrl, redactRedisUrl } from './redis-url.js'
export {
  ReportConsumer,
  type ReportConsumerOptions,
  type ReportConsumerStats,
  type ReportEntry,
  type ReportReject,
} from './report-consumer.js'
export {
  type FleetReports,
  forgetSilentSidecars,
  loadAllReports,
  type PublishReportOptions,
  publishReport,
  REPORT_STREAM_FIELD,
  REPORT_TTL_INTERVALS,
  type RejectedReport,
  type SilentSidecar,
} from './reports.js'
export { type ReadSiblingsOptions, readSiblings, type Sibling } from './siblings.js'
export { signDesiredState, verifyDesiredState } from './signing.js'
export { waitForReady } from './wait-ready.js'

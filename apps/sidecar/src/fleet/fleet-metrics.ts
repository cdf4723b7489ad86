import { type Counter, createCounter, createGauge, type Gauge, type Registry } from '@ghostfleet/telemetry'
import { PRUNE_REFUSAL_REASONS } from '../prune-refusal.js'

/*
 * Fleet-mode metrics, registered on the sidecar's own registry (so they carry its `service`, `chain_id` and
 * `pool_id` labels). Label values are closed sets, pre-registered at 0 so alert rules and rate() work from the
 * first scrape.
 */

/** Why a desired state read from Redis was not applied. */
export const DESIRED_REFUSAL_REASONS = [
  // From the message itself (`readDesiredState`): undecodable or schema, other sidecar, signature, leader fence.
  'malformed',
  'wrong-sidecar',
  'unsigned',
  'bad-signature',
  'stale-epoch',
  // An epoch above the leader epoch counter: no election handed it out (written straight into Redis).
  'unelected-epoch',
  // Older than the token this sidecar applied (a rolled-back Redis, a replay).
  'stale-generation',
  // The prune part, by this sidecar's own check (`guardPruneHeight`); `nothing-to-prune` is not a refusal.
  ...PRUNE_REFUSAL_REASONS.filter((reason) => reason !== 'nothing-to-prune'),
  // A prune while `pruning.enabled = false` here.
  'pruning-disabled',
] as const
export type DesiredRefusalReason = (typeof DESIRED_REFUSAL_REASONS)[number]

/**
 * What one read of the desired state came to (one read per control-loop tick and per wake-up):
 * `applied` (a newer token, accepted and persisted), `duplicate` (the token already applied: nothing to do),
 * `absent` (no desired state stored), `unreadable` (Redis unreachable or failing), `silent` (valid, but its
 * tracker shows no sign of life, so it is not followed), `refused-<reason>` (never acted on).
 */
export type DesiredOutcome =
  | 'applied'
  | 'duplicate'
  | 'absent'
  | 'unreadable'
  | 'silent'
  | `refused-${DesiredRefusalReason}`

export const DESIRED_OUTCOMES: readonly DesiredOutcome[] = [
  'applied',
  'duplicate',
  'absent',
  'unreadable',
  'silent',
  ...DESIRED_REFUSAL_REASONS.map((reason) => `refused-${reason}` as const),
]

export interface FleetMetrics {
  reports: Counter<'outcome'>
  desiredStates: Counter<'outcome'>
  decidedBy: Gauge<'source'>
  handovers: Counter<'to'>
  redisConnected: Gauge
  appliedEpoch: Gauge
  appliedGeneration: Gauge
  lastTrackerContact: Gauge
  setDecidedBy(source: 'tracker' | 'local'): void
}

export function createFleetMetrics(registry: Registry): FleetMetrics {
  const metrics: FleetMetrics = {
    reports: createCounter(registry, {
      name: 'ghostfleet_fleet_reports_total',
      help: 'Reports published to Redis, by outcome (published, failed).',
      labelNames: ['outcome'],
    }),
    desiredStates: createCounter(registry, {
      name: 'ghostfleet_fleet_desired_states_total',
      help:
        'Reads of this sidecar’s desired state, by outcome: applied, duplicate, absent, unreadable, silent, ' +
        'refused-<reason> (never acted on).',
      labelNames: ['outcome'],
    }),
    decidedBy: createGauge(registry, {
      name: 'ghostfleet_fleet_decided_by',
      help: 'Who decides the node’s mode and prunes: 1 for the current source (tracker or local), 0 for the other.',
      labelNames: ['source'],
    }),
    handovers: createCounter(registry, {
      name: 'ghostfleet_fleet_handovers_total',
      help: 'Changes of the deciding source: to local (the tracker went silent), to tracker (it came back).',
      labelNames: ['to'],
    }),
    redisConnected: createGauge(registry, {
      name: 'ghostfleet_fleet_redis_connected',
      help: '1 while the Redis connection is ready, else 0.',
    }),
    appliedEpoch: createGauge(registry, {
      name: 'ghostfleet_fleet_applied_epoch',
      help: 'Tracker leader epoch of the last desired state this sidecar applied (persisted in state.json).',
    }),
    appliedGeneration: createGauge(registry, {
      name: 'ghostfleet_fleet_applied_generation',
      help: 'Generation of the last desired state this sidecar applied.',
    }),
    lastTrackerContact: createGauge(registry, {
      name: 'ghostfleet_fleet_last_tracker_contact_timestamp_seconds',
      help: 'Unix time this sidecar last saw a live tracker (0: never).',
    }),
    setDecidedBy(source) {
      for (const s of ['tracker', 'local'] as const)
        metrics.decidedBy.set({ source: s }, s === source ? 1 : 0)
    },
  }
  for (const outcome of ['published', 'failed']) metrics.reports.inc({ outcome }, 0)
  for (const outcome of DESIRED_OUTCOMES) metrics.desiredStates.inc({ outcome }, 0)
  for (const to of ['tracker', 'local']) metrics.handovers.inc({ to }, 0)
  metrics.redisConnected.set(0)
  metrics.lastTrackerContact.set(0)
  return metrics
}

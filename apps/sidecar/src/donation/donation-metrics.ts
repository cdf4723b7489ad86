import { type Counter, createCounter, createGauge, type Gauge, type Registry } from '@ghostfleet/telemetry'

/** How a donation ended. */
export const DONATION_OUTCOMES = ['ready', 'failed'] as const
export type DonationOutcome = (typeof DONATION_OUTCOMES)[number]

/** What became of a request for a checkpoint file. */
export const TRANSFER_OUTCOMES = ['started', 'busy'] as const

export interface DonationMetrics {
  /** Bytes only checkpoints hold (tables the node's compaction deleted), each inode once. */
  pinnedBytes: Gauge
  pinnedCapBytes: Gauge
  donations: Counter<'outcome'>
  /** Node downtime of the last donation (stop + take + start), seconds. */
  lastDowntime: Gauge
  /** Checkpoint file transfers started, or refused because the transfer cap was reached. */
  transfers: Counter<'outcome'>
}

/** The donor's metrics on the sidecar's registry; every series exists from the first scrape. */
export function createDonationMetrics(registry: Registry): DonationMetrics {
  const metrics: DonationMetrics = {
    pinnedBytes: createGauge(registry, {
      name: 'ghostfleet_sidecar_checkpoint_pinned_bytes',
      help: "Bytes only checkpoints still hold: tables the node's compaction deleted since the checkpoint was taken.",
    }),
    pinnedCapBytes: createGauge(registry, {
      name: 'ghostfleet_sidecar_checkpoint_pinned_cap_bytes',
      help: 'The cap on pinned checkpoint bytes (checkpoints.maxPinnedGiB); above it the oldest are removed.',
    }),
    donations: createCounter(registry, {
      name: 'ghostfleet_sidecar_donations_total',
      help: 'Checkpoints donated to bootstrapping hosts, by outcome (ready: sealed and served; failed).',
      labelNames: ['outcome'],
    }),
    lastDowntime: createGauge(registry, {
      name: 'ghostfleet_sidecar_donation_downtime_seconds',
      help: "The node's downtime for the last donation: its stop, the checkpoint's links and copies, its start.",
    }),
    transfers: createCounter(registry, {
      name: 'ghostfleet_sidecar_checkpoint_transfers_total',
      help: 'Checkpoint file transfers to bootstrapping hosts, by outcome (busy: refused at checkpoints.maxTransfers).',
      labelNames: ['outcome'],
    }),
  }
  for (const outcome of DONATION_OUTCOMES) metrics.donations.inc({ outcome }, 0)
  for (const outcome of TRANSFER_OUTCOMES) metrics.transfers.inc({ outcome }, 0)
  return metrics
}

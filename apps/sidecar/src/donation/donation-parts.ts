import type { FleetKey } from '@ghostfleet/coordination'
import type { PeerHandler } from '@ghostfleet/peer'
import type { Logger, Registry } from '@ghostfleet/telemetry'
import type { SidecarSettings } from '../config/sidecar-settings.js'
import { TickLoop } from '../control/tick-loop.js'
import { createCheckpointRoutes } from '../peer/checkpoint-routes.js'
import { TransferGate } from '../peer/transfer-gate.js'
import { CheckpointCatalog } from './checkpoint-catalog.js'
import { createDonationMetrics } from './donation-metrics.js'
import { Donor } from './donor.js'

export interface DonationParts {
  donor: Donor
  /** The checkpoint routes for the peer listener. */
  routes: PeerHandler
  /** Loads the donation ledger of the previous run; before the supervision loop starts. */
  load(): Promise<void>
  /** Starts the TTL and pinned-bytes sweeps (at once, then every `sweepEveryMs`). */
  start(): void
  /** Stops the sweeps and waits for sealing in progress. */
  stop(): Promise<void>
}

/**
 * The donor side of bootstrapping, built from the settings: the checkpoint catalog, the donor the supervision loop
 * drives, the peer routes that serve checkpoints through a transfer gate of their own, and the sweeps that remove
 * checkpoints past their TTL or over the pinned-bytes cap. Only in fleet mode with a fleet key (manifests are
 * signed with it) and a peer listener (which serves them).
 */
export function createDonationParts(options: {
  settings: Pick<SidecarSettings, 'checkpoints' | 'launch'>
  fleetKey: FleetKey
  sidecarId: string
  registry: Registry
  log: Logger
}): DonationParts {
  const { checkpoints } = options.settings
  const catalog = new CheckpointCatalog({
    dir: checkpoints.dir,
    fleetKey: options.fleetKey,
    ttlMs: checkpoints.ttlMs,
    maxPinnedBytes: checkpoints.maxPinnedBytes,
  })
  const metrics = createDonationMetrics(options.registry)
  const donor = new Donor({
    home: options.settings.launch.home,
    catalog,
    fleetKey: options.fleetKey,
    sidecarId: options.sidecarId,
    metrics,
    log: options.log,
  })
  const gate = new TransferGate({
    maxTransfers: checkpoints.maxTransfers,
    bytesPerSecond: checkpoints.transferBytesPerSecond,
  })
  const routes = createCheckpointRoutes({
    catalog,
    gate,
    requesterOf: (id) => donor.requesterOf(id),
    onTransfer: (event) => {
      metrics.transfers.inc({ outcome: event.outcome })
      if (event.outcome === 'busy')
        options.log.debug(event, 'checkpoint transfer refused: the transfer cap is reached')
    },
  })
  // Often enough that a checkpoint outlives its TTL by a quarter of it at most (and by a minute at most).
  const sweepEveryMs = Math.min(60_000, Math.max(1_000, Math.floor(checkpoints.ttlMs / 4)))
  const sweeps = new TickLoop(() => donor.sweep(), sweepEveryMs)
  return {
    donor,
    routes,
    load: () => donor.load(),
    start: () => sweeps.start(),
    stop: async () => {
      await sweeps.stop()
      await donor.close()
    },
  }
}

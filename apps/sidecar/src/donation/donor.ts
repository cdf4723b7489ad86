import path from 'node:path'
import type { FleetKey } from '@ghostfleet/coordination'
import type { DonationReport, DonationRequest } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import {
  type SealCheckpointOptions,
  type SealCheckpointResult,
  sealCheckpoint,
  type TakeCheckpointResult,
  takeCheckpoint,
} from '../checkpoint/index.js'
import type { CheckpointsStatus, DonationPort, DonationStop } from '../control/donation-port.js'
import type { CheckpointCatalog } from './checkpoint-catalog.js'
import { DonationLedger } from './donation-ledger.js'
import type { DonationMetrics } from './donation-metrics.js'

/*
 * The donor side of a bootstrap (issue 14), driven by the supervision loop (`DonationPort`): the loop stops the
 * node, calls `take` (hard links and small copies: the only part the node's downtime pays for), starts the node,
 * and calls `restarted`; sealing (hashing every byte into the signed manifest) then runs in the background while
 * the node serves. States go to the fleet report: taking → sealing → ready, or failed with a detail that says
 * what failed and that the node serves again.
 */

/** The ledger's file in the checkpoints directory (retention touches only checkpoint ids and partials there). */
export const LEDGER_FILE = 'donations.json'

export interface DonorOptions {
  home: string
  catalog: CheckpointCatalog
  fleetKey: FleetKey
  /** This sidecar's id (the manifest's donor). */
  sidecarId: string
  metrics: DonationMetrics
  log: Logger
  now?: () => number
  /** Seals a taken checkpoint. @default sealCheckpoint */
  seal?: (options: SealCheckpointOptions) => Promise<SealCheckpointResult>
  /** Where the donation ledger is kept across restarts. @default `<checkpoints dir>/donations.json` */
  ledgerFile?: string | null
}

export class Donor implements DonationPort {
  private readonly ledger: DonationLedger
  private readonly taken = new Map<string, TakeCheckpointResult>()
  private readonly seals = new Set<Promise<void>>()
  private readonly now: () => number

  constructor(private readonly options: DonorOptions) {
    this.now = options.now ?? Date.now
    const ledgerFile =
      options.ledgerFile === undefined ? path.join(options.catalog.dir, LEDGER_FILE) : options.ledgerFile
    this.ledger = new DonationLedger(this.now, ledgerFile, (error) =>
      options.log.warn(
        { err: error },
        'could not save the donation ledger: after a restart, a donation still asked for would be taken again',
      ),
    )
    options.metrics.pinnedCapBytes.set(options.catalog.maxPinnedBytes)
  }

  /** Loads the ledger a previous run kept (before the supervision loop starts). */
  async load(): Promise<void> {
    const cut = await this.ledger.load()
    if (cut.length > 0)
      this.options.log.warn(
        { bootstrapIds: cut },
        'donations cut short by a restart are reported failed; the tracker may ask for new ones',
      )
  }

  due(request: DonationRequest | null | undefined, now: number): DonationRequest | null {
    if (request === null || request === undefined) return null
    if (this.ledger.knows(request.bootstrapId)) return null
    if (request.expiresAt <= now) return null
    return request
  }

  begin(request: DonationRequest): void {
    this.ledger.set(request, 'taking')
  }

  async take(request: DonationRequest): Promise<void> {
    const taken = await takeCheckpoint({ home: this.options.home, checkpointsDir: this.options.catalog.dir })
    this.taken.set(request.bootstrapId, taken)
    this.options.log.info(
      {
        bootstrapId: request.bootstrapId,
        checkpointId: taken.id,
        blocks: `${taken.blockStore.base}..${taken.blockStore.height}`,
        linkedFiles: taken.linkedFiles,
        copiedBytes: taken.copiedBytes,
        takeMs: taken.durationMs,
      },
      `checkpoint ${taken.id} taken (${taken.linkedFiles} tables linked, ${taken.copiedFiles} files copied)`,
    )
  }

  restarted(request: DonationRequest, { failure, startError, downtimeMs }: DonationStop): void {
    const taken = this.taken.get(request.bootstrapId)
    this.taken.delete(request.bootstrapId)
    this.options.metrics.lastDowntime.set(downtimeMs / 1000)
    const nodeNow =
      startError === null
        ? 'the node was started again'
        : `the node did not start again (${startError.message}); the sidecar keeps trying`
    if (failure !== null || taken === undefined) {
      const why = failure?.message ?? 'the checkpoint was not taken'
      this.fail(request, `checkpoint not taken: ${why}; ${nodeNow}`)
      if (taken !== undefined) void this.options.catalog.remove(taken.id).catch(() => undefined)
      return
    }
    this.ledger.set(request, 'sealing', { checkpointId: taken.id })
    this.options.catalog.sealingStarted(taken.id)
    const sealing = this.seal(request, taken).finally(() => {
      this.options.catalog.sealingEnded(taken.id)
      this.seals.delete(sealing)
    })
    this.seals.add(sealing)
  }

  reports(): DonationReport[] {
    return this.ledger.list()
  }

  /** The checkpoint a donation took, and who asked for it (for DELETE: only that host may remove it). */
  requesterOf(checkpointId: string): string | null {
    return this.ledger.requesterOf(checkpointId)
  }

  status(): CheckpointsStatus {
    const { catalog } = this.options
    const listing = catalog.listing()
    return {
      dir: catalog.dir,
      ttlSeconds: catalog.ttlMs / 1000,
      maxPinnedBytes: catalog.maxPinnedBytes,
      pinnedBytes: listing.pinnedBytes,
      measuredAt: listing.measuredAt === null ? null : new Date(listing.measuredAt).toISOString(),
      checkpoints: listing.checkpoints,
      donations: this.ledger.list(),
    }
  }

  /** TTL and pinned-bytes cap; the gauge follows. Never throws (logged). */
  async sweep(): Promise<void> {
    try {
      const swept = await this.options.catalog.sweep()
      this.options.metrics.pinnedBytes.set(swept.pinnedBytes)
      if (swept.expired.length > 0)
        this.options.log.info(
          { removed: swept.expired },
          'checkpoints removed: older than checkpoints.ttlSeconds',
        )
      if (swept.capped.length > 0)
        this.options.log.warn(
          {
            removed: swept.capped,
            pinnedBytes: swept.pinnedBytes,
            capBytes: this.options.catalog.maxPinnedBytes,
          },
          'checkpoints removed: they pinned more bytes than checkpoints.maxPinnedGiB allows',
        )
    } catch (error) {
      this.options.log.warn({ err: error }, 'could not measure or clean up the checkpoints; retrying later')
    }
  }

  /** Waits for sealing in progress and the ledger's last write (at shutdown). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.seals])
    await this.ledger.flush()
  }

  private async seal(request: DonationRequest, taken: TakeCheckpointResult): Promise<void> {
    const seal = this.options.seal ?? sealCheckpoint
    try {
      const sealed = await seal({
        dir: taken.dir,
        fleetKey: this.options.fleetKey,
        donor: this.options.sidecarId,
      })
      this.options.catalog.sealingEnded(taken.id)
      // Measured before it is reported ready, so /status lists it from then on (not only after the next sweep).
      await this.sweep()
      this.ledger.set(request, 'ready', { checkpointId: taken.id })
      this.options.metrics.donations.inc({ outcome: 'ready' })
      this.options.log.info(
        {
          bootstrapId: request.bootstrapId,
          checkpointId: taken.id,
          bytes: sealed.bytes,
          sealMs: sealed.durationMs,
        },
        `checkpoint ${taken.id} sealed and served to ${request.requestedBy}`,
      )
    } catch (error) {
      await this.options.catalog.remove(taken.id).catch(() => undefined)
      this.fail(
        request,
        `sealing checkpoint ${taken.id} failed: ${(error as Error).message}; it was removed, the node serves`,
      )
    }
  }

  private fail(request: DonationRequest, detail: string): void {
    this.ledger.set(request, 'failed', { detail })
    this.options.metrics.donations.inc({ outcome: 'failed' })
    this.options.log.error({ bootstrapId: request.bootstrapId, requestedBy: request.requestedBy }, detail)
  }
}

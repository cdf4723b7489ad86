import type { DonationReport, DonationRequest } from '@ghostfleet/core'

/**
 * What the supervision loop needs from the donor side of a bootstrap (issue 14; `donation/donor.ts` implements
 * it). The loop owns the node's stop and start; the donor owns the checkpoint. A donation's node downtime is the
 * stop, the take (links and small copies) and the start: sealing (hashing every byte) runs after the restart.
 */
export interface DonationPort {
  /** The request to carry out now: `request` when it is new to this sidecar and not expired, else null. */
  due(request: DonationRequest | null | undefined, now: number): DonationRequest | null
  /** The node is about to stop for `request`: reported as `taking`. */
  begin(request: DonationRequest): void
  /** Takes the checkpoint; called with the node stopped and its databases free. Throws on failure. */
  take(request: DonationRequest): Promise<void>
  /**
   * The node was started again (`startError` when the start failed; the loop keeps trying). `failure`: the stop,
   * the lock wait or the take failed, so there is nothing to seal; the donation is reported `failed`. Otherwise
   * sealing starts in the background and the donation is reported `sealing`, then `ready`.
   */
  restarted(request: DonationRequest, outcome: DonationStop): void
  /** The donation states for the fleet report (newest last, at most MAX_REPORTED_DONATIONS). */
  reports(): DonationReport[]
  /** What /status shows about checkpoints (served ones, pinned bytes, the cap). */
  status(): CheckpointsStatus
}

/** How the node's stop for a donation went. */
export interface DonationStop {
  failure: Error | null
  startError: Error | null
  /** From the stop to the start (for a donation sharing a prune's stop, the prune is in it). */
  downtimeMs: number
}

/** The checkpoints section of /status. */
export interface CheckpointsStatus {
  dir: string
  ttlSeconds: number
  maxPinnedBytes: number
  /** Bytes only checkpoints still hold (tables the node's compaction deleted), at the last measurement. */
  pinnedBytes: number | null
  measuredAt: string | null
  checkpoints: Array<{
    id: string
    state: 'sealing' | 'ready' | 'unsealed'
    takenAt: string
    pinnedBytes: number
    copiedBytes: number
    transfers: number
  }>
  donations: DonationReport[]
}

/**
 * The leader's bootstrap requests: what each new host asked for, which donor it got, and where the donor's
 * checkpoint stands. Every change is persisted (the `persist` callback writes Redis), so a tracker taking over
 * goes on from the same records and any tracker can answer a status request.
 *
 *   pending (no donor) ──(granted within the budget)──▶ pending (donor set: its desired state carries `donate`)
 *        ──(donor reports)──▶ taking ──▶ sealing ──▶ ready | failed
 *   pending / taking / sealing ──(past expiresAt)──▶ expired
 *
 * States only move forward; `ready`, `failed` and `expired` are final. `donate` is in the donor's desired state
 * from the grant until the request is final (the tracker clears it then).
 */
import { randomUUID } from 'node:crypto'
import { type BootstrapRecord, DEFAULT_BOOTSTRAP_RETAIN_MS } from '@ghostfleet/coordination'
import {
  BOOTSTRAP_STATES,
  type BootstrapRequest,
  type BootstrapState,
  type BootstrapStatus,
  type DonationRequest,
  MAX_BOOTSTRAP_DETAIL,
  type SidecarReport,
} from '@ghostfleet/core'
import { donationOf } from './commands.js'
import { type PoolRef, poolKey } from './pool-ref.js'

const FINAL: ReadonlySet<BootstrapState> = new Set(['ready', 'failed', 'expired'])
const ORDER: Readonly<Record<BootstrapState, number>> = {
  pending: 0,
  taking: 1,
  sealing: 2,
  ready: 3,
  failed: 3,
  expired: 3,
}

export interface BootstrapBookOptions {
  /** How long a request may take to become ready. */
  ttlMs: number
  /** Stores a changed record (fire and forget: the caller logs failures). */
  persist: (record: BootstrapRecord) => void
  /** A request reached a final state. */
  onEnd?: (record: BootstrapRecord) => void
}

/** The API's view of a record (without the bookkeeping times). */
export function statusOf(record: BootstrapRecord): BootstrapStatus {
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...status } = record
  return status
}

/** A new request of `request`'s host, waiting for a donor, expiring `ttlMs` from `now`. */
export function newBootstrapRecord(request: BootstrapRequest, now: number, ttlMs: number): BootstrapRecord {
  return {
    bootstrapId: randomUUID(),
    chainId: request.chainId,
    poolId: request.poolId,
    requestedBy: request.requestedBy,
    state: 'pending',
    donor: null,
    donorPeerUrl: null,
    checkpointId: null,
    detail: 'waiting for a donor within the pool’s availability budget',
    expiresAt: now + ttlMs,
    createdAt: now,
    updatedAt: now,
  }
}

/** Whether a request is over (ready, failed or expired): nothing about it changes any more. */
export function isFinal(record: Pick<BootstrapRecord, 'state'>): boolean {
  return FINAL.has(record.state)
}

function clip(detail: string): string {
  return detail.length <= MAX_BOOTSTRAP_DETAIL ? detail : `${detail.slice(0, MAX_BOOTSTRAP_DETAIL - 1)}…`
}

export class BootstrapBook {
  private readonly requests = new Map<string, BootstrapRecord>()
  private readonly options: BootstrapBookOptions

  constructor(options: BootstrapBookOptions) {
    this.options = options
  }

  /** Replaces what the book holds with the records a previous leader stored (on takeover). */
  load(records: readonly BootstrapRecord[]): void {
    this.requests.clear()
    for (const record of records) this.requests.set(record.bootstrapId, { ...record })
  }

  get(bootstrapId: string): BootstrapRecord | undefined {
    return this.requests.get(bootstrapId)
  }

  /** A live (not final) request of `requestedBy` for this pool: a repeated POST gets it back. */
  liveRequestOf(request: BootstrapRequest): BootstrapRecord | undefined {
    for (const record of this.requests.values()) {
      if (
        record.requestedBy === request.requestedBy &&
        record.chainId === request.chainId &&
        record.poolId === request.poolId &&
        !FINAL.has(record.state)
      ) {
        return record
      }
    }
    return undefined
  }

  create(request: BootstrapRequest, now: number): BootstrapRecord {
    const record = newBootstrapRecord(request, now, this.options.ttlMs)
    this.requests.set(record.bootstrapId, record)
    this.options.persist({ ...record })
    return record
  }

  /**
   * Takes in requests another tracker stored (a standby accepted them) that this book does not hold yet. Only
   * ones still waiting for a donor: anything further along was written by a leader, and this book has it.
   * Returns how many were new.
   */
  merge(records: readonly BootstrapRecord[], now: number): number {
    let added = 0
    for (const record of records) {
      if (this.requests.has(record.bootstrapId) || record.state !== 'pending' || record.donor !== null)
        continue
      if (record.expiresAt <= now) continue
      this.requests.set(record.bootstrapId, { ...record })
      added += 1
    }
    return added
  }

  /** Requests of the pool still waiting for a donor, oldest first. */
  waiting(pool: PoolRef, now: number): BootstrapRecord[] {
    const key = poolKey(pool)
    return [...this.requests.values()]
      .filter((r) => r.state === 'pending' && r.donor === null && r.expiresAt > now && poolKey(r) === key)
      .sort((a, b) => a.createdAt - b.createdAt)
  }

  /** Pools with requests waiting for a donor. */
  waitingPools(now: number): PoolRef[] {
    const pools = new Map<string, PoolRef>()
    for (const r of this.requests.values()) {
      if (r.state === 'pending' && r.donor === null && r.expiresAt > now) {
        pools.set(poolKey(r), { chainId: r.chainId, poolId: r.poolId })
      }
    }
    return [...pools.values()]
  }

  /** Whether `sidecarId` is the donor of a request that is not final. */
  isDonating(sidecarId: string): boolean {
    for (const r of this.requests.values()) if (r.donor === sidecarId && !FINAL.has(r.state)) return true
    return false
  }

  /** Whether `donor` failed a checkpoint for `requestedBy` in a request the book still holds. */
  failedFor(donor: string, requestedBy: string): boolean {
    for (const r of this.requests.values()) {
      if (r.donor === donor && r.requestedBy === requestedBy && r.state === 'failed') return true
    }
    return false
  }

  /** What the donor's desired state carries: its request that is not final and not past its expiry. */
  donationFor(sidecarId: string, now: number): DonationRequest | null {
    for (const r of this.requests.values()) {
      if (r.donor === sidecarId && !FINAL.has(r.state) && r.expiresAt > now) {
        return { bootstrapId: r.bootstrapId, requestedBy: r.requestedBy, expiresAt: r.expiresAt }
      }
    }
    return null
  }

  /** Notes why a waiting request has no donor yet (shown in its status). */
  note(bootstrapId: string, detail: string, now: number): void {
    const record = this.requests.get(bootstrapId)
    if (record === undefined || record.donor !== null || record.detail === clip(detail)) return
    this.update(record, { detail: clip(detail) }, now)
  }

  grant(bootstrapId: string, donor: string, donorPeerUrl: string, how: string, now: number): void {
    const record = this.requests.get(bootstrapId)
    if (record === undefined || record.donor !== null || record.state !== 'pending') return
    this.update(record, { donor, donorPeerUrl, detail: clip(how) }, now)
  }

  /** Fails the donor's live request (its checkpoint command was withdrawn, or it left the pool). */
  failDonation(bootstrapId: string, detail: string, now: number): void {
    const record = this.requests.get(bootstrapId)
    if (record === undefined || FINAL.has(record.state)) return
    this.update(record, { state: 'failed', detail: clip(detail) }, now)
  }

  /** Fails every live request granted to `donor` (it went away). */
  failDonor(donor: string, detail: string, now: number): void {
    for (const r of this.requests.values()) {
      if (r.donor === donor && !FINAL.has(r.state)) this.failDonation(r.bootstrapId, detail, now)
    }
  }

  /** Follows what a donor reports about its donations. Returns whether a request of it changed. */
  follow(report: SidecarReport, now: number): boolean {
    let changed = false
    for (const record of this.requests.values()) {
      if (record.donor !== report.sidecarId || FINAL.has(record.state)) continue
      const donation = donationOf(report, record.bootstrapId)
      if (donation === undefined || ORDER[donation.state] <= ORDER[record.state]) continue
      if (donation.state === 'ready' && donation.checkpointId === undefined) continue
      this.update(
        record,
        {
          state: donation.state,
          checkpointId: donation.checkpointId ?? null,
          detail: donation.detail === undefined ? null : clip(donation.detail),
        },
        now,
      )
      changed = true
    }
    return changed
  }

  /** Expires the requests past their expiry that are not final. Returns them (their donors need a new state). */
  expire(now: number): BootstrapRecord[] {
    const expired: BootstrapRecord[] = []
    for (const record of this.requests.values()) {
      if (FINAL.has(record.state) || record.expiresAt > now) continue
      const at = record.state === 'pending' && record.donor === null ? 'waiting for a donor' : record.state
      this.update(record, { state: 'expired', detail: clip(`expired while ${at}`) }, now)
      expired.push(record)
    }
    // Records past their drop time are gone from Redis as well: forget them here too.
    for (const [id, record] of this.requests) {
      if (FINAL.has(record.state) && record.expiresAt + DEFAULT_BOOTSTRAP_RETAIN_MS < now)
        this.requests.delete(id)
    }
    return expired
  }

  /** Every request the book holds, newest first (the fleet API). */
  all(): BootstrapRecord[] {
    return [...this.requests.values()].map((r) => ({ ...r })).sort((a, b) => b.createdAt - a.createdAt)
  }

  /** Live requests by state (the metrics gauge). */
  counts(): Record<BootstrapState, number> {
    const counts = Object.fromEntries(BOOTSTRAP_STATES.map((s) => [s, 0])) as Record<BootstrapState, number>
    for (const record of this.requests.values()) counts[record.state] += 1
    return counts
  }

  private update(record: BootstrapRecord, change: Partial<BootstrapRecord>, now: number): void {
    const wasFinal = FINAL.has(record.state)
    Object.assign(record, change, { updatedAt: now })
    this.options.persist({ ...record })
    if (!wasFinal && FINAL.has(record.state)) this.options.onEnd?.({ ...record })
  }
}

/**
 * Writes desired states for the leader: one epoch, a generation per sidecar that only grows, at most one write
 * in flight per sidecar (the newest content wins while one is out), a global cap on writes in flight, and
 * retries that cannot turn into a `conflict`.
 *
 * Generations continue above what is already stored (the desired hash's `generation`) and above what the
 * sidecar reports as applied, so they grow across leaders and even across a Redis that lost its data.
 *
 * A write that failed without an answer may still have landed. It is retried as the exact same message (same
 * generation, same `issuedAt`), which Redis answers with `duplicate` if it had; new content after such a failure
 * gets a higher generation. A `stale-epoch` or `not-leader-epoch` answer means another tracker leads: the writer
 * stops at once and tells its owner.
 *
 * Every write sets the desired hash's expiry (`expireAfterMs`); {@link DesiredStateWriter.keepAlive}, called for
 * every report the leader accepts, extends it at most once per quarter of it, so a live sidecar's state never
 * expires and a forgotten sidecar's does (see the coordination README, "Key layout").
 */

import {
  type DesiredWriteResult,
  type DesiredWriteStatus,
  type FencingToken,
  type FleetKey,
  keysOf,
  type RedisClient,
  reconnectDelay,
  refreshDesiredStateExpiry,
  writeDesiredState,
} from '@ghostfleet/coordination'
import { type DesiredState, WIRE_VERSION } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import { contentOf, type DesiredContent, sameCommand } from './desired-content.js'

/** What made the tracker write: used for the decision-latency histogram. */
export type TriggerKind = 'report' | 'pool' | 'sweep' | 'refresh'

export interface Trigger {
  kind: TriggerKind
  /** `performance.now()` when the tracker learned what made it decide. */
  at: number
}

export interface DesiredWriterOptions {
  redis: RedisClient
  fleetKey: FleetKey | null
  maxInFlight: number
  logger: Logger
  /** Wall clock for `issuedAt`. */
  now: () => number
  /** Monotonic clock for latencies. */
  monotonic: () => number
  /** Called for every write outcome (`error` when Redis did not answer). */
  onOutcome?: (outcome: DesiredWriteStatus | 'error', trigger: TriggerKind | 'none') => void
  /** Called when a state is stored, with the latency from its trigger in seconds (refreshes excluded). */
  onWritten?: (state: DesiredState, trigger: Trigger | null, latencySeconds: number | null) => void
  /** Redis says another tracker leads (a newer epoch exists). The writer has already stopped. */
  onFenced?: (result: DesiredWriteResult, sidecarId: string) => void
  /** A write overwrote a state stored under an epoch no election handed out (forged, or a lost counter). */
  onForged?: (forged: FencingToken, sidecarId: string) => void
  /** Expiry of every desired hash written, and of those {@link DesiredStateWriter.keepAlive} touches. @default none */
  expireAfterMs?: number | null
}

interface Pending {
  content: DesiredContent
  trigger: Trigger | null
}

interface Slot {
  /** Highest generation known to be used or stored for this sidecar; null until loaded from Redis. */
  generation: number | null
  /** The highest generation the sidecar reported as applied: a floor for `generation` once it is loaded. */
  appliedFloor: number
  /** When the hash's expiry was last set (write or keep-alive), on the wall clock; 0 never. */
  expirySetAt: number
  /** The last state sent; resent as-is after a failure if the content is still the same. */
  sent: DesiredState | null
  sentTrigger: Trigger | null
  /** Whether `sent` may have failed without an answer (then it is retried exactly). */
  sentUncertain: boolean
  /** The last state Redis accepted in this epoch. */
  written: DesiredState | null
  pending: Pending | null
  busy: boolean
  conflicts: number
  failures: number
  /** A failed write waits for its retry (Redis ready again, or a backoff): not picked up before that. */
  retryWait: boolean
}

/** Consecutive `conflict`/`stale-generation` answers after which the writer gives up on a sidecar until new content. */
const MAX_CONFLICTS = 3

export class DesiredStateWriter {
  private readonly options: DesiredWriterOptions
  private epoch: number | null = null
  private session = 0
  private slots = new Map<string, Slot>()
  /** Sidecars with a decision to write, in arrival order. They go before refreshes. */
  private readonly queue = new Set<string>()
  /** Sidecars with only a refresh to write; at most a quarter of the write slots go to them. */
  private readonly refreshQueue = new Set<string>()
  private inFlight = 0
  private refreshesInFlight = 0
  private readonly retryTimers = new Set<NodeJS.Timeout>()
  private waitingForReady = false

  constructor(options: DesiredWriterOptions) {
    this.options = options
  }

  /** Starts writing under `epoch`. Every sidecar's state is written again on its next submit. */
  start(epoch: number, generationFloors: ReadonlyMap<string, number>): void {
    this.halt()
    this.epoch = epoch
    for (const [id, generation] of generationFloors) this.slotOf(id).generation = generation
  }

  /** Stops writing at once: queued work is dropped, answers still in flight are ignored. */
  halt(): void {
    this.session += 1
    this.epoch = null
    this.slots = new Map()
    this.queue.clear()
    this.refreshQueue.clear()
    this.inFlight = 0
    this.refreshesInFlight = 0
    for (const timer of this.retryTimers) clearTimeout(timer)
    this.retryTimers.clear()
    this.waitingForReady = false
  }

  isWriting(): boolean {
    return this.epoch !== null
  }

  /** The epoch this writer writes under; null while halted. */
  epochInUse(): number | null {
    return this.epoch
  }

  /** The state last stored for the sidecar in this epoch. */
  written(sidecarId: string): DesiredState | null {
    return this.slots.get(sidecarId)?.written ?? null
  }

  /** Writes in flight plus sidecars waiting for a write slot. */
  backlog(): number {
    return this.inFlight + this.queue.size + this.refreshQueue.size
  }

  /**
   * Asks for `content` to be the sidecar's desired state. Nothing is written when the stored (or in-flight) state
   * already gives the same command, unless the epoch changed since. `appliedGeneration` (from the sidecar's
   * report) raises the generation floor.
   */
  submit(sidecarId: string, content: DesiredContent, trigger: Trigger | null, appliedGeneration = 0): void {
    if (this.epoch === null) return
    const slot = this.slotOf(sidecarId)
    slot.appliedFloor = Math.max(slot.appliedFloor, appliedGeneration)
    if (slot.generation !== null) slot.generation = Math.max(slot.generation, appliedGeneration)
    const current = slot.pending?.content ?? (slot.busy ? slot.sent : slot.written)
    if (current !== null && current !== undefined && sameCommand(current, content)) return
    // A decision replaces a queued refresh (and its trigger, which latency must not be measured from).
    const earlier = slot.pending?.trigger?.kind === 'refresh' ? null : (slot.pending?.trigger ?? null)
    slot.pending = { content, trigger: earlier ?? trigger }
    slot.conflicts = 0
    this.refreshQueue.delete(sidecarId)
    this.enqueue(sidecarId)
  }

  /**
   * Re-issues states last written more than `olderThanMs` ago (same content, new generation and issue time), so
   * sidecars see a live tracker. Each sidecar's interval is shortened by a fixed share (from its id) of up to a
   * quarter, so states written together (after an election) do not all come due in the same sweep again. Refreshes
   * queue behind decisions, so they never delay one.
   */
  refresh(olderThanMs: number): number {
    if (this.epoch === null || olderThanMs <= 0) return 0
    const now = this.options.now()
    let count = 0
    for (const [id, slot] of this.slots) {
      if (slot.written === null || slot.busy || slot.pending !== null) continue
      if (now - slot.written.issuedAt < olderThanMs * (1 - 0.25 * spread(id))) continue
      slot.pending = {
        content: contentOf(slot.written),
        trigger: { kind: 'refresh', at: this.options.monotonic() },
      }
      this.enqueue(id)
      count += 1
    }
    return count
  }

  /**
   * Forgets sidecars entirely: their slots (nothing is re-issued or refreshed for them any more), queued work and
   * retries. A write already in flight completes, but its answer changes nothing. Their desired hashes then
   * expire on their own (`expireAfterMs` after the last write or keep-alive).
   */
  forget(sidecarIds: readonly string[]): void {
    for (const id of sidecarIds) {
      this.slots.delete(id)
      this.queue.delete(id)
      this.refreshQueue.delete(id)
    }
  }

  /** Sidecars this writer holds a slot for (writes, refreshes, keep-alives). */
  tracked(): string[] {
    return [...this.slots.keys()]
  }

  /**
   * The sidecar reported: extend its desired hash's expiry, at most once per quarter of the expiry, and only for
   * a state this leader wrote (a hash that already expired stays gone; the next decision rewrites it).
   */
  keepAlive(sidecarId: string): void {
    const ttl = this.options.expireAfterMs ?? null
    if (this.epoch === null || ttl === null) return
    const slot = this.slots.get(sidecarId)
    if (slot === undefined || slot.written === null) return
    const now = this.options.now()
    if (now - slot.expirySetAt < ttl / 4) return
    slot.expirySetAt = now
    refreshDesiredStateExpiry(this.options.redis, sidecarId, ttl).catch((error: unknown) => {
      // The next report tries again; the expiry leaves three quarters of itself for that.
      slot.expirySetAt = 0
      this.options.logger.debug(
        { sidecarId, err: String(error) },
        'could not extend the desired state expiry',
      )
    })
  }

  private slotOf(sidecarId: string): Slot {
    let slot = this.slots.get(sidecarId)
    if (slot === undefined) {
      slot = {
        generation: null,
        appliedFloor: 0,
        expirySetAt: 0,
        sent: null,
        sentTrigger: null,
        sentUncertain: false,
        written: null,
        pending: null,
        busy: false,
        conflicts: 0,
        failures: 0,
        retryWait: false,
      }
      this.slots.set(sidecarId, slot)
    }
    return slot
  }

  private enqueue(sidecarId: string): void {
    this.requeue(sidecarId)
    this.drain()
  }

  private requeue(sidecarId: string): void {
    const slot = this.slots.get(sidecarId)
    if (slot?.pending?.trigger?.kind === 'refresh') this.refreshQueue.add(sidecarId)
    else this.queue.add(sidecarId)
  }

  /** The next sidecar to write: decisions first; refreshes only while they hold less than a quarter of the slots. */
  private next(): string | undefined {
    const decision = this.queue.values().next()
    if (!decision.done) {
      this.queue.delete(decision.value)
      return decision.value
    }
    if (this.refreshesInFlight >= Math.max(1, Math.floor(this.options.maxInFlight / 4))) return undefined
    const refresh = this.refreshQueue.values().next()
    if (refresh.done) return undefined
    this.refreshQueue.delete(refresh.value)
    return refresh.value
  }

  private drain(): void {
    while (this.epoch !== null && this.inFlight < this.options.maxInFlight) {
      const id = this.next()
      if (id === undefined) return
      const slot = this.slots.get(id)
      if (slot === undefined || slot.busy || slot.retryWait || slot.pending === null) continue
      const refreshing = slot.pending.trigger?.kind === 'refresh'
      slot.busy = true
      this.inFlight += 1
      if (refreshing) this.refreshesInFlight += 1
      const session = this.session
      void this.run(id, slot, session).finally(() => {
        if (session !== this.session) return
        slot.busy = false
        this.inFlight -= 1
        if (refreshing) this.refreshesInFlight -= 1
        if (slot.pending !== null && !slot.retryWait) this.requeue(id)
        this.drain()
      })
    }
  }

  private async run(id: string, slot: Slot, session: number): Promise<void> {
    const { redis, logger } = this.options
    if (slot.generation === null) {
      try {
        slot.generation = Math.max(await storedGeneration(redis, id), slot.appliedFloor)
      } catch (error) {
        if (session === this.session) this.retryLater(id, slot, error)
        return
      }
      if (session !== this.session) return
    }
    const epoch = this.epoch
    const pending = slot.pending
    if (epoch === null || pending === null) return
    let state: DesiredState
    let trigger: Trigger | null
    if (
      slot.sentUncertain &&
      slot.sent !== null &&
      slot.sent.epoch === epoch &&
      sameCommand(slot.sent, pending.content)
    ) {
      state = slot.sent
      trigger = slot.sentTrigger ?? pending.trigger
    } else {
      slot.generation += 1
      state = {
        v: WIRE_VERSION,
        sidecarId: id,
        ...pending.content,
        epoch,
        generation: slot.generation,
        issuedAt: this.options.now(),
      }
      trigger = pending.trigger
    }
    slot.pending = null
    slot.sent = state
    slot.sentTrigger = trigger
    slot.sentUncertain = true
    let result: DesiredWriteResult
    const writtenAt = this.options.now()
    try {
      result = await writeDesiredState(redis, state, {
        fleetKey: this.options.fleetKey,
        expireAfterMs: this.options.expireAfterMs ?? null,
      })
    } catch (error) {
      if (session !== this.session) return
      this.options.onOutcome?.('error', trigger?.kind ?? 'none')
      // The newest content wins: only put the failed one back if nothing newer arrived meanwhile.
      slot.pending ??= { content: contentOf(state), trigger }
      this.retryLater(id, slot, error)
      return
    }
    if (session !== this.session) return
    slot.sentUncertain = false
    slot.failures = 0
    this.options.onOutcome?.(result.status, trigger?.kind ?? 'none')
    switch (result.status) {
      case 'written':
      case 'duplicate': {
        slot.written = state
        slot.conflicts = 0
        if (result.status === 'written') slot.expirySetAt = writtenAt
        if (result.replacedForged !== null) this.options.onForged?.(result.replacedForged, id)
        const latency =
          trigger === null || trigger.kind === 'refresh'
            ? null
            : Math.max(0, (this.options.monotonic() - trigger.at) / 1000)
        this.options.onWritten?.(state, trigger, latency)
        return
      }
      case 'stale-epoch':
      case 'not-leader-epoch':
        logger.warn(
          {
            sidecarId: id,
            epoch,
            status: result.status,
            leaderEpoch: result.leaderEpoch,
            stored: result.stored,
          },
          'desired state refused: another tracker leads; stopping all writes',
        )
        this.halt()
        this.options.onFenced?.(result, id)
        return
      case 'stale-generation':
      case 'conflict': {
        // Someone else wrote this sidecar under our epoch, or our count is behind: continue above what is stored.
        slot.generation = Math.max(slot.generation, result.stored?.generation ?? 0)
        slot.conflicts += 1
        if (slot.conflicts >= MAX_CONFLICTS) {
          logger.error(
            { sidecarId: id, epoch, status: result.status, stored: result.stored },
            'desired state keeps being refused; giving up on this sidecar until its next decision',
          )
          return
        }
        logger.warn(
          { sidecarId: id, epoch, status: result.status, stored: result.stored },
          'desired state refused; retrying above the stored generation',
        )
        slot.pending ??= { content: contentOf(state), trigger }
        return
      }
    }
  }

  /**
   * After a failed write: when Redis is down, wait for the connection to be ready (a condition); when it is up
   * and the command failed anyway, back off with the reconnect curve so a persistent error does not spin.
   */
  private retryLater(id: string, slot: Slot, error: unknown): void {
    slot.failures += 1
    slot.retryWait = true
    const message = error instanceof Error ? error.message : String(error)
    if (slot.failures === 1)
      this.options.logger.warn({ sidecarId: id, err: message }, 'desired state write failed; will retry')
    const { redis } = this.options
    if (redis.status !== 'ready') {
      if (this.waitingForReady) return
      this.waitingForReady = true
      const session = this.session
      redis.once('ready', () => {
        if (session !== this.session) return
        this.waitingForReady = false
        for (const [slotId, waiting] of this.slots) {
          if (!waiting.retryWait) continue
          waiting.retryWait = false
          if (waiting.pending !== null && !waiting.busy) this.requeue(slotId)
        }
        this.drain()
      })
      return
    }
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer)
      slot.retryWait = false
      if (slot.pending !== null) this.enqueue(id)
    }, reconnectDelay(slot.failures))
    this.retryTimers.add(timer)
  }
}

/** A fixed number in [0, 1) from a sidecar id (FNV-1a), to spread periodic work without randomness. */
function spread(id: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193)
  return (hash >>> 0) / 2 ** 32
}

/** The generation stored in the sidecar's desired hash (JSON-encoded), 0 when none or unreadable. */
export async function storedGeneration(redis: RedisClient, sidecarId: string): Promise<number> {
  const text = await redis.hget(keysOf(redis).desired(sidecarId), 'generation')
  const value = text === null ? 0 : Number(text)
  return Number.isSafeInteger(value) && value > 0 ? value : 0
}

import { type DesiredState, desiredStateSchema, parseWith, ValidationError } from '@ghostfleet/core'
import { Cluster } from 'ioredis'
import type { RedisClient } from './connection.js'
import { CoordinationError } from './errors/coordination-error.js'
import { FencedDesiredStateError } from './errors/fenced-desired-state-error.js'
import { InvalidDesiredStateError } from './errors/invalid-desired-state-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { UnelectedEpochDesiredStateError } from './errors/unelected-epoch-desired-state-error.js'
import type { FencingToken } from './fencing-token.js'
import type { FleetKey } from './fleet-key.js'
import { decodeHash, encodeHashArgs } from './hash-codec.js'
import { assertKeyPart, keysOf } from './keys.js'
import { readLeaderEpoch } from './leader.js'
import { scripts } from './scripts.js'
import { signDesiredState, verifyDesiredState } from './signing.js'

/** What happened to a {@link writeDesiredState}. */
export type DesiredWriteStatus =
  /** Stored, and the sidecar was notified. */
  | 'written'
  /** The same state (epoch, generation and content) was already stored: nothing to do, not an error. */
  | 'duplicate'
  /** A state from a newer epoch is stored: the writer was deposed. */
  | 'stale-epoch'
  /** A newer generation of the same epoch is stored: this write arrived late. */
  | 'stale-generation'
  /** The same epoch and generation is stored with different content: a writer bug, nothing was changed. */
  | 'conflict'
  /** The state's epoch is not the current leader epoch: the writer is not (or no longer) the leader. */
  | 'not-leader-epoch'

/** The outcome of {@link writeDesiredState}. */
export interface DesiredWriteResult {
  status: DesiredWriteStatus
  /** The token stored before the write (null when nothing was stored, or not looked at). */
  stored: { epoch: number; generation: number } | null
  /** With `not-leader-epoch`: the current leader epoch. */
  leaderEpoch: number | null
  /**
   * With `written`: the token of a forged state that was overwritten (its epoch was above the leader epoch
   * counter, so no election handed it out), else null. The tracker counts these.
   */
  replacedForged: FencingToken | null
}

/** True for `written` and `duplicate`: the stored state is the one given. */
export function isDesiredWriteAccepted(result: DesiredWriteResult): boolean {
  return result.status === 'written' || result.status === 'duplicate'
}

/** Options for {@link writeDesiredState}. */
export interface WriteDesiredStateOptions {
  /** Sign the state with this key (replacing any signature it carries). @default no signing */
  fleetKey?: FleetKey | null
  /**
   * Let the hash expire this long after the write (PEXPIRE in the same atomic step), so the state of a sidecar
   * nobody decides for any more disappears. The leader keeps it fresh for live sidecars
   * ({@link refreshDesiredStateExpiry}). @default no expiry
   */
  expireAfterMs?: number | null
}

const STATUSES = new Set<string>([
  'written',
  'duplicate',
  'stale-epoch',
  'stale-generation',
  'conflict',
  'not-leader-epoch',
])

/**
 * Writes a sidecar's desired state (tracker side) and wakes the sidecar, fenced by the storage itself:
 *
 * - Single Redis / Sentinel: `writeDesired-2.lua` refuses a state whose epoch is not the current leader epoch
 *   (`gf:{tracker}:epoch`), then one whose (epoch, generation) is not newer than the stored one; both checks and
 *   the write are one atomic step.
 * - Cluster: the epoch counter is in another hash slot, so `writeDesired-1.lua` checks only the stored token.
 *   The epoch is compared here before the write (which narrows the window) and again by every sidecar when it
 *   reads (`readDesiredState`), which closes it: a deposed leader's write can land, but is never applied.
 *
 * @throws ValidationError (from `@ghostfleet/core`) when the state does not match the wire schema.
 */
export async function writeDesiredState(
  redis: RedisClient,
  ds: DesiredState,
  options: WriteDesiredStateOptions = {},
): Promise<DesiredWriteResult> {
  let valid = parseWith(desiredStateSchema, ds, 'writeDesiredState: state')
  if (options.fleetKey) valid = signDesiredState(valid, options.fleetKey)
  const ttl = checkExpiry('writeDesiredState', options.expireAfterMs)
  const keys = keysOf(redis)
  const key = keys.desired(valid.sidecarId)
  const args = (forged: FencingToken | null) => [
    valid.epoch,
    valid.generation,
    keys.notify(valid.sidecarId),
    `${valid.epoch}:${valid.generation}`,
    ttl,
    forged?.epoch ?? -1,
    forged?.generation ?? -1,
    ...encodeHashArgs(valid),
  ]
  if (!(redis instanceof Cluster)) {
    return parseWriteReply(await scripts.writeDesiredFenced.run(redis, [key, keys.epoch], args(null)))
  }
  const leaderEpoch = await readLeaderEpoch(redis)
  if (valid.epoch !== leaderEpoch) {
    return { status: 'not-leader-epoch', stored: null, leaderEpoch, replacedForged: null }
  }
  const result = parseWriteReply(await scripts.writeDesiredSlotLocal.run(redis, [key], args(null)))
  if (result.status !== 'stale-epoch' || result.stored === null) return result
  // The script cannot see the counter (another slot). Read it after the refusal: the counter never goes down,
  // so a stored epoch above it now was handed out by no election, and that exact token may be overwritten.
  const counter = await readLeaderEpoch(redis)
  if (result.stored.epoch <= counter) return result
  return parseWriteReply(await scripts.writeDesiredSlotLocal.run(redis, [key], args(result.stored)))
}

/**
 * Extends the expiry of a sidecar's desired hash (tracker side, while the sidecar reports). PEXPIRE only: a
 * hash that already expired stays gone, and nothing is written. @returns whether the hash existed.
 */
export async function refreshDesiredStateExpiry(
  redis: RedisClient,
  sidecarId: string,
  expireAfterMs: number,
): Promise<boolean> {
  const ttl = checkExpiry('refreshDesiredStateExpiry', expireAfterMs)
  if (ttl === 0) throw new InvalidOptionsError('refreshDesiredStateExpiry', ['expireAfterMs: must be > 0'])
  return (await redis.pexpire(keysOf(redis).desired(assertKeyPart('sidecar id', sidecarId)), ttl)) === 1
}

/** An expiry in ms for a desired hash, 0 for none. */
function checkExpiry(caller: string, expireAfterMs: number | null | undefined): number {
  if (expireAfterMs === null || expireAfterMs === undefined) return 0
  if (!Number.isSafeInteger(expireAfterMs) || expireAfterMs < 1_000) {
    throw new InvalidOptionsError(caller, [
      `expireAfterMs: must be an integer number of ms >= 1000, got ${expireAfterMs}`,
    ])
  }
  return expireAfterMs
}

function parseWriteReply(reply: unknown): DesiredWriteResult {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !STATUSES.has(reply[0])) {
    throw new CoordinationError(`writeDesiredState: unexpected script reply ${JSON.stringify(reply)}`)
  }
  const status = reply[0] as DesiredWriteStatus
  const first = Number(reply[1])
  const second = Number(reply[2])
  if (status === 'not-leader-epoch') {
    return { status, stored: null, leaderEpoch: first, replacedForged: null }
  }
  const stored = first >= 0 ? { epoch: first, generation: second } : null
  return { status, stored, leaderEpoch: null, replacedForged: Number(reply[3]) === 1 ? stored : null }
}

/** Options for {@link readDesiredState}. */
export interface ReadDesiredStateOptions {
  /** When set, an unsigned or wrongly signed state is refused. @default null (signatures not checked) */
  fleetKey?: FleetKey | null
  /**
   * Refuse a state issued under an epoch older than the current leader epoch (a deposed tracker wrote it, or
   * the new leader has not rewritten it yet). Required on Cluster, where the write cannot check the epoch;
   * harmless elsewhere. @default true
   */
  fenceByLeaderEpoch?: boolean
  /**
   * Refuse a state issued under an epoch above the leader epoch counter: no election handed it out, so it was
   * written straight into Redis (`UnelectedEpochDesiredStateError`). Independent of `fenceByLeaderEpoch`, so a
   * new leader that reads its predecessors' states still never adopts a forged one. @default true
   */
  refuseUnelectedEpoch?: boolean
}

/**
 * The validated desired state for `sidecarId` (sidecar side), or null when the tracker has written none.
 *
 * Never returns something that must not be applied: a state that is undecodable, fails the wire schema, is
 * addressed to another sidecar, is unsigned or wrongly signed while a fleet key is configured, or comes from a
 * stale epoch throws an {@link InvalidDesiredStateError} (subclasses `DesiredStateSignatureError`,
 * `FencedDesiredStateError`) whose `code` says why. The sidecar then holds its mode.
 *
 * The sidecar still compares (epoch, generation) with what it applied last: this function checks the message,
 * not whether it is new to this sidecar.
 */
export async function readDesiredState(
  redis: RedisClient,
  sidecarId: string,
  options: ReadDesiredStateOptions = {},
): Promise<DesiredState | null> {
  const keys = keysOf(redis)
  const key = keys.desired(assertKeyPart('sidecar id', sidecarId))
  const fields = await redis.hgetall(key)
  if (Object.keys(fields).length === 0) return null
  const decoded = decodeHash(fields)
  if (!decoded.ok) throw new InvalidDesiredStateError(sidecarId, 'malformed', decoded.reason)
  let ds: DesiredState
  try {
    ds = parseWith(desiredStateSchema, decoded.value, `redis ${key}`)
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new InvalidDesiredStateError(sidecarId, 'malformed', error.issues.join('; '))
    }
    throw error
  }
  if (ds.sidecarId !== sidecarId) {
    throw new InvalidDesiredStateError(sidecarId, 'wrong-sidecar', `addressed to sidecar ${ds.sidecarId}`)
  }
  if (options.fleetKey) verifyDesiredState(ds, options.fleetKey)
  const fence = options.fenceByLeaderEpoch ?? true
  const refuseUnelected = options.refuseUnelectedEpoch ?? true
  if (fence || refuseUnelected) {
    // Read after the state: the counter only grows, so a failover between the two reads makes the stale check
    // stricter, and cannot make an unelected epoch look elected (the counter would have to reach it).
    const leaderEpoch = await readLeaderEpoch(redis)
    if (fence && ds.epoch < leaderEpoch) throw new FencedDesiredStateError(sidecarId, ds.epoch, leaderEpoch)
    if (refuseUnelected && ds.epoch > leaderEpoch) {
      throw new UnelectedEpochDesiredStateError(sidecarId, ds.epoch, leaderEpoch)
    }
  }
  return ds
}

/**
 * Bootstrap requests in Redis (tracker side): a new host's request for a donor's checkpoint and where it stands,
 * stored so that a tracker taking over after a failover goes on following it, and so that any tracker (leading or
 * standing by) can answer `GET /v1/bootstrap/<id>`.
 *
 * Each request is one JSON string under `bootstrap(id)`, expiring `retainMs` after the request's own expiry (a
 * new host polling just after it expired still reads `expired`, not "unknown"); the `bootstraps` index lists the
 * ids with that same drop time, so a new leader loads them without SCAN. Only the leading tracker writes.
 */
import { bootstrapStatusSchema, parseWith, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import type { RedisClient } from './connection.js'
import { InvalidBootstrapRecordError } from './errors/invalid-bootstrap-record-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { keysOf } from './keys.js'

const epochMs = z.int('expected a time in epoch milliseconds').min(0, 'expected a time in epoch milliseconds')

/** A stored request: its status as the API shows it, plus when it was made and last changed (tracker clock). */
export const bootstrapRecordSchema = bootstrapStatusSchema.extend({
  createdAt: epochMs,
  updatedAt: epochMs,
})
export type BootstrapRecord = z.output<typeof bootstrapRecordSchema>

/** How long a record outlives its request's `expiresAt` by default: 10 minutes. */
export const DEFAULT_BOOTSTRAP_RETAIN_MS = 600_000

function validate(where: string, value: unknown): BootstrapRecord {
  try {
    return parseWith(bootstrapRecordSchema, value, where)
  } catch (error) {
    if (error instanceof ValidationError) throw new InvalidBootstrapRecordError(where, error.message)
    throw error
  }
}

/**
 * Stores (or replaces) one request. The record is dropped `retainMs` after `expiresAt` (at once when that is
 * already past).
 * @throws InvalidBootstrapRecordError when the record fails validation (nothing is written).
 */
export async function writeBootstrapRecord(
  redis: RedisClient,
  record: BootstrapRecord,
  options: { now: number; retainMs?: number },
): Promise<void> {
  const retainMs = options.retainMs ?? DEFAULT_BOOTSTRAP_RETAIN_MS
  if (!Number.isSafeInteger(retainMs) || retainMs < 0) {
    throw new InvalidOptionsError('writeBootstrapRecord', [
      `retainMs: expected an integer ≥ 0, got ${retainMs}`,
    ])
  }
  const valid = validate('(not written)', record)
  const keys = keysOf(redis)
  const dropAt = valid.expiresAt + retainMs
  const ttlMs = Math.max(1, dropAt - options.now)
  // A pipeline, not MULTI: the two keys need not share a Cluster slot. Record first: an index entry without its
  // record is skipped on load, a record without its index entry would be missed.
  const replies =
    (await redis
      .pipeline()
      .set(keys.bootstrap(valid.bootstrapId), JSON.stringify(valid), 'PX', ttlMs)
      .zadd(keys.bootstraps, dropAt, valid.bootstrapId)
      .exec()) ?? []
  for (const [error] of replies) if (error !== null) throw error
}

/**
 * One request, or null when none is stored under that id (never made, or dropped).
 * @throws InvalidBootstrapRecordError when the stored record is not JSON, invalid, or for another id.
 */
export async function readBootstrapRecord(
  redis: RedisClient,
  bootstrapId: string,
): Promise<BootstrapRecord | null> {
  const key = keysOf(redis).bootstrap(bootstrapId)
  const text = await redis.get(key)
  if (text === null) return null
  const record = parse(key, text)
  if (record.bootstrapId !== bootstrapId) {
    throw new InvalidBootstrapRecordError(key, `holds request ${record.bootstrapId}`)
  }
  return record
}

function parse(key: string, text: string): BootstrapRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new InvalidBootstrapRecordError(key, `not JSON: ${JSON.stringify(text.slice(0, 60))}`)
  }
  return validate(key, value)
}

/** What {@link loadBootstrapRecords} found. */
export interface LoadedBootstrapRecords {
  records: BootstrapRecord[]
  /** Records that were stored but unusable, with why (logged by the caller, then ignored). */
  rejected: Array<{ key: string; reason: string }>
}

/**
 * Every request still stored, for a tracker taking over. Index entries whose drop time has passed are removed.
 * Reads key by key (in one pipeline), never MGET, so the keys need no common Cluster slot.
 */
export async function loadBootstrapRecords(redis: RedisClient, now: number): Promise<LoadedBootstrapRecords> {
  const keys = keysOf(redis)
  await redis.zremrangebyscore(keys.bootstraps, '-inf', now)
  const ids = await redis.zrange(keys.bootstraps, 0, -1)
  const records: BootstrapRecord[] = []
  const rejected: Array<{ key: string; reason: string }> = []
  if (ids.length === 0) return { records, rejected }
  const pipeline = redis.pipeline()
  const wanted: string[] = []
  for (const id of ids) {
    let key: string
    try {
      key = keys.bootstrap(id)
    } catch (error) {
      rejected.push({ key: `${keys.bootstraps} member ${JSON.stringify(id)}`, reason: String(error) })
      continue
    }
    wanted.push(key)
    pipeline.get(key)
  }
  const replies = (await pipeline.exec()) ?? []
  replies.forEach(([error, text], index) => {
    const key = wanted[index] as string
    if (error !== null) {
      rejected.push({ key, reason: error.message })
      return
    }
    if (typeof text !== 'string') return // expired between the index read and the GET
    try {
      records.push(parse(key, text))
    } catch (parseError) {
      if (!(parseError instanceof InvalidBootstrapRecordError)) throw parseError
      rejected.push({ key, reason: parseError.reason })
    }
  })
  return { records, rejected }
}

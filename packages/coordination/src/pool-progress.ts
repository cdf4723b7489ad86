import { parseHeightKey, parseWith, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import type { RedisClient } from './connection.js'
import { CoordinationError } from './errors/coordination-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { InvalidPoolProgressError } from './errors/invalid-pool-progress-error.js'
import { decodeHash, encodeHashArgs } from './hash-codec.js'
import { keysOf } from './keys.js'
import { scripts } from './scripts.js'

/** The record version; bumped when a reader could not ignore a change safely. */
export const POOL_PROGRESS_VERSION = 1

const int = (min: number) => z.int(`expected an integer ≥ ${min}`).min(min, `expected an integer ≥ ${min}`)

/**
 * What the tracker fetched about one KYVE pool, shared with every sidecar of the pool. The fields mirror
 * `@ghostfleet/kyve`'s `PoolProgress`, so the tracker can store what the client returned plus its epoch.
 */
export const poolProgressRecordSchema = z
  .object({
    v: z.literal(POOL_PROGRESS_VERSION, { error: `expected record version ${POOL_PROGRESS_VERSION}` }),
    chainId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, 'expected a chain id such as "kyve-1"'),
    poolId: int(0),
    /** The latest validated key (`current_key`, or `start_key` before the first bundle). */
    poolHeightKey: z.string(),
    /** `poolHeightKey` as a height, or null when it is not a canonical integer (state-sync keys). */
    poolHeight: int(0).nullable(),
    maxBundleSize: int(1),
    /** Seconds. */
    uploadInterval: int(1),
    status: z.string(),
    disabled: z.boolean(),
    /** The KYVE REST endpoint that answered. */
    endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    /** When the answer arrived (epoch ms, the tracker's clock). */
    fetchedAt: int(0),
    /** The leader epoch of the tracker that wrote the record. */
    epoch: int(1),
  })
  .superRefine((record, ctx) => {
    const height = parseHeightKey(record.poolHeightKey)
    if (record.poolHeight !== height) {
      ctx.addIssue({
        code: 'custom',
        path: ['poolHeight'],
        message: `poolHeight ${record.poolHeight} does not match poolHeightKey ${JSON.stringify(record.poolHeightKey)}`,
      })
    }
  })

/** A validated pool-progress record. */
export type PoolProgressRecord = z.output<typeof poolProgressRecordSchema>

/** What happened to a {@link writePoolProgress}. */
export type PoolProgressWriteStatus =
  | 'written'
  /** A record from a newer leader epoch is stored: the writer was deposed. */
  | 'stale-epoch'
  /** A record of the same epoch fetched later is stored: this write arrived late. */
  | 'stale-fetch'

/** Options for {@link writePoolProgress}. */
export interface WritePoolProgressOptions {
  /**
   * Let the record expire this long after the write, so a tracker that stopped writing leaves "unknown" behind
   * rather than an old height that looks current. @default no expiry (readers check `fetchedAt`)
   */
  expireAfterMs?: number
}

/**
 * Stores what the tracker fetched about a pool (tracker side). `writePoolProgress-1.lua` refuses a record from an
 * older epoch, or from the same epoch fetched earlier, so a deposed or delayed tracker cannot roll the shared
 * pool height back. Unknown fields are dropped.
 *
 * @throws InvalidPoolProgressError when the record fails validation (nothing is written).
 */
export async function writePoolProgress(
  redis: RedisClient,
  record: PoolProgressRecord,
  options: WritePoolProgressOptions = {},
): Promise<PoolProgressWriteStatus> {
  const expireAfterMs = options.expireAfterMs ?? 0
  if (!Number.isSafeInteger(expireAfterMs) || expireAfterMs < 0) {
    throw new InvalidOptionsError('writePoolProgress', [
      `expireAfterMs: expected an integer ≥ 0, got ${expireAfterMs}`,
    ])
  }
  const valid = validate('(not written)', record, 'writePoolProgress: record')
  const key = keysOf(redis).poolProgress(valid.chainId, valid.poolId)
  const reply = await scripts.writePoolProgress.run(
    redis,
    [key],
    [valid.epoch, valid.fetchedAt, expireAfterMs, ...encodeHashArgs(valid)],
  )
  if (!Array.isArray(reply) || !['written', 'stale-epoch', 'stale-fetch'].includes(String(reply[0]))) {
    throw new CoordinationError(`writePoolProgress: unexpected script reply ${JSON.stringify(reply)}`)
  }
  return reply[0] as PoolProgressWriteStatus
}

/**
 * The pool-progress record for a pool, or null when none is stored (or it expired).
 * @throws InvalidPoolProgressError when the stored record is undecodable, invalid, or for another pool.
 */
export async function readPoolProgress(
  redis: RedisClient,
  chainId: string,
  poolId: number,
): Promise<PoolProgressRecord | null> {
  const key = keysOf(redis).poolProgress(chainId, poolId)
  const fields = await redis.hgetall(key)
  if (Object.keys(fields).length === 0) return null
  const decoded = decodeHash(fields)
  if (!decoded.ok) throw new InvalidPoolProgressError(key, decoded.reason)
  const record = validate(key, decoded.value, `redis ${key}`)
  if (record.chainId !== chainId || record.poolId !== poolId) {
    throw new InvalidPoolProgressError(key, `holds pool ${record.poolId} of ${record.chainId}`)
  }
  return record
}

function validate(key: string, input: unknown, source: string): PoolProgressRecord {
  try {
    return parseWith(poolProgressRecordSchema, input, source)
  } catch (error) {
    if (error instanceof ValidationError) throw new InvalidPoolProgressError(key, error.issues.join('; '))
    throw error
  }
}

import { parseWith, type SidecarReport, sidecarReportSchema, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import type { RedisClient } from './connection.js'
import { CoordinationError } from './errors/coordination-error.js'
import { InvalidKeyPartError } from './errors/invalid-key-part-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { decodeHash, encodeHash } from './hash-codec.js'
import { keysOf } from './keys.js'
import { describeIssues } from './zod-issues.js'

/** The report hash expires after this many report intervals without a new report. */
export const REPORT_TTL_INTERVALS = 3

/** The stream field that carries the report as JSON. */
export const REPORT_STREAM_FIELD = 'report'

/** Options for {@link publishReport}. */
export interface PublishReportOptions {
  /** The sidecar's report interval in ms; the report hash expires after 3 of them. */
  intervalMs: number
  /** Approximate length cap of the reports stream (`XADD MAXLEN ~`). @default 10000 */
  streamMaxLen?: number
}

const publishOptionsSchema = z.object({
  intervalMs: z.int('must be an integer number of ms').positive('must be > 0'),
  streamMaxLen: z.int('must be an integer').positive('must be > 0').default(10_000),
})

/**
 * Publishes a sidecar's report (sidecar side):
 * - `gf:{sc:<id>}:report` ← the report (DEL + HSET + PEXPIRE 3 × interval in one MULTI), so a sidecar that
 *   stops reporting becomes "unknown" instead of staying "fine" forever;
 * - `gf:sidecars` ← ZADD GT id with `reportedAt`, the index the tracker rebuilds from without SCAN;
 * - `gf:reports` ← XADD MAXLEN ~ with the report as JSON, for the tracker's low-latency consumer group.
 *
 * The three keys are in different Cluster slots, so they are three commands, sent together; each write is
 * a complete snapshot, and the next report repairs a partial failure. On a `sidecar` connection this fails
 * at once while Redis is unreachable, and the sidecar simply tries again next tick.
 *
 * @throws ValidationError (from `@ghostfleet/core`) when the report does not match the wire schema.
 */
export async function publishReport(
  redis: RedisClient,
  report: SidecarReport,
  options: PublishReportOptions,
): Promise<void> {
  const parsedOptions = publishOptionsSchema.safeParse(options)
  if (!parsedOptions.success)
    throw new InvalidOptionsError('publishReport', describeIssues(parsedOptions.error))
  const { intervalMs, streamMaxLen } = parsedOptions.data
  const valid = parseWith(sidecarReportSchema, report, 'publishReport: report')
  const keys = keysOf(redis)
  const hashKey = keys.report(valid.sidecarId)
  const hash = redis
    .multi()
    .del(hashKey)
    .hset(hashKey, encodeHash(valid))
    .pexpire(hashKey, intervalMs * REPORT_TTL_INTERVALS)
    .exec()
    .then((replies) => {
      if (replies === null) throw new CoordinationError('publishReport: transaction aborted')
      for (const [error] of replies) if (error) throw error
    })
  const index = redis.zadd(keys.sidecars, 'GT', valid.reportedAt, valid.sidecarId)
  const stream = redis.xadd(
    keys.reports,
    'MAXLEN',
    '~',
    streamMaxLen,
    '*',
    'sidecarId',
    valid.sidecarId,
    REPORT_STREAM_FIELD,
    JSON.stringify(valid),
  )
  const results = await Promise.allSettled([hash, index, stream])
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failed) throw failed.reason
}

/** A sidecar in the index whose report hash has expired: its state is unknown. */
export interface SilentSidecar {
  sidecarId: string
  /** When it last reported (epoch ms, the sidecar's clock). */
  lastReportAt: number
}

/** A report hash that exists but cannot be used. */
export interface RejectedReport {
  sidecarId: string
  reason: string
}

/** What {@link loadAllReports} found. */
export interface FleetReports {
  /** The latest valid report of every sidecar whose report hash has not expired. */
  reports: Map<string, SidecarReport>
  /** Sidecars in the index with no live report: unknown, not "still fine". */
  silent: SilentSidecar[]
  /** Report hashes that fail validation; counted and logged by the caller, never used. */
  rejected: RejectedReport[]
}

const LOAD_BATCH = 200

/**
 * Rebuilds the latest report of every sidecar from `gf:sidecars` and the report hashes (tracker side, right
 * after it becomes leader, and whenever it wants a full picture). Works on Cluster: one single-key HGETALL per
 * sidecar, no SCAN.
 */
export async function loadAllReports(redis: RedisClient): Promise<FleetReports> {
  const keys = keysOf(redis)
  const flat = await redis.zrange(keys.sidecars, 0, -1, 'WITHSCORES')
  const members: SilentSidecar[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    members.push({ sidecarId: flat[i]!, lastReportAt: Number(flat[i + 1]) })
  }
  const result: FleetReports = { reports: new Map(), silent: [], rejected: [] }
  for (let start = 0; start < members.length; start += LOAD_BATCH) {
    const batch = members.slice(start, start + LOAD_BATCH)
    const hashes = await Promise.all(
      batch.map(async (member) => {
        try {
          return await redis.hgetall(keys.report(member.sidecarId))
        } catch (error) {
          // An id that cannot be a key was put in the index by hand: report it, keep loading the rest.
          if (error instanceof InvalidKeyPartError) return error
          throw error
        }
      }),
    )
    batch.forEach((member, index) => {
      const fields = hashes[index]!
      if (fields instanceof Error) {
        result.rejected.push({ sidecarId: member.sidecarId, reason: fields.message })
        return
      }
      if (Object.keys(fields).length === 0) {
        result.silent.push(member)
        return
      }
      const checked = checkReportHash(member.sidecarId, fields, keys.report(member.sidecarId))
      if (checked.ok) result.reports.set(member.sidecarId, checked.report)
      else result.rejected.push({ sidecarId: member.sidecarId, reason: checked.reason })
    })
  }
  return result
}

function checkReportHash(
  sidecarId: string,
  fields: Record<string, string>,
  source: string,
): { ok: true; report: SidecarReport } | { ok: false; reason: string } {
  const decoded = decodeHash(fields)
  if (!decoded.ok) return { ok: false, reason: decoded.reason }
  try {
    const report = parseWith(sidecarReportSchema, decoded.value, `redis ${source}`)
    if (report.sidecarId !== sidecarId) {
      return { ok: false, reason: `holds the report of sidecar ${report.sidecarId}, not ${sidecarId}` }
    }
    return { ok: true, report }
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, reason: error.message }
    throw error
  }
}

/**
 * Removes sidecars that have not reported since `silentSince` (epoch ms) from the `gf:sidecars` index (tracker
 * side, for decommissioned hosts). A sidecar that reports again is added back by its next report.
 * @returns how many were removed.
 */
export async function forgetSilentSidecars(redis: RedisClient, silentSince: number): Promise<number> {
  return await redis.zremrangebyscore(keysOf(redis).sidecars, '-inf', `(${silentSince}`)
}

import type { SidecarReport } from '@ghostfleet/core'
import { z } from 'zod'
import type { RedisClient } from './connection.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { loadAllReports } from './reports.js'
import { describeIssues } from './zod-issues.js'

/** A sidecar of the same chain and pool that serves peers, as its own latest report describes it. */
export interface Sibling {
  sidecarId: string
  /** Where its peer listener answers (the report's `peerUrl`). */
  peerUrl: string
  /** The lowest and highest height its node holds, by the report (`nodeBase`, `nodeHeight`). */
  base: number
  height: number
  /** The node answered its sidecar and is not restarting or pruning. */
  serving: boolean
  /** When the report was made (the sibling's clock). */
  reportedAt: number
}

/** Options for {@link readSiblings}. */
export interface ReadSiblingsOptions {
  /** The pool whose members are siblings: same KYVE chain and pool id as the reader's. */
  chainId: string
  poolId: number
  /** The reader itself, left out. */
  selfId: string
  /** Reports older than this (by their `reportedAt`) are left out, on top of the report hash's own expiry. */
  maxAgeMs: number
  now?: number
}

const optionsSchema = z.object({
  chainId: z.string().min(1, 'must not be empty'),
  poolId: z.int('must be an integer').min(0, 'must be ≥ 0'),
  selfId: z.string().min(1, 'must not be empty'),
  maxAgeMs: z.number('must be a number').positive('must be > 0'),
  now: z.number('must be a number').optional(),
})

/**
 * The siblings of a sidecar, read straight from the siblings' own report hashes, so routing to them does not
 * depend on a tracker being up (the tracker only reads the same hashes).
 *
 * Cost: O(fleet) per call, not O(pool): `gf:sidecars` is one fleet-wide index and the chain and pool are only in
 * each report hash, so every member's hash is read (`ZRANGE` + one `HGETALL` per member, sent together on the
 * connection) and filtered here. With the sidecar's refresh every report interval that is fleet² reads per
 * interval across the fleet: 100 sidecars at 5 s are 2,000 small HGETALLs per second, which one Redis serves
 * without notice. A per-pool index key would make it O(pool) but adds a key every sidecar must keep in step with
 * its report; worth it only for fleets of thousands.
 *
 * Reports that fail validation, have expired or name another pool are skipped; so is a member without a
 * `peerUrl` (an older release, or one that serves no peers).
 */
export async function readSiblings(redis: RedisClient, options: ReadSiblingsOptions): Promise<Sibling[]> {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) throw new InvalidOptionsError('readSiblings', describeIssues(parsed.error))
  const { chainId, poolId, selfId, maxAgeMs } = parsed.data
  const now = parsed.data.now ?? Date.now()
  const fleet = await loadAllReports(redis)
  const siblings: Sibling[] = []
  for (const report of fleet.reports.values()) {
    if (!isSibling(report, { chainId, poolId, selfId }) || report.peerUrl === undefined) continue
    if (report.reportedAt < now - maxAgeMs) continue
    siblings.push({
      sidecarId: report.sidecarId,
      peerUrl: report.peerUrl,
      base: report.nodeBase,
      height: report.nodeHeight,
      serving: report.nodeReachable && report.activity === 'serving',
      reportedAt: report.reportedAt,
    })
  }
  return siblings.sort((a, b) => a.sidecarId.localeCompare(b.sidecarId))
}

function isSibling(
  report: SidecarReport,
  self: { chainId: string; poolId: number; selfId: string },
): boolean {
  return report.chainId === self.chainId && report.poolId === self.poolId && report.sidecarId !== self.selfId
}

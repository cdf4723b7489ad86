/**
 * A bootstrap request received by a tracker that does not lead (standing by, or still taking over). It has no
 * picture of the fleet in memory, so it checks the request against Redis — the sidecars' report hashes and the
 * shared pool progress — with the same donor rule as the leader, and stores an accepted request as `pending`.
 * The leader takes it in on its next look at the stored requests (`BootstrapBook.merge`) and grants a donor
 * within the budget. Busy and prune state are the leader's to judge: here every sibling that could donate once
 * free counts.
 */
import {
  type BootstrapRecord,
  loadAllReports,
  loadBootstrapRecords,
  type RedisClient,
  readPoolProgress,
  writeBootstrapRecord,
} from '@ghostfleet/coordination'
import type { BootstrapRequest } from '@ghostfleet/core'
import { isFinal, newBootstrapRecord } from './bootstrap-book.js'
import { chooseDonors } from './bootstrap-donors.js'
import type { ResolvedTrackerConfig } from './config.js'
import { resolvePoolSettings } from './pool-settings.js'

export async function requestOnStandby(
  redis: RedisClient,
  config: ResolvedTrackerConfig,
  request: BootstrapRequest,
  now: number,
): Promise<{ ok: true; record: BootstrapRecord } | { ok: false; reason: string }> {
  const { records } = await loadBootstrapRecords(redis, now)
  const live = records.find(
    (r) =>
      r.requestedBy === request.requestedBy &&
      r.chainId === request.chainId &&
      r.poolId === request.poolId &&
      !isFinal(r) &&
      r.expiresAt > now,
  )
  if (live !== undefined) return { ok: true, record: live }
  const fleet = await loadAllReports(redis)
  const reports = [...fleet.reports.values()].filter(
    (r) => r.chainId === request.chainId && r.poolId === request.poolId,
  )
  if (reports.length === 0) {
    return { ok: false, reason: `no sidecar of pool ${request.poolId} on ${request.chainId} reports` }
  }
  const progress = await readPoolProgress(redis, request.chainId, request.poolId)
  const choice = chooseDonors({
    members: reports.map((report) => ({ report, silent: false, busy: false, pruneWanted: false })),
    progress,
    now,
    maxPoolAgeMs: config.maxPoolAgeMs,
    margin: resolvePoolSettings(config, request).margin,
    requestedBy: request.requestedBy,
    includeBusy: true,
  })
  if (!choice.ok) return choice
  const record = newBootstrapRecord(request, now, config.bootstrap.requestTtlMs)
  await writeBootstrapRecord(redis, record, { now })
  return { ok: true, record }
}

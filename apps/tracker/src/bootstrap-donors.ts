/**
 * Which siblings may donate a checkpoint to a new host of their pool, best first, or why none can.
 *
 * A donor must be able to hand over exactly what the pool needs next and serve it: reporting, serving, its node
 * reachable and not catching up (a node still syncing may not hold what it claims for long), a peer listener
 * (`peerUrl`) the new host downloads from, and a [base, height] that holds the pool's cache window
 * [pool height − margin, pool height + 2 × max bundle size] (cut at the highest height the fleet reported, as
 * `cacheWindow` does, and at that highest height even when it is below the pool's). The margin below the pool
 * height is the pool's prune margin: the new host starts with as much history below the pool as a pruned sibling
 * keeps.
 *
 * Preference: a donor that has not failed this host before (a new request after a failed one goes elsewhere when
 * it can), then one that wants a prune now (its checkpoint rides on the prune's stop: one disruption instead of
 * two), then the one with the most heights above the window (the longest before the pool outruns the clone),
 * then the id, so the choice is stable. When no donor wants a prune now but one's prune comes due before
 * `waitForPruneUntil`, the request waits for that prune instead of stopping a node of its own (`waitFor`).
 */
import { cacheWindow, type HeightRange, type SidecarReport } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'

export interface DonorMember {
  report: SidecarReport
  silent: boolean
  /** Holds a command now (a switch, a prune, a checkpoint): it cannot stop for a checkpoint until it is done. */
  busy: boolean
  /** Wants a prune now (assessed), so a checkpoint can share its stop. */
  pruneWanted: boolean
  /** When its next prune comes due (epoch ms), or null when none is scheduled (normal mode, never pruned). */
  pruneDueAt?: number | null
  /** Failed a checkpoint for this same host recently: asked again only when no other sibling can donate. */
  failedBefore?: boolean
}

export interface DonorQuery {
  /** Every member of the pool, as last reported. */
  members: readonly DonorMember[]
  progress: PoolFacts | null
  now: number
  maxPoolAgeMs: number
  /** Heights a donor must hold below the pool height (the pool's prune margin). */
  margin: number
  /** The new host: never its own donor. */
  requestedBy: string
  /** Count busy members as able to donate (they will be free soon): for accepting a request, not for granting. */
  includeBusy: boolean
  /** Wait for a donor's prune due by then rather than stop one for the checkpoint alone; null: never wait. */
  waitForPruneUntil?: number | null
}

export type DonorChoice =
  | {
      ok: true
      donors: string[]
      window: HeightRange
      /** Wait for this donor's prune (due at `dueAt`) and take the checkpoint in its stop. */
      waitFor?: { donor: string; dueAt: number }
    }
  | { ok: false; reason: string }

/** How long a request waits at most for a donor's prune to come due (and never past half of its life). */
export const PRUNE_WAIT_MS = 5 * 60_000

/** Until when `request` may wait for a donor's prune: {@link PRUNE_WAIT_MS}, and at most half its life. */
export function pruneWaitLimit(request: { createdAt: number; expiresAt: number }, now: number): number {
  return Math.min(now + PRUNE_WAIT_MS, request.createdAt + (request.expiresAt - request.createdAt) / 2)
}

/** At most this many sidecars named in a refusal. */
const NAMED = 5

export function chooseDonors(query: DonorQuery): DonorChoice {
  const { progress, now } = query
  const siblings = query.members.filter((m) => m.report.sidecarId !== query.requestedBy)
  if (siblings.length === 0) return { ok: false, reason: 'no sibling reports in this pool' }
  if (progress === null || progress.poolHeight === null) {
    return {
      ok: false,
      reason: 'the pool height is not known yet (no answer from KYVE, or a state-sync key)',
    }
  }
  if (now - progress.fetchedAt > query.maxPoolAgeMs) {
    return {
      ok: false,
      reason: `the pool height is stale (fetched ${Math.round((now - progress.fetchedAt) / 1000)} s ago)`,
    }
  }
  const tip = Math.max(0, ...query.members.map((m) => m.report.nodeHeight))
  const top = cacheWindow({ poolHeight: progress.poolHeight, maxBundleSize: progress.maxBundleSize, tip })
  // Heights above every member's node are not produced yet: when the whole fleet is behind the pool (a pool at the
  // chain's tip, nodes a block or two late), a donor at the fleet's tip holds all anyone can, so `to` stops there
  // (cacheWindow keeps the pool height in its range for the coverage metric; a donor need not hold the unheld).
  const to = Math.min(top.to, tip)
  const window: HeightRange = { from: Math.min(Math.max(1, top.from - query.margin), to), to }
  const eligible: DonorMember[] = []
  const refused: string[] = []
  for (const member of siblings) {
    const why = refusal(member, window, query.includeBusy)
    if (why === null) eligible.push(member)
    else refused.push(`${member.report.sidecarId} ${why}`)
  }
  if (eligible.length === 0) {
    const named = refused.slice(0, NAMED).join('; ')
    const more = refused.length > NAMED ? `; +${refused.length - NAMED} more` : ''
    return {
      ok: false,
      reason: `no sibling can donate the window ${window.from}–${window.to}: ${named}${more}`,
    }
  }
  eligible.sort(
    (a, b) =>
      Number(a.failedBefore ?? false) - Number(b.failedBefore ?? false) ||
      Number(b.pruneWanted) - Number(a.pruneWanted) ||
      b.report.nodeHeight - a.report.nodeHeight ||
      (a.report.sidecarId < b.report.sidecarId ? -1 : a.report.sidecarId > b.report.sidecarId ? 1 : 0),
  )
  const donors = eligible.map((m) => m.report.sidecarId)
  const until = query.waitForPruneUntil ?? null
  if (until !== null && !eligible.some((m) => m.pruneWanted)) {
    let soonest: { donor: string; dueAt: number } | undefined
    for (const m of eligible) {
      const due = m.pruneDueAt ?? null
      if (due === null || due <= now || due > until) continue
      if (soonest === undefined || due < soonest.dueAt) soonest = { donor: m.report.sidecarId, dueAt: due }
    }
    if (soonest !== undefined) return { ok: true, donors, window, waitFor: soonest }
  }
  return { ok: true, donors, window }
}

/** Why `member` cannot donate `window` now, or null when it can. */
function refusal(member: DonorMember, window: HeightRange, includeBusy: boolean): string | null {
  const { report } = member
  if (member.silent) return 'is silent'
  if (report.activity !== 'serving') return `is ${report.activity}`
  if (!report.nodeReachable) return 'has its node unreachable'
  if (report.catchingUp) return 'is catching up'
  if (report.peerUrl === undefined) return 'has no peer listener (no peerUrl in its reports)'
  if (
    report.nodeHeight === 0 ||
    Math.max(1, report.nodeBase) > window.from ||
    report.nodeHeight < window.to
  ) {
    return `holds ${Math.max(1, report.nodeBase)}–${report.nodeHeight}`
  }
  if (member.busy && !includeBusy) return 'is busy with a command'
  return null
}

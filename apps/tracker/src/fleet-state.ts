/** The leader's in-memory picture of the fleet: sidecars, the pools they serve, and what each is doing. */
import type { MemberActivity, SidecarReport } from '@ghostfleet/core'
import type { PoolFacts } from '@ghostfleet/kyve'
import type { Command } from './commands.js'
import type { PoolRef } from './pool-ref.js'
import type { PoolSettings } from './pool-settings.js'
import type { PoolThresholds } from './pool-thresholds.js'
import type { SidecarAssessment } from './sidecar-decision.js'

/** How the last command of a sidecar ended, for the fleet API. */
export interface CommandOutcomeRecord {
  command: string
  outcome: 'done' | 'timeout' | 'refused' | 'dropped'
  at: number
  detail: string
}

export interface SidecarEntry {
  id: string
  pool: PoolRef
  poolKey: string
  /** The latest report (while silent: the last one received). */
  report: SidecarReport
  /** Tracker clock when that report arrived (after an election: its `reportedAt`, at most now). */
  receivedAt: number
  /** Estimated report interval. */
  intervalMs: number
  silent: boolean
  command: Command | null
  switchRetryAt: number
  pruneRetryAt: number
  switchFailures: number
  pruneFailures: number
  /** When the tracker saw the last prune of this sidecar finish (tracker clock). */
  pruneDoneAt: number | null
  assessment: SidecarAssessment | null
  /** Cached budget activity (what `pool.unavailable` holds for it). */
  activity: MemberActivity
  lastOutcome: CommandOutcomeRecord | null
  /** Next time a deadline of this sidecar needs a look (command timeout, retry, prune due); Infinity none. */
  nextCheckAt: number
  /**
   * False for an entry built at the election from what Redis held (report hashes, the previous picture), until
   * the sidecar's first report to this leader. Until then nothing is written for it and no command is adopted:
   * Redis restarted from an old snapshot brings back old reports and old desired states together, and a state
   * decided on them under the new epoch would win over what the sidecar applied since (the chaos soak saw two
   * sidecars just back in normal mode sent to ghost at once by "holding the current mode").
   */
  heardSinceElection: boolean
}

export interface PoolEntry {
  ref: PoolRef
  key: string
  settings: PoolSettings
  progress: PoolFacts | null
  thresholds: PoolThresholds
  members: Set<string>
  /** Members counted against the budget, with why. */
  unavailable: Map<string, MemberActivity>
  /** Members with a disruptive change waiting for the budget. */
  wanting: Set<string>
  lastPollError: string | null
  lastPollAt: number | null
}

/** A sidecar in the index that is silent and whose pool nobody here knows (silent since before an election). */
export interface OrphanSidecar {
  sidecarId: string
  /** Its last report (sidecar clock). */
  lastReportAt: number
}

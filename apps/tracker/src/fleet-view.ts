/**
 * The JSON the fleet API serves (`/v1/fleet`, `/v1/pools`, `/v1/sidecars/:id`), as zod schemas: the server
 * builds these shapes, and `ghostfleet-tracker status` parses the answer with the same schemas, so a tracker of
 * another release is told apart from a broken answer.
 */
import type { DesiredState, SidecarReport } from '@ghostfleet/core'
import { z } from 'zod'
import { COMMAND_KINDS } from './commands.js'

const height = z.int().min(0)
const epochMs = z.int().min(0)
const mode = z.enum(['normal', 'ghost'])

export const poolViewSchema = z.object({
  chainId: z.string(),
  poolId: z.int().min(0),
  /** Validated height (current_key) as a number; null when unknown or not an integer key. */
  poolHeight: height.nullable(),
  poolHeightKey: z.string().nullable(),
  /** When the tracker fetched it (epoch ms). */
  fetchedAt: epochMs.nullable(),
  ageSeconds: z.number().nullable(),
  /** Older than maxPoolAgeSeconds: modes hold, no prunes. */
  stale: z.boolean(),
  endpoint: z.string().nullable(),
  status: z.string().nullable(),
  thresholds: z
    .object({ heightDifferenceMax: height, heightDifferenceMin: height, keepRecent: height })
    .nullable(),
  thresholdsProblem: z.string().nullable(),
  maxUnavailable: z.int().min(1),
  pruningIntervalHours: z.number(),
  margin: z.int().min(1),
  sidecars: z.int().min(0),
  byMode: z.object({ normal: z.int().min(0), ghost: z.int().min(0) }),
  silent: z.int().min(0),
  /** Sidecars counted against the budget, with why (restarting, pruning, unknown). */
  unavailable: z.array(z.object({ sidecarId: z.string(), activity: z.string() })),
  /** Sidecars with a mode switch or prune waiting for the budget. */
  waiting: z.int().min(0),
  minNodeHeight: height.nullable(),
  maxNodeHeight: height.nullable(),
  /** node − pool over the reporting sidecars. */
  minLag: z.int().nullable(),
  maxLag: z.int().nullable(),
  lastPollError: z.string().nullable(),
})
export type PoolView = z.infer<typeof poolViewSchema>

export const sidecarViewSchema = z.object({
  sidecarId: z.string(),
  chainId: z.string(),
  poolId: z.int().min(0),
  /** The mode the sidecar reports. */
  mode: mode,
  /** The mode the stored desired state asks for; null when none is stored. */
  desiredMode: mode.nullable(),
  pruneToHeight: height.nullable(),
  nodeHeight: height,
  nodeBase: height,
  /** node − pool; null while the pool height is unknown. */
  lag: z.int().nullable(),
  activity: z.string(),
  nodeReachable: z.boolean(),
  decidedBy: z.string(),
  silent: z.boolean(),
  reportedAt: epochMs,
  lastReportAgeSeconds: z.number(),
  lastPrune: z.object({ height: height, at: epochMs }).nullable(),
  appliedEpoch: z.int().min(0),
  appliedGeneration: z.int().min(0),
  desired: z
    .object({ epoch: z.int(), generation: z.int(), issuedAt: epochMs, reason: z.string() })
    .nullable(),
  /** The command in progress (leader only). */
  command: z
    .object({
      kind: z.enum(COMMAND_KINDS),
      description: z.string(),
      issuedAt: epochMs,
      pickedUp: z.boolean(),
    })
    .nullable(),
  /** Why the sidecar holds or waits (leader only). */
  note: z.string().nullable(),
  lastOutcome: z
    .object({ command: z.string(), outcome: z.string(), at: epochMs, detail: z.string() })
    .nullable(),
  version: z.string(),
})
export type SidecarView = z.infer<typeof sidecarViewSchema>

/**
 * A sidecar's view from its last report (received at `receivedAt`) and its stored desired state, as a standby
 * sees it; the leader adds what only it knows (silence, the command in progress, the note, the last outcome).
 */
export function reportedSidecarView(
  report: SidecarReport,
  desired: DesiredState | null,
  poolHeight: number | null,
  receivedAt: number,
  now: number,
): SidecarView {
  return {
    sidecarId: report.sidecarId,
    chainId: report.chainId,
    poolId: report.poolId,
    mode: report.mode,
    desiredMode: desired?.mode ?? null,
    pruneToHeight: desired?.pruneToHeight ?? null,
    nodeHeight: report.nodeHeight,
    nodeBase: report.nodeBase,
    lag: poolHeight === null ? null : report.nodeHeight - poolHeight,
    activity: report.activity,
    nodeReachable: report.nodeReachable,
    decidedBy: report.decidedBy,
    silent: false,
    reportedAt: report.reportedAt,
    lastReportAgeSeconds: Math.max(0, now - receivedAt) / 1000,
    lastPrune: report.lastPrune,
    appliedEpoch: report.appliedEpoch,
    appliedGeneration: report.appliedGeneration,
    desired:
      desired === null
        ? null
        : {
            epoch: desired.epoch,
            generation: desired.generation,
            issuedAt: desired.issuedAt,
            reason: desired.reason,
          },
    command: null,
    note: null,
    lastOutcome: null,
    version: report.version,
  }
}

export const discoveryViewSchema = z.object({
  /** The Consul agent's URL; null when the tracker runs without Consul. */
  consul: z.string().nullable(),
  /** The last listing of sidecars from Consul succeeded; null before the first one or without Consul. */
  consulUp: z.boolean().nullable(),
  /** The agent holds the tracker's own registration. */
  registered: z.boolean(),
  /** Sidecars registered in Consul but not reporting on Redis: crashed, partitioned, misconfigured. */
  registeredButSilent: z.array(z.string()),
  /** Sidecars reporting on Redis but not registered in Consul: Prometheus does not scrape them. */
  reportingButUnregistered: z.array(z.string()),
  /** When the two were last compared (epoch ms). */
  checkedAt: epochMs.nullable(),
  lastError: z.string().nullable(),
})
/** What the fleet API shows under `tracker.discovery`. */
export type DiscoveryView = z.infer<typeof discoveryViewSchema>

export const trackerViewSchema = z.object({
  id: z.string(),
  role: z.enum(['leader', 'standby']),
  epoch: z.int().nullable(),
  redis: z.string(),
  /** While leading: no new command starts before this time (epoch ms) after the election. */
  quietUntil: epochMs.nullable(),
  /** Silent sidecars of unknown pool that hold every pool's new commands (leader only). */
  orphans: z.array(z.string()),
  /** Consul against Redis. Optional: trackers without Consul support do not send it. */
  discovery: discoveryViewSchema.optional(),
  generatedAt: epochMs,
})
export type TrackerView = z.infer<typeof trackerViewSchema>

export const fleetViewSchema = z.object({
  tracker: trackerViewSchema,
  pools: z.array(poolViewSchema),
  sidecars: z.array(sidecarViewSchema),
})
export type FleetView = z.infer<typeof fleetViewSchema>

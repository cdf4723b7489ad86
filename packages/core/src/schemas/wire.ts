/**
 * Messages between sidecars and the tracker (carried over Redis by `@ghostfleet/coordination`).
 *
 * `v` is the wire version. Fields may be added within a version (receivers drop keys they do not know);
 * anything a receiver cannot ignore safely bumps the version, and a receiver rejects a version it does not
 * speak.
 */
import { z } from 'zod'
import { MEMBER_ACTIVITIES } from '../availability.js'
import { NODE_MODES } from '../mode.js'
import {
  addCrossFieldIssue,
  bool,
  bootstrapIdField,
  chainId,
  checkpointIdField,
  epochMs,
  fieldsValid,
  hexString,
  httpUrl,
  intAtLeast,
  message,
  nonEmptyText,
  oneOf,
  sidecarId,
} from './fields.js'
import { thresholdsSchema } from './thresholds.js'

export const WIRE_VERSION = 1

const wireVersion = () =>
  z.literal(WIRE_VERSION, {
    error: `expected wire version ${WIRE_VERSION} (is the peer a different release?)`,
  })

/** What a donor's checkpoint for one bootstrap request is doing (reported back in `donations`). */
export const DONATION_STATES = ['taking', 'sealing', 'ready', 'failed'] as const
export type DonationState = (typeof DONATION_STATES)[number]

/** At most this many donations in one report (a donor serves a few new hosts at a time, not a queue). */
export const MAX_REPORTED_DONATIONS = 8

/**
 * One bootstrap request's checkpoint on a donor, as the donor reports it: `taking` (node stopped, tables being
 * linked), `sealing` (node serving again, files being hashed into the signed manifest), `ready` (served on the
 * peer listener under `checkpointId`), `failed` (`detail` says why; the node serves again).
 */
export const donationReportSchema = message({
  bootstrapId: bootstrapIdField(),
  state: oneOf(DONATION_STATES),
  checkpointId: checkpointIdField().optional(),
  detail: z
    .string({ error: 'expected a string' })
    .max(300, { error: 'expected at most 300 characters' })
    .optional(),
  at: epochMs(),
})
export type DonationReport = z.output<typeof donationReportSchema>

/**
 * The tracker asks a donor for a checkpoint: take one at the node's next stop (a prune due soon, or a stop of
 * its own, which counts against the pool's availability budget), for the new host `requestedBy`. A request past
 * `expiresAt` is dropped.
 */
export const donationRequestSchema = message({
  bootstrapId: bootstrapIdField(),
  /** The new host's sidecar id. */
  requestedBy: sidecarId(),
  expiresAt: epochMs(),
})
export type DonationRequest = z.output<typeof donationRequestSchema>

const BOOT_ID_EXPECTATION = 'expected a boot id: 8–64 characters from A-Z a-z 0-9 -'

/**
 * What a sidecar reports about itself every report interval.
 *
 * Order of reports: `bootId` + `seq` (added within wire version 1). A sidecar process picks a random `bootId`
 * when it starts and numbers its reports 1, 2, 3, … within that boot, so a receiver orders one boot's reports by
 * `seq`, never by the sidecar's wall clock (`reportedAt` can step back). Both are present or both absent; a
 * report without them comes from an older sidecar release and is ordered by `reportedAt`, as that release
 * expects.
 */
export const sidecarReportSchema = message({
  v: wireVersion(),
  sidecarId: sidecarId(),
  chainId: chainId(),
  poolId: intAtLeast(0),
  mode: oneOf(NODE_MODES),
  nodeHeight: intAtLeast(0),
  nodeBase: intAtLeast(0),
  nodeReachable: bool(),
  catchingUp: bool(),
  activity: oneOf(MEMBER_ACTIVITIES),
  /** Size of the node's data directory. */
  dataBytes: intAtLeast(0),
  /** The tracker epoch and generation of the last desired state this sidecar applied (0: none yet). */
  appliedEpoch: intAtLeast(0),
  appliedGeneration: intAtLeast(0),
  lastPrune: message({ height: intAtLeast(1), at: epochMs() }).nullable(),
  /** Whether the current mode came from the tracker or from the sidecar's own fallback decision. */
  decidedBy: oneOf(['tracker', 'local']),
  /** The sidecar's release. */
  version: nonEmptyText(),
  reportedAt: epochMs(),
  /** The thresholds the sidecar uses when it decides locally. */
  thresholds: thresholdsSchema.optional(),
  /** Random id of this sidecar process's run (a restart picks a new one). */
  bootId: z
    .string({ error: BOOT_ID_EXPECTATION })
    .regex(/^[A-Za-z0-9-]{8,64}$/, { error: BOOT_ID_EXPECTATION })
    .optional(),
  /** Number of this report within the boot: 1 for the first, +1 for each later one (gaps are fine). */
  seq: intAtLeast(1).optional(),
  /**
   * Where this sidecar's peer listener serves its siblings (same chain and pool) reads from its node: an
   * http(s) base URL (added within wire version 1). Absent: the sidecar serves no siblings.
   */
  peerUrl: httpUrl().optional(),
  /** The checkpoints this sidecar takes or serves for bootstrapping hosts (added within wire version 1). */
  donations: z
    .array(donationReportSchema)
    .max(MAX_REPORTED_DONATIONS, { error: `expected at most ${MAX_REPORTED_DONATIONS} donations` })
    .optional(),
}).superRefine(
  (report, ctx) => {
    if ((report.bootId === undefined) !== (report.seq === undefined)) {
      addCrossFieldIssue(
        ctx,
        [report.bootId === undefined ? 'bootId' : 'seq'],
        'bootId and seq go together: send both (this release) or neither (an older one)',
      )
    }
  },
  { when: fieldsValid('bootId', 'seq') },
)
export type SidecarReport = z.output<typeof sidecarReportSchema>

/**
 * What the tracker wants one sidecar to do. Fenced by `epoch` (leader term) and `generation` (per sidecar,
 * increasing), so a sidecar applies only newer generations from a current leader.
 */
export const desiredStateSchema = message({
  v: wireVersion(),
  sidecarId: sidecarId(),
  mode: oneOf(NODE_MODES),
  /** Prune to this height (keep it, delete below), or `null` for no prune. */
  pruneToHeight: intAtLeast(1).nullable(),
  /** The pool height the decision was based on; the sidecar re-checks the prune height against its own view. */
  basedOnPoolHeight: intAtLeast(0),
  poolFetchedAt: epochMs(),
  epoch: intAtLeast(1),
  generation: intAtLeast(1),
  issuedAt: epochMs(),
  reason: z.string({ error: 'expected a string' }),
  /**
   * A checkpoint to take for a bootstrapping host (added within wire version 1; absent or null: none). Signed
   * like the rest: the payload carries it whenever it is present.
   */
  donate: donationRequestSchema.nullable().optional(),
  /** HMAC over `canonicalDesiredStatePayload`, when a fleet key is configured. */
  signature: hexString().optional(),
}).superRefine(
  (desired, ctx) => {
    // A prune height at or above the pool height it claims to be based on cannot come from safePruneHeight
    // (margin ≥ 1); refuse the whole message rather than trust any part of it.
    if (desired.pruneToHeight !== null && desired.pruneToHeight >= desired.basedOnPoolHeight) {
      addCrossFieldIssue(
        ctx,
        ['pruneToHeight'],
        `pruneToHeight (${desired.pruneToHeight}) must be below basedOnPoolHeight (${desired.basedOnPoolHeight}): ` +
          'a prune never reaches the pool height',
      )
    }
  },
  { when: fieldsValid('pruneToHeight', 'basedOnPoolHeight') },
)
export type DesiredState = z.output<typeof desiredStateSchema>

/** Prefix that ties a signature to this message type and wire version, so it cannot be replayed as another. */
const DESIRED_STATE_DOMAIN = `ghostfleet/desired-state/v${WIRE_VERSION}\n`

/**
 * The bytes to sign and verify for a desired state: a domain prefix, then JSON of every field except
 * `signature` with the keys in a fixed order. Independent of the object's own key order and of any extra keys
 * it carries, so the tracker and the sidecar always compute the same string for the same state.
 *
 * @example
 * const mac = createHmac('sha256', key).update(canonicalDesiredStatePayload(ds)).digest('hex')
 */
export function canonicalDesiredStatePayload(ds: DesiredState): string {
  const ordered = {
    v: ds.v,
    sidecarId: ds.sidecarId,
    mode: ds.mode,
    pruneToHeight: ds.pruneToHeight,
    basedOnPoolHeight: ds.basedOnPoolHeight,
    poolFetchedAt: ds.poolFetchedAt,
    epoch: ds.epoch,
    generation: ds.generation,
    issuedAt: ds.issuedAt,
    reason: ds.reason,
    // Only when present, so a state without it signs exactly as before this field existed.
    ...(ds.donate === undefined
      ? {}
      : {
          donate:
            ds.donate === null
              ? null
              : {
                  bootstrapId: ds.donate.bootstrapId,
                  requestedBy: ds.donate.requestedBy,
                  expiresAt: ds.donate.expiresAt,
                },
        }),
  }
  return DESIRED_STATE_DOMAIN + JSON.stringify(ordered)
}

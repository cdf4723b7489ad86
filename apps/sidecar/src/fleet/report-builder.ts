import { type MemberActivity, type SidecarReport, type Thresholds, WIRE_VERSION } from '@ghostfleet/core'
import type { ControllerSnapshot } from '../control/controller.js'
import type { DecidedBy } from '../control/decision-source.js'
import type { ReportPosition } from './report-sequence.js'

/** What a report says about the sidecar beyond the controller's snapshot. */
export interface ReportIdentity {
  sidecarId: string
  chainId: string
  poolId: number
  thresholds: Thresholds
  version: string
  /** Where this sidecar's peer listener serves siblings; absent when it runs none. */
  peerUrl?: string
}

/**
 * The snapshot's node observation if it was made since the current node process started, else null. An
 * observation made before (the tick before a switch, a prune or a crash) says nothing about the new process:
 * until the node has answered since, it counts as restarting, for reports and for the gateway alike.
 */
export function currentObservation(snapshot: ControllerSnapshot): ControllerSnapshot['node'] {
  const processStartedAt =
    snapshot.nodeProcess.state === 'running' ? snapshot.now - snapshot.nodeProcess.uptimeMs : null
  if (snapshot.node === null || processStartedAt === null || snapshot.node.at < processStartedAt) return null
  return snapshot.node
}

export interface ReportInput {
  identity: ReportIdentity
  snapshot: ControllerSnapshot
  activity: MemberActivity
  decidedBy: DecidedBy
  /** The last heights the node answered with, for reports while it does not answer (`nodeReachable: false`). */
  lastKnown: { height: number; base: number } | null
  now: number
  /** This report's place in the sidecar's sequence (`ReportSequence.next()`), by which the tracker orders reports. */
  position: ReportPosition
}

/**
 * The report the tracker decides from, built from one controller snapshot so its fields agree with each other.
 * The tracker relies on it being honest (apps/tracker/README.md, "the sidecar contract"): the mode from
 * state.json (the persisted target, so a switch in progress already shows its target together with
 * `activity: "restarting"`), the applied token, the real last prune, and `decidedBy`.
 */
export function buildSidecarReport(input: ReportInput): SidecarReport {
  const { snapshot, identity } = input
  const state = snapshot.state
  // Until the new node process has answered, it is reported restarting and not reachable: the tracker holds a
  // pool's budget slot until the node answers again; a stale "reachable" would let it send the next sidecar down
  // while this one is still coming up.
  const node = currentObservation(snapshot)
  const current = node !== null
  const heights = node?.reachable
    ? { height: node.appHeight, base: node.base }
    : (input.lastKnown ?? { height: 0, base: 0 })
  const activity = input.activity === 'serving' && !current ? 'restarting' : input.activity
  return {
    v: WIRE_VERSION,
    sidecarId: identity.sidecarId,
    chainId: identity.chainId,
    poolId: identity.poolId,
    mode: state.mode,
    nodeHeight: heights.height,
    nodeBase: heights.base,
    nodeReachable: node?.reachable ?? false,
    catchingUp: node?.reachable ? node.catchingUp : false,
    activity,
    dataBytes: Math.max(0, Math.round(snapshot.dataDir.bytes ?? 0)),
    appliedEpoch: state.appliedEpoch,
    appliedGeneration: state.appliedGeneration,
    lastPrune: state.lastPrune === null ? null : { height: state.lastPrune.toHeight, at: state.lastPrune.at },
    decidedBy: input.decidedBy,
    version: identity.version,
    reportedAt: input.now,
    thresholds: identity.thresholds,
    bootId: input.position.bootId,
    seq: input.position.seq,
    ...(identity.peerUrl === undefined ? {} : { peerUrl: identity.peerUrl }),
    // Only while there is something to say, so reports of sidecars that never donated stay as they were.
    ...(snapshot.donations === undefined || snapshot.donations.length === 0
      ? {}
      : { donations: snapshot.donations }),
  }
}

/**
 * The life of a disruptive command (a mode switch, a prune, or a donor's checkpoint) the tracker gives one sidecar.
 *
 *   issued ──(sidecar applied its token, or stopped serving)──▶ picked up ──(effect seen)──▶ done
 *      │                                                          │
 *      └──(not picked up within ackTimeout)──▶ timeout            └──(still serving, no effect, settleTimeout)──▶ refused
 *
 * A command holds one slot of its pool's availability budget from the moment it is written until it is done or
 * withdrawn (timeout, refused): the sidecar's reports lag the command, and without the hold a second sidecar
 * could be sent down before the first one reports that it is down. A prune the sidecar is not running gives way
 * to a return to normal of the same sidecar, which takes over its slot (see the reconciler).
 *
 * Why a sidecar never prunes twice for one command: the prune height H of a command never changes while the
 * command lives, even when the desired state is rewritten (failover, refresh) under a new generation; a prune to
 * H keeps H, so once done the node's base is H and "prune to H" again has nothing to delete (the sidecar acts
 * only when H is above its base). The command is cleared as soon as the report shows `lastPrune.height ≥ H`, and
 * the next prune of that sidecar waits a full pruning interval and has a higher H.
 *
 * Why a lost report does not stall the pool: reports are snapshots repeated every few seconds, so the next one
 * carries the same evidence; and a sidecar that never shows the effect (refused, not listening) has its command
 * withdrawn by the timeouts, which frees the slot. A sidecar that is silent counts as unavailable by itself.
 */
import type { DonationReport, NodeMode, SidecarReport } from '@ghostfleet/core'
import type { TrackerTiming } from './timing.js'

/** The desired-state token under which a command was first written in the current epoch. */
export interface CommandToken {
  epoch: number
  generation: number
}

interface CommandBase {
  /** When the command was decided (tracker clock, epoch ms). */
  issuedAt: number
  /** Set once the write that carries it was accepted. */
  token: CommandToken | null
  /** When the sidecar was first seen to have picked it up. */
  pickedUpAt: number | null
  /** One line for logs and the fleet API. */
  reason: string
}

export interface SwitchCommand extends CommandBase {
  kind: 'switch'
  /** The mode the sidecar is told to run in. */
  mode: NodeMode
}

export interface PruneCommand extends CommandBase {
  kind: 'prune'
  /** Prune to this height (keep it, delete below). Fixed for the command's life. */
  height: number
  /** The pool height and its fetch time that `height` was computed from (sent with the command). */
  basedOnPoolHeight: number
  poolFetchedAt: number
}

/**
 * A donor's checkpoint for a bootstrapping host: the sidecar stops its node, links its data into a checkpoint and
 * starts the node again (the desired state carries `donate`). It holds a budget slot until the donor reports the
 * donation past `taking` (the node is serving again while it seals). A donor whose prune is due gets the prune
 * command with `donate` beside it instead: one stop, one slot.
 */
export interface CheckpointCommand extends CommandBase {
  kind: 'checkpoint'
  bootstrapId: string
}

export type Command = SwitchCommand | PruneCommand | CheckpointCommand

/** The command kinds, for metric labels and the fleet API. */
export const COMMAND_KINDS = ['switch', 'prune', 'checkpoint'] as const
export type CommandKind = Command['kind']

/** Where a command stands after a report or a clock tick. */
export type CommandProgress =
  | { state: 'pending' }
  | { state: 'done' }
  | { state: 'withdrawn'; outcome: 'timeout' | 'refused'; detail: string }

/** Whether the sidecar reports having applied a desired state at or after `token`. */
export function appliedAtLeast(report: SidecarReport, token: CommandToken): boolean {
  if (report.appliedEpoch !== token.epoch) return report.appliedEpoch > token.epoch
  return report.appliedGeneration >= token.generation
}

/** The donor's report of the donation for `bootstrapId`, if it carries one. */
export function donationOf(report: SidecarReport, bootstrapId: string): DonationReport | undefined {
  return report.donations?.find((donation) => donation.bootstrapId === bootstrapId)
}

function effectSeen(command: Command, report: SidecarReport): boolean {
  if (command.kind === 'switch') {
    return report.mode === command.mode && report.activity === 'serving' && report.nodeReachable
  }
  if (command.kind === 'checkpoint') {
    // Past `taking` the node runs again (sealing hashes files beside it), or the take failed and it serves.
    const state = donationOf(report, command.bootstrapId)?.state
    return state !== undefined && state !== 'taking' && report.activity === 'serving' && report.nodeReachable
  }
  // The base at or above H is the same evidence as lastPrune (the node can only get there by pruning to ≥ H).
  return (
    (report.lastPrune !== null && report.lastPrune.height >= command.height) ||
    report.nodeBase >= command.height
  )
}

/**
 * Advances a command with the sidecar's latest report (or `null` while it is silent). Mutates `pickedUpAt`.
 * A silent sidecar's command stays pending: the sidecar may be in the middle of it, and it holds a budget slot
 * as "unknown" anyway.
 */
export function advanceCommand(
  command: Command,
  report: SidecarReport | null,
  now: number,
  timing: Pick<TrackerTiming, 'commandAckTimeoutMs' | 'commandSettleTimeoutMs'>,
): CommandProgress {
  if (report === null) return { state: 'pending' }
  if (effectSeen(command, report)) return { state: 'done' }
  if (command.pickedUpAt === null) {
    const pickedUp =
      (command.token !== null && appliedAtLeast(report, command.token)) ||
      report.activity !== 'serving' ||
      (command.kind === 'checkpoint' && donationOf(report, command.bootstrapId) !== undefined)
    if (pickedUp) command.pickedUpAt = now
  }
  if (command.pickedUpAt === null) {
    if (now - command.issuedAt > timing.commandAckTimeoutMs) {
      return {
        state: 'withdrawn',
        outcome: 'timeout',
        detail: `not picked up within ${timing.commandAckTimeoutMs} ms (applied ${report.appliedEpoch}/${report.appliedGeneration}, decided by ${report.decidedBy})`,
      }
    }
    return { state: 'pending' }
  }
  if (report.activity === 'serving' && now - command.pickedUpAt > timing.commandSettleTimeoutMs) {
    const seen =
      command.kind === 'switch'
        ? `still in ${report.mode} mode`
        : command.kind === 'checkpoint'
          ? `donation ${donationOf(report, command.bootstrapId)?.state ?? 'not reported'}`
          : `base ${report.nodeBase}, last prune ${report.lastPrune === null ? 'none' : `to ${report.lastPrune.height}`}`
    return {
      state: 'withdrawn',
      outcome: 'refused',
      detail: `picked up but serving with no effect for ${timing.commandSettleTimeoutMs} ms (${seen})`,
    }
  }
  return { state: 'pending' }
}

/** Short description for logs and the fleet API. */
export function describeCommand(command: Command): string {
  if (command.kind === 'checkpoint') return `checkpoint for bootstrap ${command.bootstrapId}`
  return command.kind === 'switch' ? `switch to ${command.mode}` : `prune to ${command.height}`
}

import type { Logger } from '@ghostfleet/telemetry'
import { reconcileAddressBook } from './control/mode-switch.js'
import type { AddressBookKeeper } from './control/node-lifecycle.js'
import type { StateKeeper } from './state/state-keeper.js'
import { describeLocked, type LockedDatabase } from './storage/database-locks.js'
import { inspectProcess, type ProcessInfo, terminateProcess } from './supervisor/process-inspect.js'

/**
 * What `start` does before it launches the node, so that a sidecar restarted after a SIGKILL (or a crash, or a
 * reboot) picks up exactly where the last one stopped:
 *
 * 1. The node the last sidecar launched may still run (a SIGKILL does not reach children). If the recorded pid
 *    is alive and was launched by a sidecar of this config directory (environment marker; on macOS, where the
 *    environment cannot be read, its argv must run our home), it is stopped cleanly: SIGTERM, wait, SIGKILL.
 *    Another process that merely reuses the pid is left alone.
 * 2. Whoever else holds the node's databases is looked up. A process carrying our marker is ours too (the
 *    sidecar died between spawning the node and recording its pid) and is stopped the same way. Anything else —
 *    a node started by hand or by another supervisor — makes the start fail with its pid and command line:
 *    two processes must never run one node home.
 * 3. The address book is brought in line with the persisted mode (stashed for ghost, restored for normal), so a
 *    sidecar killed mid-switch finishes the switch, and a ghost node comes back as a ghost without a sync burst.
 *    If the stash fails, the node comes back in normal mode instead (see `reconcileAddressBook`).
 * 4. The prune clock starts on the very first run (see `prune-schedule.ts`).
 */
export class StartupRefusedError extends Error {
  override readonly name = 'StartupRefusedError'
}

export interface StartupDeps {
  configDir: string
  home: string
  state: StateKeeper
  addressBook: AddressBookKeeper
  /** The node's databases that are locked right now (all node databases, not only the pruned ones). */
  lockedDatabases: () => Promise<LockedDatabase[]>
  stopGraceMs: number
  now: () => number
  log: Logger
}

export interface StartupReport {
  /** Orphaned nodes of ours that were stopped. */
  stoppedOrphans: Array<{ pid: number; how: string }>
  /** What the address-book step did, or its error (reported, not fatal). */
  addressBook: { ok: true; detail: string } | { ok: false; error: Error }
  /** The persisted mode was ghost but the stash failed: the node starts in normal mode (see mode-switch.ts). */
  revertedToNormal: boolean
}

function isOurs(info: ProcessInfo, recorded: boolean): boolean {
  if (info.launcher === 'ours') return true
  // Without a readable environment only the pid we recorded, running our home, is taken as ours.
  return recorded && info.launcher === 'unknown' && info.runsOurHome
}

export async function prepareStart(deps: StartupDeps): Promise<StartupReport> {
  const { log } = deps
  const report: StartupReport = {
    stoppedOrphans: [],
    addressBook: { ok: true, detail: '' },
    revertedToNormal: false,
  }
  const stop = async (info: ProcessInfo, why: string) => {
    log.warn(
      { pid: info.pid, command: info.command, why },
      'found the node a previous sidecar left running; stopping it cleanly before launching',
    )
    const how = await terminateProcess(info.pid, deps.stopGraceMs)
    report.stoppedOrphans.push({ pid: info.pid, how })
    log.info({ pid: info.pid, how }, 'orphaned node stopped')
  }

  const recorded = deps.state.get().nodePid
  if (recorded !== null) {
    const info = await inspectProcess(recorded, deps.configDir, deps.home)
    if (info !== null && isOurs(info, true)) await stop(info, 'recorded in state.json')
    else if (info !== null) {
      log.info(
        { pid: recorded, command: info.command },
        'the recorded node pid now belongs to another process; ignored',
      )
    }
    await deps.state.update({ nodePid: null })
  }

  let locked = await deps.lockedDatabases()
  const seen = new Set<number>()
  for (const pid of locked.flatMap((entry) => entry.holders)) {
    if (seen.has(pid) || pid === process.pid) continue
    seen.add(pid)
    const info = await inspectProcess(pid, deps.configDir, deps.home)
    if (info !== null && isOurs(info, false)) await stop(info, 'holds the databases and carries our marker')
  }
  if (report.stoppedOrphans.length > 0) locked = await deps.lockedDatabases()
  if (locked.length > 0) {
    const holders = [...new Set(locked.flatMap((entry) => entry.holders))]
    const described: string[] = []
    for (const pid of holders) {
      const info = await inspectProcess(pid, deps.configDir, deps.home)
      described.push(info === null ? `pid ${pid}` : `pid ${pid} (${info.command})`)
    }
    throw new StartupRefusedError(
      `the node's databases are in use: ${describeLocked(locked)}` +
        (described.length > 0 ? `; held by ${described.join('; ')}` : '') +
        '. The sidecar launches and stops the node itself and did not start this process: stop it ' +
        '(e.g. `systemctl stop <node service>` or `kill <pid>`), then start the sidecar again.',
    )
  }

  const reconciled = await reconcileAddressBook({
    addressBook: deps.addressBook,
    state: deps.state,
    now: deps.now,
  })
  report.addressBook = reconciled.addressBook
  report.revertedToNormal = reconciled.reverted

  if (deps.state.get().pruneClockStartedAt === null)
    await deps.state.update({ pruneClockStartedAt: deps.now() })
  return report
}

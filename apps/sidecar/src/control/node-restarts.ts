import type { Logger } from '@ghostfleet/telemetry'
import type { StateKeeper } from '../state/state-keeper.js'
import type { NodeExit } from '../supervisor/node-process.js'
import type { SidecarMetrics } from '../telemetry/sidecar-metrics.js'
import type { ConditionLog } from './condition-log.js'
import type { ErrorRing } from './error-ring.js'
import { reconcileAddressBook } from './mode-switch.js'
import type { AddressBookKeeper, NodeLifecycle } from './node-lifecycle.js'

export interface NodeRestartsDeps {
  node: NodeLifecycle
  addressBook: AddressBookKeeper
  state: StateKeeper
  metrics: SidecarMetrics
  log: Logger
  now: () => number
  errors: ErrorRing
  conditions: ConditionLog
}

/**
 * The node's starts and stops outside mode switches and prunes: crashes are counted and logged (the process
 * supervisor restarts the node after its backoff), the pid is persisted, and a node that should run but does not
 * (its spawn failed) is started again.
 */
export class NodeRestarts {
  constructor(private readonly deps: NodeRestartsDeps) {}

  /** `NodeProcess`'s onExit: crashes are counted and logged with the restart delay. */
  exited(exit: NodeExit): void {
    const { deps } = this
    deps.state.update({ nodePid: null }).catch((error) => deps.errors.record('tick', error))
    if (exit.expected) return
    deps.metrics.nodeRestarts.inc({ reason: 'crash' })
    deps.errors.record(
      'node',
      new Error(
        `node exited unexpectedly (code ${exit.code}, signal ${exit.signal}) after ${Math.round(exit.uptimeMs)} ms; ` +
          `restarting in ${exit.restartInMs} ms`,
      ),
    )
    deps.log.warn(
      { code: exit.code, signal: exit.signal, uptimeMs: exit.uptimeMs, restartInMs: exit.restartInMs },
      'node crashed; restarting after backoff',
    )
  }

  /** `NodeProcess`'s onStart: the pid is persisted so a restarted sidecar can find an orphan. */
  started(pid: number): void {
    const { deps } = this
    deps.state.update({ nodePid: pid }).catch((error) => deps.errors.record('tick', error))
    deps.log.info({ pid, mode: deps.state.get().mode }, 'node started')
  }

  /** Starts the node again if it is stopped (a tick's second step). */
  async restartIfStopped(): Promise<void> {
    const { deps } = this
    if (deps.node.state() !== 'stopped') return
    deps.metrics.nodeRestarts.inc({ reason: 'start_failure' })
    try {
      // Whatever stopped it half-way (a failed spawn, a switch whose stop timed out), the address book must
      // match the persisted mode before a node starts: a ghost node started next to the unstashed book
      // would overwrite it.
      const reconciled = await reconcileAddressBook({
        addressBook: deps.addressBook,
        state: deps.state,
        now: deps.now,
      })
      if (!reconciled.addressBook.ok) deps.errors.record('address-book', reconciled.addressBook.error)
      if (reconciled.reverted) deps.metrics.setMode('normal')
      await deps.node.start()
      deps.conditions.clear('node-start')
    } catch (error) {
      deps.errors.record('node-start', error)
      deps.conditions.report('node-start', 'error', `the node cannot be started: ${(error as Error).message}`)
    }
  }
}

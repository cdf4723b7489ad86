import type { NodeMode } from '@ghostfleet/core'
import type { NodeProcessState } from '../supervisor/node-process.js'

/** What the controller needs from the node supervisor (`NodeProcess` implements it). */
export interface NodeLifecycle {
  /** Starts the node with the launch spec of the *persisted* mode; throws when the spawn fails. */
  start(): Promise<void>
  /** SIGTERM → wait for exit → SIGKILL after the grace period; resolves once the process is gone. */
  stop(): Promise<void>
  state(): NodeProcessState
  pid(): number | null
  uptimeMs(now?: number): number
  /** Automatic restarts after crashes. */
  restartCount(): number
}

/** Address-book stash and restore for a node home (see `@ghostfleet/cometbft`'s address-book module). */
export interface AddressBookKeeper {
  /** Makes the address book match `mode`: stashed for ghost, restored for normal. Idempotent. */
  reconcile(mode: NodeMode): Promise<string>
}

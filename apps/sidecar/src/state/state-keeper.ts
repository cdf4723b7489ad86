import type { SidecarState, SidecarStateStore } from './sidecar-state.js'

/**
 * The sidecar's state in memory plus its durable copy. Updates are applied one at a time, in call order, and
 * each resolves only once `state.json` holds it, so "persist the mode, then act" really means the mode is on
 * disk before anything is done. A failed save leaves the in-memory state unchanged and rejects: the caller must
 * not act on an intent that is not durable.
 */
export class StateKeeper {
  private current: SidecarState
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly store: SidecarStateStore,
    initial: SidecarState,
  ) {
    this.current = structuredClone(initial)
  }

  /** A copy of the current state. */
  get(): SidecarState {
    return structuredClone(this.current)
  }

  /** Applies `change` to the latest state and saves it; resolves with the saved state. */
  update(
    change: Partial<SidecarState> | ((state: SidecarState) => Partial<SidecarState>),
  ): Promise<SidecarState> {
    const run = async () => {
      const patch = typeof change === 'function' ? change(structuredClone(this.current)) : change
      const next: SidecarState = { ...this.current, ...patch }
      await this.store.save(next)
      this.current = next
      return structuredClone(next)
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  /** Resolves once every update issued so far has been saved (or has failed). */
  async flush(): Promise<void> {
    await this.queue
  }
}

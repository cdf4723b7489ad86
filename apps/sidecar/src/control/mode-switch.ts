import { type BackoffCurve, backoffDelay, type NodeMode, pause } from '@ghostfleet/core'
import type { StateKeeper } from '../state/state-keeper.js'
import type { AddressBookKeeper, NodeLifecycle } from './node-lifecycle.js'

/**
 * Switching the node between normal and ghost mode so that a SIGKILL of the sidecar at any point leaves a
 * state the next start completes.
 *
 * The order is a write-ahead intent:
 *   1. persist the target mode (state.json, fsynced);
 *   2. stop the node (SIGTERM, wait for the exit, SIGKILL after the grace period) — a stopped node also writes
 *      its latest address book, which is then the one stashed;
 *   3. bring the address book in line with the mode: stash it for ghost, restore it for normal (the stash always
 *      wins over what a ghost node wrote; both operations are idempotent and crash-safe on their own);
 *   4. start the node; its launch spec is built from the persisted mode.
 *
 * A restarted sidecar does exactly steps 2–4 for the persisted mode before anything else (stop the orphaned
 * node it finds, reconcile the address book, launch), so a kill
 *   - before 1 leaves the old mode, fully consistent (the next tick decides again);
 *   - after 1 (node still running the old mode, or stopped, or address book half-moved) is completed by the
 *     restart into the new mode.
 * Persisting last instead would make a kill after step 3 restart the node in the *old* mode with the address
 * book of the new one: a ghost node given back its peers (a sync burst), or a normal node without them.
 *
 * An address-book failure (an unparsable book, a stash that does not match its manifest, a disk error) changes
 * nothing on disk, and is reported loudly because an operator has to look at the files. What happens next
 * depends on the direction:
 * - entering ghost mode, the switch is reverted (the persisted mode goes back to normal and the node starts in
 *   normal mode): a ghost node writes a fresh, empty book at start, so starting one while the operator's book
 *   is not safely stashed would destroy that book. The caller backs off before trying ghost mode again.
 * - returning to normal mode, the switch goes on: the stash stays where it is (it wins on the next try), and a
 *   normal node still finds peers through its seeds.
 *
 * A full disk (ENOSPC, EDQUOT) is the one restore failure that fixes itself, so returning to normal retries the
 * restore with backoff, bounded by `spaceRetry.maxWaitMs`, before giving up as above. The retry happens here,
 * with the node still stopped, and not after starting it, because restoring under a running node keeps nothing:
 * CometBFT reads `addrbook.json` only at start and rewrites it from memory every 2 minutes and when it stops, so
 * a book written under it is neither used nor kept, and only another restart (a disruption the fleet's budget has
 * not granted) would load it. Holding the stopped node costs little: a node on a full disk cannot store blocks
 * anyway, and the wait stays inside the switch the budget already counts. Past the bound the node starts with its
 * seeds and the stash waits, untouched, for the next time the sidecar starts the node (a switch, a failed start,
 * a sidecar restart), each of which restores first.
 */
export interface ModeSwitchDeps {
  node: NodeLifecycle
  addressBook: AddressBookKeeper
  state: StateKeeper
  now: () => number
  /** Aborts when the sidecar shuts down: the switch then leaves the node stopped (the persisted mode stands). */
  signal?: AbortSignal
  /** How long, and how often, a restore that failed for lack of disk space is tried again. */
  spaceRetry?: SpaceRetry
}

export interface SpaceRetry {
  /** No new attempt starts later than this after the first failure. @default 60000 */
  maxWaitMs: number
  /** The delays between attempts. @default 250 ms doubling to 5 s */
  curve: BackoffCurve
  /** Told about each failure that will be retried (for the log), with the delay before the next attempt. */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void
}

export const DEFAULT_SPACE_RETRY: SpaceRetry = {
  maxWaitMs: 60_000,
  curve: { initialMs: 250, maxMs: 5_000 },
}

const SPACE_ERRORS = new Set(['ENOSPC', 'EDQUOT'])

/** Whether `error`, or an error it wraps, says the filesystem is out of space. */
export function isOutOfSpace(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== undefined && SPACE_ERRORS.has(code)) return true
  }
  return false
}

export interface ModeSwitchResult {
  from: NodeMode
  /** The mode the node was started in: `to`, or `from` when entering ghost mode had to be reverted. */
  to: NodeMode
  reverted: boolean
  /** What the address-book step did, or the error it raised. */
  addressBook: { ok: true; detail: string } | { ok: false; error: Error }
  /** The start failed (binary gone…); the supervision loop keeps trying to start the node. */
  startError: Error | null
  durationMs: number
}

/**
 * Brings the address book in line with the persisted mode (also at startup). If the stash for ghost mode
 * fails, the persisted mode is set back to normal (see above) and the node must be started in normal mode.
 */
export async function reconcileAddressBook(
  deps: Pick<ModeSwitchDeps, 'addressBook' | 'state' | 'now' | 'signal' | 'spaceRetry'>,
): Promise<{ mode: NodeMode; reverted: boolean; addressBook: ModeSwitchResult['addressBook'] }> {
  const mode = deps.state.get().mode
  try {
    const detail = mode === 'normal' ? await restoreWhenSpace(deps) : await deps.addressBook.reconcile(mode)
    return { mode, reverted: false, addressBook: { ok: true, detail } }
  } catch (caught) {
    const error = caught instanceof Error ? caught : new Error(String(caught))
    if (mode !== 'ghost') return { mode, reverted: false, addressBook: { ok: false, error } }
    await deps.state.update({
      mode: 'normal',
      modeChangedAt: deps.now(),
      modeReason: `could not stash the address book for ghost mode (${error.message}); staying in normal mode`,
    })
    return { mode: 'normal', reverted: true, addressBook: { ok: false, error } }
  }
}

/** The restore, tried again with backoff while it fails for lack of space (see above); other errors at once. */
async function restoreWhenSpace(
  deps: Pick<ModeSwitchDeps, 'addressBook' | 'now' | 'signal' | 'spaceRetry'>,
): Promise<string> {
  const retry = deps.spaceRetry ?? DEFAULT_SPACE_RETRY
  // A function, not a narrowed property: the signal aborts during the awaits.
  const aborted = () => deps.signal?.aborted === true
  let firstFailureAt: number | null = null
  for (let attempt = 0; ; attempt++) {
    try {
      const detail = await deps.addressBook.reconcile('normal')
      return attempt === 0 ? detail : `${detail} (after ${attempt} attempts that found the disk full)`
    } catch (error) {
      if (!isOutOfSpace(error) || aborted()) throw error
      firstFailureAt ??= deps.now()
      const delayMs = backoffDelay(attempt, retry.curve)
      if (deps.now() + delayMs - firstFailureAt > retry.maxWaitMs) throw error
      retry.onRetry?.(error as Error, attempt + 1, delayMs)
      await pause(delayMs, deps.signal)
      if (aborted()) throw error
    }
  }
}

export async function switchMode(
  deps: ModeSwitchDeps,
  to: NodeMode,
  reason: string,
): Promise<ModeSwitchResult> {
  const started = deps.now()
  const from = deps.state.get().mode
  await deps.state.update({ mode: to, modeChangedAt: started, modeReason: reason })
  await deps.node.stop()
  const reconciled = await reconcileAddressBook(deps)
  const addressBook = reconciled.addressBook
  let startError: Error | null = null
  if (deps.signal?.aborted !== true) {
    try {
      await deps.node.start()
    } catch (error) {
      startError = error instanceof Error ? error : new Error(String(error))
    }
  }
  return {
    from,
    to: reconciled.mode,
    reverted: reconciled.reverted,
    addressBook,
    startError,
    durationMs: deps.now() - started,
  }
}

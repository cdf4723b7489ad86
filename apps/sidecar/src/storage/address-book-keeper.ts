import { restoreAddressBook, stashAddressBook } from '@ghostfleet/cometbft'
import type { NodeMode } from '@ghostfleet/core'
import type { AddressBookKeeper } from '../control/node-lifecycle.js'
import { waitUntilHomeIdle } from './home-idle.js'

export interface AddressBookKeeperOptions {
  /** The node's data directory, `<home>/data` unless its config says otherwise. */
  dataDir?: string
  /** How long to wait for the home to become idle before stashing or restoring. @default 30000 */
  idleTimeoutMs?: number
}

/**
 * The address-book step of a mode switch over `@ghostfleet/cometbft`'s crash-safe stash and restore. The stash
 * lives in the sidecar's config directory (`<config>/addrbook-stash/`), not in the node home, so nothing the
 * node or its operator does to the home can clobber it.
 *
 * Both directions first wait until no process holds the home (`waitUntilHomeIdle`): a node still shutting down
 * saves its address book when it exits, over the one just stashed or restored. When the home stays busy past the
 * deadline, `reconcile` throws before touching any file (the caller's address-book failure path).
 */
export function createAddressBookKeeper(
  home: string,
  stashDir: string,
  options: AddressBookKeeperOptions = {},
): AddressBookKeeper {
  return {
    async reconcile(mode: NodeMode): Promise<string> {
      await waitUntilHomeIdle(home, {
        timeoutMs: options.idleTimeoutMs ?? 30_000,
        ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      })
      if (mode === 'ghost') {
        const result = await stashAddressBook(home, stashDir)
        switch (result.status) {
          case 'stashed':
            return `address book stashed (${result.manifest.addrCount ?? 0} addresses) to ${result.stashFile}`
          case 'already-stashed':
            return result.removedLiveBook
              ? 'address book already stashed; removed the book a ghost node wrote'
              : 'address book already stashed'
          case 'no-address-book':
            return 'the node has no address book; recorded that, so none is invented on restore'
        }
      }
      const result = await restoreAddressBook(home, stashDir)
      switch (result.status) {
        case 'restored':
          return (
            `address book restored (${result.addrCount} addresses)` +
            (result.replacedLiveBook ? ', replacing the one the ghost node wrote' : '')
          )
        case 'restored-absent':
          return 'the node had no address book before ghost mode; removed the ghost-written one'
        case 'already-restored':
          return 'address book already restored'
        case 'no-stash':
          return 'no stashed address book (nothing to restore)'
      }
    },
  }
}

import { restoreAddressBook, stashAddressBook } from '@ghostfleet/cometbft'
import type { NodeMode } from '@ghostfleet/core'
import type { AddressBookKeeper } from '../control/node-lifecycle.js'

/**
 * The address-book step of a mode switch over `@ghostfleet/cometbft`'s crash-safe stash and restore. The stash
 * lives in the sidecar's config directory (`<config>/addrbook-stash/`), not in the node home, so nothing the
 * node or its operator does to the home can clobber it.
 */
export function createAddressBookKeeper(home: string, stashDir: string): AddressBookKeeper {
  return {
    async reconcile(mode: NodeMode): Promise<string> {
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

import { copyFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { readAddressBook, readNodeConfig, writeFileAtomic } from '@ghostfleet/cometbft'
import { findLockedDatabases, LockCheckUnavailableError } from '../storage/database-locks.js'

/**
 * supervysor stashed the address book in ghost mode by moving `<home>/config/addrbook.json` to
 * `<home>/addrbook.json` and moved it back in normal mode — deleting the stash if the ghost node had written a
 * new book meanwhile. A supervysor stopped in ghost mode therefore leaves the good book at
 * `<home>/addrbook.json` and a near-empty ghost book in `config/`. Migrating, we put the good one back (the
 * stash wins, as it always does here), keep the ghost book beside it for inspection, and only then remove
 * supervysor's copy. The node must be stopped: a running node rewrites its book.
 */
export type AdoptResult =
  | { status: 'none' }
  | { status: 'restored'; from: string; to: string; addrCount: number; ghostBookKept: string | null }
  | { status: 'skipped'; from: string; reason: string }

export async function adoptSupervysorStash(home: string): Promise<AdoptResult> {
  const stash = path.join(path.resolve(home), 'addrbook.json')
  const config = await readNodeConfig(home)
  const live = config.p2p.addrBookPath
  if (stash === live) return { status: 'none' }
  let stashed: Awaited<ReturnType<typeof readAddressBook>>
  try {
    stashed = await readAddressBook(stash)
  } catch (error) {
    return {
      status: 'skipped',
      from: stash,
      reason: `it is not a valid address book (${(error as Error).message})`,
    }
  }
  if (stashed === undefined) return { status: 'none' }
  try {
    if ((await findLockedDatabases(config.dbPath)).length > 0) {
      return {
        status: 'skipped',
        from: stash,
        reason: 'the node is running; stop it and run init again with --force',
      }
    }
  } catch (error) {
    if (!(error instanceof LockCheckUnavailableError)) throw error
  }
  let ghostBookKept: string | null = null
  let current: Awaited<ReturnType<typeof readAddressBook>>
  try {
    current = await readAddressBook(live)
  } catch {
    current = undefined
  }
  if (current !== undefined && current.sha256 !== stashed.sha256) {
    ghostBookKept = `${live}.supervysor-ghost`
    await copyFile(live, ghostBookKept)
  }
  await writeFileAtomic(live, stashed.bytes, { mode: 0o644 })
  const check = await readAddressBook(live)
  if (check === undefined || check.sha256 !== stashed.sha256) {
    return {
      status: 'skipped',
      from: stash,
      reason: `the restored ${live} did not read back identical; ${stash} was kept`,
    }
  }
  await rm(stash)
  return { status: 'restored', from: stash, to: live, addrCount: stashed.addrCount, ghostBookKept }
}

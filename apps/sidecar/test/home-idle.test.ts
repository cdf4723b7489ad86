import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAddressBookKeeper } from '../src/storage/address-book-keeper.js'
import { processLiveness } from '../src/supervisor/process-inspect.js'

/*
 * The address book is stashed or restored only once no process holds the node home: a node that is still
 * shutting down (one that escaped the supervisor's process group, or an orphan of an earlier sidecar) writes
 * its book when it exits, over whatever the switch put there. The wait is a condition with a deadline.
 */

const daemon = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'addrbook-daemon.mjs')
const OPERATOR_BOOK = `${JSON.stringify({ key: 'a1b2c3d4e5f6a1b2c3d4e5f6', addrs: [] }, null, '\t')}\n`
const GHOST_BOOK = `${JSON.stringify({ key: 'ffffffffffffffffffffffff', addrs: [] }, null, '\t')}\n`

let dir: TempDir
let home: string
let stashDir: string
let log: string
const pids: number[] = []

beforeEach(async () => {
  dir = await tempDir('gf-idle-')
  home = path.join(dir.path, 'home')
  stashDir = path.join(dir.path, 'stash')
  log = path.join(dir.path, 'launched.log')
  await mkdir(path.join(home, 'config'), { recursive: true })
  await writeFile(
    path.join(home, 'config', 'config.toml'),
    '[p2p]\naddr_book_file = "config/addrbook.json"\n',
  )
  await writeFile(path.join(home, 'config', 'addrbook.json'), OPERATOR_BOOK)
})
afterEach(async () => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  await dir.remove()
})

/** A ghost daemon that is not ours to supervise (its own session, like an orphan of a SIGKILLed sidecar). */
async function strayGhost(termDelay: string): Promise<number> {
  const child = spawn(process.execPath, [daemon, 'start', '--home', home], {
    env: {
      ...process.env,
      FAKE_NODE_LOG: log,
      DAEMON_BOOK_AT_START: GHOST_BOOK,
      DAEMON_BOOK_AT_EXIT: GHOST_BOOK,
      DAEMON_TERM_DELAY_MS: termDelay,
    },
    stdio: 'ignore',
    detached: true,
  })
  child.unref()
  const pid = child.pid as number
  pids.push(pid)
  await eventually(async () => expect(await readFile(log, 'utf8')).toContain(`"pid":${pid}`))
  return pid
}

describe('address book and a busy home', () => {
  it('restores only after the process that holds the home has exited', async () => {
    const keeper = createAddressBookKeeper(home, stashDir, { idleTimeoutMs: 20_000 })
    expect(await keeper.reconcile('ghost')).toMatch(/stashed/)
    const ghost = await strayGhost('600')
    process.kill(ghost, 'SIGTERM')
    expect(await keeper.reconcile('normal')).toMatch(/restored/)
    await eventually(async () => expect(await processLiveness(ghost)).not.toBe('alive'), {
      timeoutMs: 20_000,
    })
    expect(await readFile(path.join(home, 'config', 'addrbook.json'), 'utf8')).toBe(OPERATOR_BOOK)
  })

  it('gives up at its deadline naming the holder, and changes nothing', async () => {
    const keeper = createAddressBookKeeper(home, stashDir, { idleTimeoutMs: 500 })
    expect(await keeper.reconcile('ghost')).toMatch(/stashed/)
    const stashed = await readdir(stashDir)
    const ghost = await strayGhost('never')
    await expect(keeper.reconcile('normal')).rejects.toThrow(new RegExp(`pid ${ghost}`))
    expect(await readFile(path.join(home, 'config', 'addrbook.json'), 'utf8')).toBe(GHOST_BOOK)
    expect(await readdir(stashDir)).toEqual(stashed)
  })
})

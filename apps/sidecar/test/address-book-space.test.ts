import { execFile } from 'node:child_process'
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { NodeMode } from '@ghostfleet/core'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  isOutOfSpace,
  reconcileAddressBook,
  type SpaceRetry,
  switchMode,
} from '../src/control/mode-switch.js'
import type { AddressBookKeeper, NodeLifecycle } from '../src/control/node-lifecycle.js'
import { SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'
import { createAddressBookKeeper } from '../src/storage/address-book-keeper.js'

/*
 * Returning to normal mode on a full disk: the restore fails with ENOSPC, and the sidecar tries again with backoff,
 * with the node still stopped, until the disk has room again (then the node starts with the operator's book) or
 * the bound passes (then it starts with its seeds, and the stash stays for the next start). The node home is a
 * real tmpfs of its own, filled by a real file; the stash lives outside it, as in production.
 */

const run = promisify(execFile)
const isRoot = process.getuid?.() === 0

/** A book large enough that it cannot be written into the few bytes a "full" tmpfs may still round off. */
function book(entries: number): string {
  const addrs = Array.from({ length: entries }, (_, i) => ({
    addr: { id: i.toString(16).padStart(40, '0'), ip: `10.0.${i >> 8}.${i & 255}`, port: 26656 },
    src: { id: 'ab'.repeat(20), ip: '10.0.0.1', port: 26656 },
    buckets: [i % 64],
    attempts: 0,
    bucket_type: 2,
    last_attempt: '2024-09-30T13:58:41.552839706Z',
    last_success: '2024-09-30T13:58:41.552839706Z',
    last_ban_time: '0001-01-01T00:00:00Z',
  }))
  return `${JSON.stringify({ key: 'a1b2c3d4e5f6a1b2c3d4e5f6', addrs }, null, '\t')}\n`
}
const ORIGINAL = book(200)
const GHOST_BOOK = `${JSON.stringify({ key: 'ffffffffffffffffffffffff', addrs: [] }, null, '\t')}\n`
const FILLER = '.filler'

let dir: TempDir
let home: string
let configDir: string
let live: string
let stashDir: string
let mounted = false

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return null
  }
}

/** Writes into the home's filesystem until it refuses with ENOSPC. */
async function fillHome(): Promise<void> {
  const file = await open(path.join(home, FILLER), 'w')
  const chunk = Buffer.alloc(64 * 1024)
  try {
    for (;;) await file.write(chunk)
  } catch (error) {
    if (!isOutOfSpace(error)) throw error
  } finally {
    await file.close()
  }
}

const freeHome = () => rm(path.join(home, FILLER), { force: true })

/** A node that records which book it found at each start. */
function fakeNode(): NodeLifecycle & { startedWith: (string | null)[] } {
  let running = true
  const startedWith: (string | null)[] = []
  return {
    startedWith,
    async start() {
      startedWith.push(await readOrNull(live))
      running = true
    },
    async stop() {
      running = false
    },
    state: () => (running ? 'running' : 'stopped'),
    pid: () => null,
    uptimeMs: () => 0,
    restartCount: () => 0,
  }
}

async function stateKeeper(): Promise<StateKeeper> {
  const store = new SidecarStateStore(configDir)
  return new StateKeeper(store, await store.load())
}

describe.skipIf(!isRoot)('address-book restore on a full tmpfs home', () => {
  beforeEach(async () => {
    dir = await tempDir('gf-book-space-')
    home = path.join(dir.path, 'home')
    configDir = path.join(dir.path, 'cfg')
    live = path.join(home, 'config', 'addrbook.json')
    stashDir = path.join(configDir, 'addrbook-stash')
    await mkdir(home, { recursive: true })
    await run('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0755', 'tmpfs', home])
    mounted = true
    await mkdir(path.join(home, 'config'), { recursive: true })
    await mkdir(configDir, { recursive: true })
    await writeFile(
      path.join(home, 'config', 'config.toml'),
      '[p2p]\naddr_book_file = "config/addrbook.json"\n',
    )
    await writeFile(live, ORIGINAL)
  })
  afterEach(async () => {
    if (mounted) await run('umount', ['-l', home])
    mounted = false
    await dir.remove()
  })

  /** Normal → ghost for real (the original is stashed), the ghost node writes its book, then the disk fills. */
  async function ghostOnFullDisk(): Promise<{ keeper: StateKeeper; node: ReturnType<typeof fakeNode> }> {
    const keeper = await stateKeeper()
    const node = fakeNode()
    const addressBook = createAddressBookKeeper(home, stashDir)
    const entered = await switchMode({ node, addressBook, state: keeper, now: Date.now }, 'ghost', 'test')
    expect(entered.addressBook.ok).toBe(true)
    await writeFile(live, GHOST_BOOK)
    await fillHome()
    return { keeper, node }
  }

  it('retries once space is back, and starts the node with the original book', async () => {
    const { keeper, node } = await ghostOnFullDisk()
    const retries: number[] = []
    const spaceRetry: SpaceRetry = {
      maxWaitMs: 30_000,
      curve: { initialMs: 20, maxMs: 200 },
      onRetry: (error, attempt) => {
        expect(isOutOfSpace(error)).toBe(true)
        retries.push(attempt)
        // Space comes back after the second failure.
        if (attempt === 2) freeHome().catch(() => undefined)
      },
    }
    const result = await switchMode(
      {
        node,
        addressBook: createAddressBookKeeper(home, stashDir),
        state: keeper,
        now: Date.now,
        spaceRetry,
      },
      'normal',
      'test',
    )
    expect(retries.slice(0, 2)).toEqual([1, 2])
    expect(result.addressBook.ok).toBe(true)
    expect(result).toMatchObject({ to: 'normal', reverted: false, startError: null })
    // The node was started once, after the restore, with the operator's book; the stash is gone.
    expect(node.startedWith.at(-1)).toBe(ORIGINAL)
    expect(await readOrNull(path.join(stashDir, 'addrbook.json'))).toBeNull()
  })

  it('past the bound, starts the node with its seeds, keeps the stash, and the next start restores', async () => {
    const { keeper, node } = await ghostOnFullDisk()
    let retries = 0
    const spaceRetry: SpaceRetry = {
      maxWaitMs: 300,
      curve: { initialMs: 20, maxMs: 100 },
      onRetry: () => {
        retries++
      },
    }
    const addressBook = createAddressBookKeeper(home, stashDir)
    const result = await switchMode(
      { node, addressBook, state: keeper, now: Date.now, spaceRetry },
      'normal',
      'test',
    )
    expect(retries).toBeGreaterThan(1)
    expect(result.addressBook.ok).toBe(false)
    if (!result.addressBook.ok) expect(isOutOfSpace(result.addressBook.error)).toBe(true)
    expect(result).toMatchObject({ to: 'normal', reverted: false })
    expect(node.startedWith.at(-1)).toBe(GHOST_BOOK)
    expect(await readOrNull(path.join(stashDir, 'addrbook.json'))).toBe(ORIGINAL)
    expect(await readOrNull(live)).toBe(GHOST_BOOK)

    // The next start of the node (a restart, a later switch) restores first, once there is room.
    await freeHome()
    const again = await reconcileAddressBook({ addressBook, state: keeper, now: Date.now, spaceRetry })
    expect(again.addressBook.ok).toBe(true)
    expect(await readOrNull(live)).toBe(ORIGINAL)
    expect(await readOrNull(path.join(stashDir, 'addrbook.json'))).toBeNull()
  })
})

describe('address-book restore retry policy', () => {
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  const policy = (onRetry: () => void): SpaceRetry => ({
    maxWaitMs: 10_000,
    curve: { initialMs: 1, maxMs: 5 },
    onRetry,
  })
  const normalState = async () => {
    dir = await tempDir('gf-book-policy-')
    configDir = dir.path
    return await stateKeeper()
  }
  afterEach(async () => {
    await dir?.remove()
  })

  it('recognises a wrapped out-of-space error and nothing else', () => {
    expect(isOutOfSpace(new Error('restore failed', { cause: enospc() }))).toBe(true)
    expect(isOutOfSpace(Object.assign(new Error('quota'), { code: 'EDQUOT' }))).toBe(true)
    expect(isOutOfSpace(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBe(false)
    expect(isOutOfSpace('ENOSPC')).toBe(false)
  })

  it('does not retry other errors, nor the stash for ghost mode', async () => {
    const state = await normalState()
    let retries = 0
    let calls = 0
    const failing = (error: () => Error): AddressBookKeeper => ({
      async reconcile(_mode: NodeMode) {
        calls++
        throw error()
      },
    })
    const spaceRetry = policy(() => retries++)
    const other = await reconcileAddressBook({
      addressBook: failing(() => new Error('stash does not match its manifest')),
      state,
      now: Date.now,
      spaceRetry,
    })
    expect(other.addressBook.ok).toBe(false)
    expect([calls, retries]).toEqual([1, 0])

    await state.update({ mode: 'ghost' })
    const ghost = await reconcileAddressBook({
      addressBook: failing(enospc),
      state,
      now: Date.now,
      spaceRetry,
    })
    expect(ghost).toMatchObject({ mode: 'normal', reverted: true })
    expect([calls, retries]).toEqual([2, 0])
  })

  it('stops retrying when the sidecar shuts down', async () => {
    const state = await normalState()
    const abort = new AbortController()
    let calls = 0
    const result = await reconcileAddressBook({
      addressBook: {
        async reconcile() {
          calls++
          throw enospc()
        },
      },
      state,
      now: Date.now,
      signal: abort.signal,
      spaceRetry: policy(() => abort.abort()),
    })
    expect(result.addressBook.ok).toBe(false)
    expect(calls).toBe(1)
  })
})

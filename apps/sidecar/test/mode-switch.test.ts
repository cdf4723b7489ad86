import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { type AddressBookStep, restoreAddressBook, stashAddressBook } from '@ghostfleet/cometbft'
import type { NodeMode } from '@ghostfleet/core'
import { createLogger } from '@ghostfleet/telemetry'
import { eventually, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { switchMode } from '../src/control/mode-switch.js'
import type { AddressBookKeeper, NodeLifecycle } from '../src/control/node-lifecycle.js'
import { prepareStart } from '../src/startup.js'
import { SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'
import { createAddressBookKeeper } from '../src/storage/address-book-keeper.js'
import { NodeProcess } from '../src/supervisor/node-process.js'
import { processLiveness } from '../src/supervisor/process-inspect.js'

/*
 * A SIGKILL of the sidecar at any point of a mode switch must leave a state the next start completes: the
 * persisted mode and the address book agree after the restart's reconciliation, and the operator's original
 * address book is never lost. The kill is simulated by throwing at each step (nothing after it runs), then a
 * "restarted sidecar" reloads state.json from disk and runs the real startup reconciliation.
 */

class Killed extends Error {}

const BOOK = {
  key: 'a1b2c3d4e5f6a1b2c3d4e5f6',
  addrs: [
    {
      addr: { id: 'ab'.repeat(20), ip: '10.0.0.7', port: 26656 },
      src: { id: 'ab'.repeat(20), ip: '10.0.0.7', port: 26656 },
      buckets: [12],
      attempts: 0,
      bucket_type: 2,
      last_attempt: '2024-09-30T13:58:41.552839706Z',
      last_success: '2024-09-30T13:58:41.552839706Z',
      last_ban_time: '0001-01-01T00:00:00Z',
    },
  ],
}
const ORIGINAL = `${JSON.stringify(BOOK, null, '\t')}\n`
const GHOST_BOOK = `${JSON.stringify({ key: 'ffffffffffffffffffffffff', addrs: [] }, null, '\t')}\n`
const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex')

let dir: TempDir
let home: string
let configDir: string
let live: string
let stashDir: string

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return null
  }
}

/** A node that, like CometBFT, writes a fresh empty book when started in ghost mode (PEX off). */
function fakeNode(
  state: () => StateKeeper,
  kill: (step: string) => void,
): NodeLifecycle & { running: boolean } {
  const node = {
    running: true,
    async start() {
      if (state().get().mode === 'ghost') await writeFile(live, GHOST_BOOK)
      node.running = true
      kill('node-started')
    },
    async stop() {
      node.running = false
      kill('node-stopped')
    },
    state: () => (node.running ? ('running' as const) : ('stopped' as const)),
    pid: () => null,
    uptimeMs: () => 0,
    restartCount: () => 0,
  }
  return node
}

/** The real stash/restore, killed at one of cometbft's durable steps if asked. */
function bookKeeper(killAtBookStep: AddressBookStep | null): AddressBookKeeper {
  const afterStep = (step: AddressBookStep) => {
    if (step === killAtBookStep) throw new Killed(step)
  }
  return {
    async reconcile(mode: NodeMode) {
      if (mode === 'ghost') return (await stashAddressBook(home, stashDir, { afterStep })).status
      return (await restoreAddressBook(home, stashDir, { afterStep })).status
    },
  }
}

async function restartedSidecar(): Promise<StateKeeper> {
  const store = new SidecarStateStore(configDir)
  const keeper = new StateKeeper(store, await store.load())
  await prepareStart({
    configDir,
    home,
    state: keeper,
    addressBook: createAddressBookKeeper(home, stashDir),
    lockedDatabases: async () => [],
    stopGraceMs: 1_000,
    now: Date.now,
    log: createLogger({ name: 'test', level: 'silent' }),
  })
  return keeper
}

/**
 * ghost ⇒ the original is stashed and the live book is not the original (absent, or the one a ghost node
 * wrote); normal ⇒ the original is live and nothing is stashed.
 */
async function expectConsistent(mode: NodeMode): Promise<void> {
  const liveText = await readOrNull(live)
  const stashText = await readOrNull(path.join(stashDir, 'addrbook.json'))
  if (mode === 'ghost') {
    expect(liveText === null ? null : sha(liveText)).not.toBe(sha(ORIGINAL))
    expect(stashText === null ? null : sha(stashText)).toBe(sha(ORIGINAL))
  } else {
    expect(liveText === null ? null : sha(liveText)).toBe(sha(ORIGINAL))
    expect(stashText).toBeNull()
  }
}

beforeEach(async () => {
  dir = await tempDir('gf-switch-')
  home = path.join(dir.path, 'home')
  configDir = path.join(dir.path, 'cfg')
  live = path.join(home, 'config', 'addrbook.json')
  stashDir = path.join(configDir, 'addrbook-stash')
  await mkdir(path.join(home, 'config'), { recursive: true })
  await mkdir(configDir, { recursive: true })
  await writeFile(
    path.join(home, 'config', 'config.toml'),
    '[p2p]\naddr_book_file = "config/addrbook.json"\n',
  )
  await writeFile(live, ORIGINAL)
})
afterEach(async () => {
  await dir.remove()
})

const SWITCH_POINTS = ['state-persisted', 'node-stopped', 'book-reconciled', 'node-started', 'none'] as const
const BOOK_STEPS: AddressBookStep[] = ['stash-written', 'manifest-written', 'live-removed']
const RESTORE_STEPS: AddressBookStep[] = [
  'live-written',
  'manifest-marked-restored',
  'stash-removed',
  'manifest-removed',
]

async function runSwitch(to: NodeMode, killAt: string | null, killAtBookStep: AddressBookStep | null) {
  const store = new SidecarStateStore(configDir)
  let keeper = new StateKeeper(store, await store.load())
  // Once "killed", nothing runs any more: every later step throws, as if the process were gone.
  let dead = false
  const alive = () => {
    if (dead) throw new Killed('dead')
  }
  const kill = (step: string) => {
    alive()
    if (step === killAt) {
      dead = true
      throw new Killed(step)
    }
  }
  const node = fakeNode(() => keeper, kill)
  const guardedNode: NodeLifecycle = {
    ...node,
    start: async () => {
      alive()
      await node.start()
    },
    stop: async () => {
      alive()
      await node.stop()
    },
  }
  const book = bookKeeper(killAtBookStep)
  const persisting: StateKeeper = Object.create(keeper)
  persisting.update = async (change) => {
    alive()
    const saved = await keeper.update(change)
    kill('state-persisted')
    return saved
  }
  const reconciling: AddressBookKeeper = {
    async reconcile(mode) {
      alive()
      try {
        const r = await book.reconcile(mode)
        kill('book-reconciled')
        return r
      } catch (error) {
        if (error instanceof Killed) dead = true
        throw error
      }
    },
  }
  try {
    await switchMode(
      { node: guardedNode, addressBook: reconciling, state: persisting, now: Date.now },
      to,
      'test',
    )
    return { killed: false }
  } catch (error) {
    if (!(error instanceof Killed)) throw error
    keeper = await restartedSidecar()
    return { killed: true, keeper }
  }
}

describe('mode switch crash safety', () => {
  for (const point of SWITCH_POINTS) {
    it(`normal → ghost, SIGKILL after ${point}: the restart finishes in a consistent state`, async () => {
      await runSwitch('ghost', point, null)
      const keeper = await restartedSidecar()
      const mode = keeper.get().mode
      // A kill before the intent was durable keeps normal; any later one completes the switch to ghost.
      expect(mode).toBe('ghost')
      await expectConsistent(mode)
      // Back to normal: the stashed original wins over whatever the ghost node wrote.
      await writeFile(live, GHOST_BOOK)
      await runSwitch('normal', null, null)
      await expectConsistent('normal')
    })
  }

  for (const step of BOOK_STEPS) {
    it(`normal → ghost, SIGKILL inside the stash after ${step}`, async () => {
      await runSwitch('ghost', null, step)
      const keeper = await restartedSidecar()
      expect(keeper.get().mode).toBe('ghost')
      await expectConsistent('ghost')
    })
  }

  for (const point of SWITCH_POINTS) {
    it(`ghost → normal, SIGKILL after ${point}: the original book comes back`, async () => {
      await runSwitch('ghost', null, null)
      await expectConsistent('ghost')
      // The ghost node wrote its own book meanwhile.
      await writeFile(live, GHOST_BOOK)
      await runSwitch('normal', point, null)
      const keeper = await restartedSidecar()
      expect(keeper.get().mode).toBe('normal')
      await expectConsistent('normal')
    })
  }

  for (const step of RESTORE_STEPS) {
    it(`ghost → normal, SIGKILL inside the restore after ${step}`, async () => {
      await runSwitch('ghost', null, null)
      await writeFile(live, GHOST_BOOK)
      await runSwitch('normal', null, step)
      const keeper = await restartedSidecar()
      expect(keeper.get().mode).toBe('normal')
      await expectConsistent('normal')
    })
  }

  it('a node without an address book gets none invented on the way back', async () => {
    await rm(live)
    await runSwitch('ghost', null, null)
    await writeFile(live, GHOST_BOOK)
    await runSwitch('normal', null, null)
    expect(await readOrNull(live)).toBeNull()
  })

  it('reverts to normal mode when the stash fails, so no ghost node overwrites the unstashed book', async () => {
    // An unparsable book: the stash refuses it and changes nothing.
    await writeFile(live, '{ not json')
    const store = new SidecarStateStore(configDir)
    const keeper = new StateKeeper(store, await store.load())
    const node = fakeNode(
      () => keeper,
      () => undefined,
    )
    const result = await switchMode(
      { node, addressBook: createAddressBookKeeper(home, stashDir), state: keeper, now: Date.now },
      'ghost',
      'test',
    )
    expect(result).toMatchObject({ from: 'normal', to: 'normal', reverted: true, addressBook: { ok: false } })
    expect(keeper.get().mode).toBe('normal')
    expect((await new SidecarStateStore(configDir).load()).mode).toBe('normal')
    // The node was started again (in normal mode: it did not write a ghost book), the file is untouched.
    expect(node.running).toBe(true)
    expect(await readOrNull(live)).toBe('{ not json')
  })

  it('at startup, a persisted ghost mode whose stash fails comes back in normal mode', async () => {
    await new SidecarStateStore(configDir).save({
      ...(await new SidecarStateStore(configDir).load()),
      mode: 'ghost',
    })
    await writeFile(live, '{ not json')
    const keeper = await restartedSidecar()
    expect(keeper.get().mode).toBe('normal')
    expect(await readOrNull(live)).toBe('{ not json')
  })
})

/*
 * The same switch with the real supervisor and a real node process, while a crash restart of the ghost node is
 * being launched (its launch spec awaits a free port, as in ghost mode): the switch's stop must see that restart,
 * so no ghost node comes up beside the restored book, and the node that runs afterwards is the normal one.
 */
describe('mode switch during a crash restart (real supervisor and node)', () => {
  const daemon = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'addrbook-daemon.mjs')
  let node: NodeProcess | undefined
  let launchLog: string

  afterEach(async () => {
    await node?.stop()
    node = undefined
    for (const entry of await launched()) {
      try {
        process.kill(entry.pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
  })

  async function launched(): Promise<Array<{ pid: number; mode: NodeMode }>> {
    const text = await readOrNull(launchLog)
    return text === null
      ? []
      : text
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
  }

  it('ghost → normal while the crashed ghost node is being restarted: one node, normal, with the original book', async () => {
    launchLog = path.join(dir.path, 'launched.log')
    const store = new SidecarStateStore(configDir)
    const keeper = new StateKeeper(store, await store.load())
    let calls = 0
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const spawned: number[] = []
    node = new NodeProcess({
      launchSpec: async () => {
        calls++
        const call = calls
        const mode = keeper.get().mode
        if (call === 2) await held
        return {
          command: process.execPath,
          args: [daemon, 'start', '--home', home],
          env: {
            FAKE_NODE_LOG: launchLog,
            DAEMON_MODE: mode,
            ...(mode === 'ghost' ? { DAEMON_BOOK_AT_START: GHOST_BOOK } : {}),
            // The first ghost node crashes right after its start.
            ...(call === 1 ? { DAEMON_CRASH_AT_START: '1' } : {}),
          },
        }
      },
      output: { kind: 'file', path: path.join(dir.path, 'node.log') },
      stopGraceMs: 5_000,
      backoff: { initialMs: 20, maxMs: 100, resetAfterMs: 60_000 },
      onStart: (pid) => spawned.push(pid),
    })
    const deps = { node, addressBook: createAddressBookKeeper(home, stashDir), state: keeper, now: Date.now }
    expect((await switchMode(deps, 'ghost', 'test')).to).toBe('ghost')
    await eventually(() => expect(calls).toBe(2), { description: 'the crash restart to be in flight' })

    // The restart's launch spec returns right after the switch has called stop(): the gap of the defect.
    const supervisor = node
    const stopThenRelease: NodeLifecycle = {
      start: () => supervisor.start(),
      stop: async () => {
        const stopped = supervisor.stop()
        release()
        await stopped
      },
      state: () => supervisor.state(),
      pid: () => supervisor.pid(),
      uptimeMs: (now) => supervisor.uptimeMs(now),
      restartCount: () => supervisor.restartCount(),
    }
    const result = await switchMode({ ...deps, node: stopThenRelease }, 'normal', 'test')
    expect(result).toMatchObject({ to: 'normal', startError: null, addressBook: { ok: true } })
    // Every process the supervisor spawned has either logged its start (its book written) or is gone.
    await eventually(async () => {
      const logged = new Set((await launched()).map((entry) => entry.pid))
      for (const pid of spawned) {
        if (!logged.has(pid)) expect(await processLiveness(pid), `pid ${pid}`).not.toBe('alive')
      }
    })
    const living: Array<{ pid: number; mode: NodeMode }> = []
    for (const entry of await launched()) {
      if ((await processLiveness(entry.pid)) === 'alive') living.push(entry)
    }
    expect(living).toEqual([{ pid: node.pid(), mode: 'normal', at: expect.any(Number), role: 'daemon' }])
    expect(await readOrNull(live)).toBe(ORIGINAL)
    expect(keeper.get().mode).toBe('normal')
  })
})

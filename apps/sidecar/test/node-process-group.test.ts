import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAddressBookKeeper } from '../src/storage/address-book-keeper.js'
import { type NodeExit, NodeProcess } from '../src/supervisor/node-process.js'
import { processLiveness } from '../src/supervisor/process-inspect.js'

/*
 * cosmovisor runs the chain daemon as its child and forwards signals to it. The node is therefore a process
 * tree, and the supervisor must stop the tree, not just its root: a daemon that outlives stop() writes its
 * (ghost) address book over the one the mode switch just restored, and keeps the databases open under a prune.
 * These tests run a real two-level tree (fixtures/cosmovisor-like.mjs → fixtures/addrbook-daemon.mjs) through
 * the real supervisor and the real address-book stash/restore.
 */

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')
const wrapper = path.join(fixtures, 'cosmovisor-like.mjs')
const daemon = path.join(fixtures, 'addrbook-daemon.mjs')

const OPERATOR_BOOK = `${JSON.stringify({ key: 'a1b2c3d4e5f6a1b2c3d4e5f6', addrs: [] }, null, '\t')}\n`
const GHOST_BOOK = `${JSON.stringify({ key: 'ffffffffffffffffffffffff', addrs: [] }, null, '\t')}\n`

interface Launched {
  role: 'wrapper' | 'daemon'
  pid: number
}

describe('a node that is a process tree (cosmovisor)', () => {
  let dir: TempDir
  let home: string
  let log: string
  let node: NodeProcess | undefined
  const exits: NodeExit[] = []

  beforeEach(async () => {
    dir = await tempDir('gf-tree-')
    home = path.join(dir.path, 'home')
    log = path.join(dir.path, 'launched.log')
    exits.length = 0
    await mkdir(path.join(home, 'config'), { recursive: true })
    await writeFile(
      path.join(home, 'config', 'config.toml'),
      '[p2p]\naddr_book_file = "config/addrbook.json"\n',
    )
    await writeFile(path.join(home, 'config', 'addrbook.json'), OPERATOR_BOOK)
  })
  afterEach(async () => {
    await node?.stop().catch(() => undefined)
    node = undefined
    for (const { pid } of await launched()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone, as it should be
      }
    }
    await dir.remove()
  })

  async function launched(): Promise<Launched[]> {
    try {
      return (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Launched)
    } catch {
      return []
    }
  }

  async function living(): Promise<Launched[]> {
    const found: Launched[] = []
    for (const entry of await launched()) {
      if ((await processLiveness(entry.pid)) === 'alive') found.push(entry)
    }
    return found
  }

  function ghostTree(env: Record<string, string>, graceMs: number): NodeProcess {
    node = new NodeProcess({
      launchSpec: () => ({
        command: process.execPath,
        args: [wrapper, process.execPath, daemon, 'start', '--home', home],
        env: {
          FAKE_NODE_LOG: log,
          DAEMON_BOOK_AT_START: GHOST_BOOK,
          DAEMON_BOOK_AT_EXIT: GHOST_BOOK,
          ...env,
        },
      }),
      output: { kind: 'file', path: path.join(dir.path, 'node.log') },
      stopGraceMs: graceMs,
      backoff: { initialMs: 50, maxMs: 200, resetAfterMs: 60_000 },
      onExit: (exit) => exits.push(exit),
    })
    return node
  }

  /** Ghost mode: the operator's book is stashed, then the ghost tree runs and writes its own book. */
  async function runGhost(env: Record<string, string>, graceMs: number) {
    const keeper = createAddressBookKeeper(home, path.join(dir.path, 'stash'), { idleTimeoutMs: 30_000 })
    expect(await keeper.reconcile('ghost')).toMatch(/stashed/)
    const tree = ghostTree(env, graceMs)
    await tree.start()
    await eventually(async () =>
      expect((await launched()).map((l) => l.role).sort()).toEqual(['daemon', 'wrapper']),
    )
    expect(await readFile(path.join(home, 'config', 'addrbook.json'), 'utf8')).toBe(GHOST_BOOK)
    return { keeper, tree }
  }

  /** Back to normal: stop, restore. Then, once the whole tree is gone, the stashed book must still be there. */
  async function backToNormal(keeper: ReturnType<typeof createAddressBookKeeper>, tree: NodeProcess) {
    await tree.stop()
    const survivors = await living()
    expect(await keeper.reconcile('normal')).toMatch(/restored/)
    // A survivor would write its ghost book whenever its shutdown ends: wait for that before judging the book.
    await eventually(async () => expect(await living()).toEqual([]), {
      timeoutMs: 20_000,
      description: 'every process of the tree to be gone',
    })
    expect(await readFile(path.join(home, 'config', 'addrbook.json'), 'utf8')).toBe(OPERATOR_BOOK)
    expect(survivors).toEqual([])
  }

  it('SIGKILLs the whole tree when the wrapper holds out past the grace period; the stashed book wins', async () => {
    // cosmovisor's way: the wrapper forwards SIGTERM and waits; the daemon needs longer than the grace period.
    const { keeper, tree } = await runGhost({ WRAPPER_ON_TERM: 'wait', DAEMON_TERM_DELAY_MS: '4000' }, 400)
    await backToNormal(keeper, tree)
    // The daemon never finished its shutdown: the group's SIGKILL ended it. (The wrapper may report the SIGKILL or,
    // when its daemon died a moment before it, exit 1 on its own: one kill(2) reaches a group's members in turn.)
    expect(await readFile(path.join(dir.path, 'node.log'), 'utf8')).not.toMatch(/address book saved/)
    expect(exits).toEqual([expect.objectContaining({ expected: true })])
    expect(tree.state()).toBe('stopped')
  })

  it('waits for a daemon that finishes its shutdown after its wrapper has exited', async () => {
    // A wrapper that leaves at once: the daemon saves its book 500 ms later, within the grace period.
    const { keeper, tree } = await runGhost({ WRAPPER_ON_TERM: 'exit', DAEMON_TERM_DELAY_MS: '500' }, 10_000)
    await backToNormal(keeper, tree)
  })

  it('stops the daemon a crashed wrapper left behind before it restarts the node', async () => {
    const tree = ghostTree({ WRAPPER_CRASH_AFTER_START: '1', DAEMON_TERM_DELAY_MS: '0' }, 2_000)
    await tree.start()
    // Each launch: the wrapper crashes as soon as its daemon is up, leaving the daemon running.
    await eventually(
      async () =>
        expect((await launched()).filter((l) => l.role === 'daemon').length).toBeGreaterThanOrEqual(3),
      {
        timeoutMs: 20_000,
      },
    )
    // At most one tree at a time: the leftover daemon was stopped before the next launch started another.
    const daemons = (await launched()).filter((l) => l.role === 'daemon')
    const livingDaemons = (await living()).filter((l) => l.role === 'daemon')
    expect(livingDaemons.length).toBeLessThanOrEqual(1)
    expect(exits.filter((e) => !e.expected).length).toBeGreaterThanOrEqual(2)
    await tree.stop()
    expect(await living()).toEqual([])
    expect(daemons.length).toBeGreaterThanOrEqual(3)
  })
})

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { eventually, FAKE_NODE as fakeNode, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RestartBackoff } from '../src/supervisor/backoff.js'
import { type NodeExit, NodeProcess } from '../src/supervisor/node-process.js'

function starts(log: string): Array<{ pid: number; argv: string[]; at: number }> {
  try {
    return readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  } catch {
    return []
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('RestartBackoff', () => {
  it('doubles from 10 s to a 5 min cap and resets after 10 min up', () => {
    const b = new RestartBackoff({ initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 })
    const delays = Array.from({ length: 8 }, () => b.onCrash(1_000))
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000])
    expect(b.onCrash(600_000)).toBe(10_000)
    expect(b.onCrash(5_000)).toBe(20_000)
  })
  it('rejects nonsense settings', () => {
    expect(() => new RestartBackoff({ initialMs: 0, maxMs: 1, resetAfterMs: 1 })).toThrow(
      /invalid restart backoff/,
    )
    expect(() => new RestartBackoff({ initialMs: 10, maxMs: 5, resetAfterMs: 1 })).toThrow(
      /invalid restart backoff/,
    )
  })
})

describe('NodeProcess', () => {
  let dir: TempDir
  let node: NodeProcess | undefined
  const exits: NodeExit[] = []

  beforeEach(async () => {
    dir = await tempDir()
    exits.length = 0
  })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    await dir.remove()
  })

  function make(mode: string, opts: { graceMs?: number; initialMs?: number } = {}) {
    const log = path.join(dir.path, 'starts.log')
    node = new NodeProcess({
      launchSpec: () => ({
        command: process.execPath,
        args: [fakeNode, '--n', String(starts(log).length)],
        env: { FAKE_NODE_MODE: mode, FAKE_NODE_LOG: log },
      }),
      output: { kind: 'file', path: path.join(dir.path, 'node.log') },
      stopGraceMs: opts.graceMs ?? 5_000,
      backoff: { initialMs: opts.initialMs ?? 50, maxMs: 200, resetAfterMs: 60_000 },
      onExit: (e) => exits.push(e),
    })
    return { node, log }
  }

  it('stops a graceful node with SIGTERM and keeps its output in the log file', async () => {
    const { node, log } = make('graceful')
    await node.start()
    const pid = node.pid()!
    await eventually(() => expect(starts(log)).toHaveLength(1))
    await node.stop()
    expect(alive(pid)).toBe(false)
    expect(exits).toEqual([expect.objectContaining({ code: 0, signal: null, expected: true })])
    expect(readFileSync(path.join(dir.path, 'node.log'), 'utf8')).toMatch(/SIGTERM: bye/)
    expect(node.state()).toBe('stopped')
  })

  it('escalates to SIGKILL when the node ignores SIGTERM past the grace period', async () => {
    const { node, log } = make('stubborn', { graceMs: 300 })
    await node.start()
    await eventually(() => expect(starts(log)).toHaveLength(1))
    await node.stop()
    expect(exits).toEqual([expect.objectContaining({ signal: 'SIGKILL', expected: true })])
  })

  it('restarts a crashing node with growing delays and stops the loop on stop()', async () => {
    const { node, log } = make('crash', { initialMs: 50 })
    await node.start()
    await eventually(() => expect(starts(log).length).toBeGreaterThanOrEqual(4), { timeoutMs: 15_000 })
    await node.stop()
    const crashes = exits.filter((e) => !e.expected)
    expect(crashes.slice(0, 3).map((e) => e.restartInMs)).toEqual([50, 100, 200])
    expect(crashes.every((e) => e.code === 3)).toBe(true)
    const count = starts(log).length
    // Stopped means stopped: no restart is pending.
    expect(node.state()).toBe('stopped')
    expect(node.restartCount()).toBe(count - 1)
  })

  it('restart() relaunches with a fresh launch spec and no backoff', async () => {
    const { node, log } = make('graceful')
    await node.start()
    await eventually(() => expect(starts(log)).toHaveLength(1))
    const first = node.pid()
    await node.restart()
    await eventually(() => expect(starts(log)).toHaveLength(2))
    expect(node.pid()).not.toBe(first)
    expect(starts(log)[1]?.argv).toEqual(['--n', '1'])
    expect(exits.every((e) => e.expected)).toBe(true)
  })

  it('reports a spawn failure as an error from start()', async () => {
    node = new NodeProcess({
      launchSpec: () => ({ command: path.join(dir.path, 'no-such-binary'), args: [], env: {} }),
      output: { kind: 'inherit' },
      stopGraceMs: 1_000,
      backoff: { initialMs: 50, maxMs: 100, resetAfterMs: 1_000 },
    })
    await expect(node.start()).rejects.toThrow(/could not start the node/)
  })
})

/*
 * A crash restart is in flight from the moment its timer fires until the new child has spawned: the launch spec
 * is awaited (a free-port search in ghost mode) and so is the `spawn` event. A stop() or start() in that gap
 * must see the restart: no path may leave two nodes, or one the supervisor does not know about.
 */
describe('NodeProcess: stop and start during a crash restart', () => {
  let dir: TempDir
  let node: NodeProcess | undefined
  const launched: number[] = []

  beforeEach(async () => {
    dir = await tempDir()
    launched.length = 0
  })
  afterEach(async () => {
    await node?.stop()
    node = undefined
    for (const pid of launched) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone, as it should be
      }
    }
    await dir.remove()
  })

  /**
   * The first launch crashes at once; the second (the crash restart) waits inside its launch spec until the
   * test calls `release()`; later launches are graceful nodes.
   */
  function crashThenHeldRestart() {
    const log = path.join(dir.path, 'starts.log')
    let calls = 0
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    node = new NodeProcess({
      launchSpec: async () => {
        calls++
        const call = calls
        if (call === 2) await held
        return {
          command: process.execPath,
          args: [fakeNode, '--launch', String(call)],
          env: { FAKE_NODE_MODE: call === 1 ? 'crash' : 'graceful', FAKE_NODE_LOG: log },
        }
      },
      output: { kind: 'file', path: path.join(dir.path, 'node.log') },
      stopGraceMs: 5_000,
      backoff: { initialMs: 20, maxMs: 100, resetAfterMs: 60_000 },
      onStart: (pid) => launched.push(pid),
    })
    return { node, release, calls: () => calls }
  }

  const living = () => launched.filter((pid) => alive(pid))

  it('a stop() while the restart awaits its launch spec cancels the restart; a start() after it runs one node', async () => {
    const { node, release, calls } = crashThenHeldRestart()
    await node.start()
    await eventually(() => expect(calls()).toBe(2), { description: 'the crash restart to be in flight' })
    const stopped = node.stop()
    release()
    await stopped
    expect(node.state()).toBe('stopped')
    expect(node.pid()).toBeNull()
    expect(living()).toEqual([])

    // The operator's start right after: exactly one node, the one the supervisor tracks.
    await node.start()
    expect(living()).toEqual([node.pid()])
    await node.stop()
    expect(living()).toEqual([])
  })

  it('a start() while the restart is in flight waits for it instead of spawning a second node', async () => {
    const { node, release, calls } = crashThenHeldRestart()
    await node.start()
    await eventually(() => expect(calls()).toBe(2), { description: 'the crash restart to be in flight' })
    const started = node.start()
    release()
    await started
    expect(node.state()).toBe('running')
    expect(living()).toEqual([node.pid()])
    await node.stop()
    expect(living()).toEqual([])
  })
})

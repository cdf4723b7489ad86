/**
 * The demo leaves nothing running however it ends: a closed terminal (SIGHUP to the foreground process group, here
 * `ghostfleet-devnet up | cat`), the reader of its output dying (`npm run demo | tee` with tee gone: EPIPE on the
 * demo's next write), and the demo failing (a process of its fleet dies under it). The fleet's processes lead process
 * groups of their own, so no terminal signal reaches them: the demo itself has to stop them. The checks scan /proc
 * for every process of the fleet's groups (the producer's `flock` helpers included), the work directory and the
 * private redis-server (whose process title is `redis-server <host:port>`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { canConnect, eventually, processesMentioning, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'

const DEVNET_CLI = fileURLToPath(new URL('../../devnet/dist/devnet-cli.js', import.meta.url))

let dir: TempDir | undefined
let running: RunningDemo | undefined

afterEach(async () => {
  // A failing run must not leave its fleet behind for the next test: the groups, the followers (which lead groups
  // of their own) and the redis-server.
  if (running !== undefined) {
    const { groups, work, redisPort } = running
    const pids = [
      ...(await processesInGroups(groups)).map((p) => p.pid),
      ...(await processesMentioning(work)).map((p) => p.pid),
      ...(await processesMentioning(`redis-server 127.0.0.1:${redisPort}`)).map((p) => p.pid),
    ]
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
  running = undefined
  await dir?.remove()
  dir = undefined
})

interface RunningDemo {
  child: ChildProcess
  output(): string
  exited: Promise<number | string>
  /** The producer's, tracker's and sidecar's pids (each leads a process group). */
  groups: number[]
  redisPort: number
  work: string
}

/** Starts `up` with one sidecar, its stdout read by `reader`, and waits until the whole fleet is up. */
async function startDemo(reader: 'cat' | 'test'): Promise<RunningDemo> {
  dir = await tempDir('gf-e2e-demo-hangup-')
  const work = dir.path
  const up = `${JSON.stringify(process.execPath)} ${JSON.stringify(DEVNET_CLI)} up --sidecars 1 --dir ${JSON.stringify(work)}`
  // A shell pipeline in a process group of its own stands for the terminal's foreground job.
  const child =
    reader === 'cat'
      ? spawn('sh', ['-c', `${up} | cat`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('sh', ['-c', `exec ${up}`], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString('utf8')
  })
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))
  })
  await eventually(
    () => {
      if (!/sidecar demo-sidecar-1 supervising/.test(out)) throw new Error(`fleet not up yet:\n${out}`)
      if (!/ghostfleet demo — /.test(out)) throw new Error('no table yet')
    },
    { timeoutMs: 90_000, intervalMs: 200, description: 'the demo fleet to be up' },
  )
  const groups = [...out.matchAll(/\(pid (\d+)\)|, pid (\d+)\)/g)].map((m) => Number(m[1] ?? m[2]))
  expect(groups.length, out).toBe(3)
  const redisPort = Number(/redis-server on redis:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1])
  expect(redisPort, out).toBeGreaterThan(0)
  running = { child, output: () => out, exited, groups, redisPort, work }
  return running
}

/** Every live process whose process group is one of `groups` (from /proc/<pid>/stat). */
async function processesInGroups(groups: number[]): Promise<Array<{ pid: number; pgrp: number }>> {
  const found: Array<{ pid: number; pgrp: number }> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const pgrp = Number(fields[2])
    if (fields[0] !== 'Z' && groups.includes(pgrp)) found.push({ pid: Number(entry), pgrp })
  }
  return found
}

async function expectNothingLeft(demo: RunningDemo): Promise<void> {
  await eventually(
    async () => {
      expect(await processesInGroups(demo.groups)).toEqual([])
      expect(await processesMentioning(demo.work)).toEqual([])
      expect(await processesMentioning(`redis-server 127.0.0.1:${demo.redisPort}`)).toEqual([])
      expect(await canConnect(demo.redisPort)).toBe(false)
    },
    { timeoutMs: 60_000, intervalMs: 250, description: 'every process of the demo fleet to be gone' },
  )
}

describe('the demo leaves nothing running however it ends', () => {
  it('a closed terminal (SIGHUP to `up | cat`) stops the whole fleet', async () => {
    const demo = await startDemo('cat')
    expect(await processesInGroups(demo.groups)).not.toEqual([])
    process.kill(-(demo.child.pid ?? 0), 'SIGHUP')
    await expectNothingLeft(demo)
    await demo.exited
  }, 180_000)

  it('the reader of its output dying (EPIPE) stops the whole fleet', async () => {
    const demo = await startDemo('test')
    demo.child.stdout?.destroy()
    await expectNothingLeft(demo)
    // The demo ends by itself once its fleet is down.
    await eventually(
      () => {
        if (demo.child.exitCode === null && demo.child.signalCode === null) throw new Error('still running')
      },
      { timeoutMs: 30_000, description: 'the demo to exit' },
    )
  }, 180_000)

  it('a crash of the demo (its tracker killed under it) stops the rest of the fleet and exits non-zero', async () => {
    const demo = await startDemo('test')
    const tracker = Number(/tracker on \S+ \(pid (\d+)\)/.exec(demo.output())?.[1])
    expect(tracker).toBeGreaterThan(0)
    process.kill(tracker, 'SIGKILL')
    await expectNothingLeft(demo)
    expect(await demo.exited).toBe(1)
    expect(demo.output()).toMatch(/demo-tracker exited unexpectedly/)
  }, 180_000)
})

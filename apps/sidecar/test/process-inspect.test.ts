import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, FAKE_NODE as fakeNode, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  argsNameHome,
  inspectProcess,
  NODE_MARKER_ENV,
  processGroupMembers,
  processLiveness,
  terminateProcess,
  withoutDescendants,
} from '../src/supervisor/process-inspect.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')

let dir: TempDir
const children: number[] = []
beforeEach(async () => {
  dir = await tempDir('gf-proc-')
})
afterEach(async () => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  }
  await dir.remove()
})

/** A detached process (not our child once we forget it, like a node left by a SIGKILLed sidecar). */
function launch(mode: string, env: Record<string, string> = {}, home = '/data/osmosis'): number {
  const child = spawn(process.execPath, [fakeNode, 'start', '--home', home], {
    env: { ...process.env, FAKE_NODE_MODE: mode, ...env },
    stdio: 'ignore',
    detached: true,
  })
  child.unref()
  children.push(child.pid as number)
  return child.pid as number
}

describe('process inspection', () => {
  it('tells who launched a process from its environment marker', async () => {
    const config = path.join(dir.path, 'cfg')
    const ours = launch('graceful', { [NODE_MARKER_ENV]: config })
    const other = launch('graceful', { [NODE_MARKER_ENV]: path.join(dir.path, 'other') })
    const byHand = launch('graceful')
    await eventually(async () => expect(await processLiveness(byHand)).toBe('alive'))
    expect(await inspectProcess(ours, config, '/data/osmosis')).toMatchObject({
      launcher: 'ours',
      runsOurHome: true,
    })
    expect(await inspectProcess(other, config, '/data/osmosis')).toMatchObject({ launcher: 'other-sidecar' })
    const info = await inspectProcess(byHand, config, '/data/other-home')
    expect(info).toMatchObject({ launcher: 'none', runsOurHome: false })
    expect(info?.command).toMatch(/fake-node\.mjs start --home \/data\/osmosis/)
  })

  it('stops a process that is not its child: SIGTERM, and SIGKILL when it will not go', async () => {
    const log = path.join(dir.path, 'starts.log')
    const graceful = launch('graceful', { FAKE_NODE_LOG: log })
    const stubborn = launch('stubborn', { FAKE_NODE_LOG: log })
    // Both are up (and have their SIGTERM handlers) once they logged their start.
    await eventually(async () => expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2))
    expect(await terminateProcess(graceful, 5_000)).toBe('exited')
    expect(await processLiveness(graceful)).not.toBe('alive')
    expect(await terminateProcess(stubborn, 300)).toBe('killed')
    expect(await processLiveness(stubborn)).not.toBe('alive')
    expect(await terminateProcess(stubborn, 300)).toBe('gone')
    expect(await inspectProcess(stubborn, dir.path, '/data/osmosis')).toBeNull()
  })

  it("stops an orphaned node's whole process group: a cosmovisor-like wrapper and the daemon it forked", async () => {
    // What a SIGKILLed sidecar leaves: the node tree, leading its own process group, no longer our child.
    const log = path.join(dir.path, 'launched.log')
    const home = path.join(dir.path, 'home')
    const wrapper = spawn(
      process.execPath,
      [
        path.join(fixtures, 'cosmovisor-like.mjs'),
        process.execPath,
        path.join(fixtures, 'addrbook-daemon.mjs'),
        'start',
        '--home',
        home,
      ],
      {
        env: { ...process.env, FAKE_NODE_LOG: log, WRAPPER_ON_TERM: 'wait', DAEMON_TERM_DELAY_MS: 'never' },
        stdio: 'ignore',
        detached: true,
      },
    )
    wrapper.unref()
    children.push(wrapper.pid as number)
    const pids = await eventually(async () => {
      const entries = (await readFile(log, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pid: number })
      expect(entries).toHaveLength(2)
      return entries.map((e) => e.pid)
    })
    children.push(...pids)
    expect(await processGroupMembers(wrapper.pid as number)).toEqual([...pids].sort((a, b) => a - b))
    expect(await terminateProcess(wrapper.pid as number, 300)).toBe('killed')
    for (const pid of pids) expect(await processLiveness(pid), `pid ${pid}`).not.toBe('alive')
    expect(await processGroupMembers(wrapper.pid as number)).toEqual([])
  })

  it('recognises --home in both spellings', () => {
    expect(argsNameHome(['osmosisd', 'start', '--home', '/data/osmosis/'], '/data/osmosis')).toBe(true)
    expect(argsNameHome(['osmosisd', 'start', '--home=/data/osmosis'], '/data/osmosis')).toBe(true)
    expect(argsNameHome(['osmosisd', 'start', '--home', '/data/osmosis-2'], '/data/osmosis')).toBe(false)
    expect(argsNameHome(['osmosisd', 'start'], '/data/osmosis')).toBe(false)
  })

  it('drops helper processes that descend from another listed process', async () => {
    // `sh -c 'node … & wait'`: the node is a child of the shell.
    const shell = spawn('sh', ['-c', `"${process.execPath}" "${fakeNode}" & wait`], {
      stdio: 'ignore',
      detached: true,
    })
    children.push(shell.pid as number)
    const child = await eventually(async () => {
      const { execFileSync } = await import('node:child_process')
      const out = execFileSync('pgrep', ['-P', String(shell.pid)], { encoding: 'utf8' }).trim()
      const pid = Number(out.split('\n')[0])
      if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error('no child yet')
      return pid
    })
    children.push(child)
    expect(await withoutDescendants([shell.pid as number, child])).toEqual([shell.pid])
    expect(await withoutDescendants([child])).toEqual([child])
  })
})

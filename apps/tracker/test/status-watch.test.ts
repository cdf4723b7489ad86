/**
 * `ghostfleet-tracker status --watch`: the table again every interval, appended as plain text under a pipe and
 * redrawn in place on a terminal (a pseudo-terminal from `script`), until SIGINT or SIGTERM ends it with exit 0;
 * a bad `--interval` is refused before anything is fetched.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { eventually, runProcess, startProcess } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Tracker } from '../src/index.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const ESC = String.fromCharCode(27)
const FRAME_TOP = /^tracker watch-leader: leader/gm

describe('ghostfleet-tracker status --watch', () => {
  let fleet: TestFleet
  let leader: Tracker

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 5, currentKey: '3000', paused: true }])
    leader = await startTestTracker(trackerConfig(fleet), { id: 'watch-leader' })
    await waitUntilLeading(leader)
  })
  afterAll(async () => {
    await leader?.stop()
    await fleet?.stop()
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'appends plain frames under a pipe until %s, then exits 0',
    async (signal) => {
      const watch = startProcess(process.execPath, [
        CLI,
        'status',
        '--tracker',
        leader.url,
        '--watch',
        '--interval',
        '1',
      ])
      try {
        await eventually(
          () => expect(watch.output().match(FRAME_TOP)?.length ?? 0).toBeGreaterThanOrEqual(2),
          { timeoutMs: 20_000, description: 'two frames' },
        )
        const text = watch.output()
        expect(text).not.toContain(ESC)
        expect(text).toMatch(/^\S+ {2}every 1s, Ctrl-C stops$/m)
        watch.child.kill(signal)
        expect(await watch.exited).toBe(0)
      } finally {
        await watch.stop('SIGKILL')
      }
    },
  )

  it('redraws in place on a terminal', async () => {
    if (spawnSync('script', ['--version']).status !== 0)
      return expect.fail('script(1) is needed for a pseudo-terminal')
    // script gives the command a pseudo-terminal and copies what it shows to our pipe.
    const command = `${process.execPath} ${CLI} status --tracker ${leader.url} --watch --interval 1`
    const watch = startProcess('script', ['-qfec', command, '/dev/null'], {
      env: { COLUMNS: '200', LINES: '50' },
    })
    try {
      await eventually(
        () =>
          expect(watch.output().match(/tracker watch-leader: leader/g)?.length ?? 0).toBeGreaterThanOrEqual(
            2,
          ),
        { timeoutMs: 20_000, description: 'two frames' },
      )
      // The second frame moves the cursor back up over the first and erases it.
      expect(watch.output()).toMatch(new RegExp(`\\r${ESC}\\[\\d+A${ESC}\\[J`))
    } finally {
      await watch.stop('SIGTERM')
    }
  })

  it.each(['0', '3601', 'abc', '1.5'])('refuses --interval %s', async (interval) => {
    const result = await runProcess(process.execPath, [
      CLI,
      'status',
      '--tracker',
      leader.url,
      '--watch',
      '--interval',
      interval,
    ])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      new RegExp(`^ghostfleet tracker status: --interval "${interval.replace('.', '\\.')}": `),
    )
    expect(result.stdout).toBe('')
  })
})

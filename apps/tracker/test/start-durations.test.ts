import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { eventually, startProcess, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

let dir: TempDir
beforeAll(async () => {
  dir = await tempDir('gf-tracker-durations-')
})
afterAll(async () => {
  await dir.remove()
})

/**
 * `ghostfleet-tracker start …` as a real process; a duration problem must stop it before anything starts. A
 * tracker that starts anyway (the bug) is stopped after the wait, so the test fails instead of hanging.
 */
async function start(...args: string[]): Promise<{ code: number | string; stderr: string }> {
  const proc = startProcess(process.execPath, [CLI, 'start', '--redis', 'redis://127.0.0.1:1', ...args], {
    env: { GHOSTFLEET_LOG_LEVEL: 'silent' },
  })
  try {
    await eventually(() => expect(proc.hasExited()).toBe(true), {
      timeoutMs: 20_000,
      description: 'the tracker to refuse its configuration and exit',
    })
    return { code: await proc.exited, stderr: proc.output() }
  } finally {
    await proc.stop('SIGKILL')
  }
}

describe('ghostfleet-tracker start refuses durations outside their bounds (exit 2, nothing started)', () => {
  it.each([
    ['3000000', '3000000'],
    ['0.001', '0.001'],
    ['-1', '"-1"'],
    ['abc', '"abc"'],
  ])('--refresh-seconds %s', async (value, shown) => {
    const run = await start('--refresh-seconds', value)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `--refresh-seconds: must be 0 (off) or between 1 and 3600 seconds, got ${shown}`,
    )
  })

  it('a config file whose lease would overflow the timer', async () => {
    const file = path.join(dir.path, 'tracker.toml')
    await writeFile(file, 'leaseTtlMs = 3000000000\npollIntervalSeconds = 0.001\n')
    const run = await start('--config', file)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'leaseTtlMs: must be a whole number between 100 and 300000 milliseconds, got 3000000000',
    )
    expect(run.stderr).toContain('pollIntervalSeconds: must be between 0.1 and 3600 seconds, got 0.001')
  })
})

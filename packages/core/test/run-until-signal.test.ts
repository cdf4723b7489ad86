import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { EXIT_CODES } from '../src/index.js'

/*
 * runUntilSignal in a real process with real signals. The child's service prints what happens to it; the test
 * waits for those lines (with a deadline) before it signals, and reads the exit code.
 */

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

/** The child: `scenario` picks how its service behaves. */
const script = `
  import { ConfigError, runUntilSignal } from ${JSON.stringify(dist)}
  const scenario = process.argv[1]
  const say = (line) => process.stdout.write(line + '\\n')
  const logger = { info: (_f, m) => say('log ' + m), warn: (_f, m) => say('log ' + m),
    error: (_f, m) => say('log ' + m), fatal: (_f, m) => say('log ' + m) }
  let fail = () => {}
  // What a real service holds open (a server, a child): without it the event loop would end the process.
  let alive
  const service = {
    failed: new Promise((resolve) => { fail = resolve }),
    async start() {
      if (scenario === 'config') throw new ConfigError('pool.poolId: expected an integer')
      if (scenario === 'crash') throw new Error('port taken')
      alive = setInterval(() => {}, 60_000)
      say('started')
      if (scenario === 'fails-later') setImmediate(() => fail(new Error('home gone')))
    },
    async stop() {
      say('stop called')
      clearInterval(alive)
      if (scenario === 'hangs' || scenario === 'overdue') await new Promise(() => setInterval(() => {}, 60_000))
      if (scenario === 'stop-fails') throw new Error('node did not stop')
    },
  }
  const code = await runUntilSignal(service, { name: 'test', logger, stderr: say, stopDeadlineMs: scenario === 'overdue' ? 200 : undefined })
  say('exit ' + code)
  process.exit(code)
`

let child: ChildProcess | undefined
afterEach(() => {
  child?.kill('SIGKILL')
  child = undefined
})

function run(scenario: string) {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script, scenario], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  child = proc
  let output = ''
  proc.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  const sees = (line: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`no "${line}" in:\n${output}`)), timeoutMs)
      const check = () => {
        if (!output.split('\n').includes(line)) return
        clearTimeout(deadline)
        proc.stdout?.off('data', check)
        resolve()
      }
      proc.stdout?.on('data', check)
      check()
    })
  return { proc, exited, sees, output: () => output }
}

describe('runUntilSignal', () => {
  it('stops the service on SIGTERM and exits 0', async () => {
    const r = run('clean')
    await r.sees('started')
    r.proc.kill('SIGTERM')
    expect(await r.exited).toBe(EXIT_CODES.ok)
    expect(r.output()).toContain('stop called')
  })

  it('exits 2 for a configuration error at start, 1 for any other, after undoing the partial start', async () => {
    const config = run('config')
    expect(await config.exited).toBe(EXIT_CODES.config)
    expect(config.output()).toContain('test: pool.poolId: expected an integer')
    expect(config.output()).toContain('stop called')
    const crash = run('crash')
    expect(await crash.exited).toBe(EXIT_CODES.fatal)
    expect(crash.output()).toContain('test: port taken')
  })

  it('stops the service and exits 1 when it fails while running', async () => {
    const r = run('fails-later')
    expect(await r.exited).toBe(EXIT_CODES.fatal)
    expect(r.output()).toContain('stop called')
  })

  it('exits 1 when the stop fails, overruns its deadline, or a second signal cuts it short', async () => {
    const fails = run('stop-fails')
    await fails.sees('started')
    fails.proc.kill('SIGINT')
    expect(await fails.exited).toBe(EXIT_CODES.fatal)

    const overdue = run('overdue')
    await overdue.sees('started')
    overdue.proc.kill('SIGTERM')
    expect(await overdue.exited).toBe(EXIT_CODES.fatal)
    expect(overdue.output()).toContain('log shutdown took too long; exiting')

    const hangs = run('hangs')
    await hangs.sees('started')
    hangs.proc.kill('SIGTERM')
    await hangs.sees('stop called')
    hangs.proc.kill('SIGTERM')
    expect(await hangs.exited).toBe(EXIT_CODES.fatal)
    expect(hangs.output()).toContain('log second signal: exiting without finishing the shutdown')
  })
})

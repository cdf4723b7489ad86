import { spawnSync } from 'node:child_process'
import os from 'node:os'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger, LOG_LEVEL_ENV, LogLevelError, logLevelFrom } from '../src/logger.js'

/** A destination that keeps every line pino writes, parsed. */
function capture(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = []
  return { lines, write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }
}

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('createLogger', () => {
  it('writes one JSON line per entry with the service, level, message, pid and hostname', () => {
    const out = capture()
    const logger = createLogger({ name: 'ghostfleet-sidecar', destination: out })
    logger.info({ pool: 3 }, 'entered ghost mode')
    logger.error(new Error('disk full'), 'prune failed')
    expect(out.lines).toHaveLength(2)
    expect(out.lines[0]).toMatchObject({
      service: 'ghostfleet-sidecar',
      level: 30,
      msg: 'entered ghost mode',
      pool: 3,
      pid: process.pid,
      hostname: os.hostname(),
    })
    expect(typeof out.lines[0]?.['time']).toBe('number')
    expect(out.lines[1]).toMatchObject({ service: 'ghostfleet-sidecar', level: 50, msg: 'prune failed' })
    expect(out.lines[1]?.['err']).toMatchObject({ type: 'Error', message: 'disk full' })
  })

  it('keeps the service field on child loggers', () => {
    const out = capture()
    createLogger({ name: 'ghostfleet-tracker', destination: out }).child({ pool: 'osmosis/1' }).warn('stale')
    expect(out.lines[0]).toMatchObject({ service: 'ghostfleet-tracker', pool: 'osmosis/1', msg: 'stale' })
  })

  it('defaults to info, whatever the environment says (the binaries read it: logLevelFrom)', () => {
    vi.stubEnv(LOG_LEVEL_ENV, 'debug')
    const out = capture()
    const logger = createLogger({ name: 'svc', destination: out })
    logger.debug('hidden')
    logger.info('shown')
    expect(logger.level).toBe('info')
    expect(out.lines.map((line) => line['msg'])).toEqual(['shown'])
  })

  it('takes the level from GHOSTFLEET_LOG_LEVEL, case-insensitively', () => {
    const out = capture()
    const level = logLevelFrom({ env: { [LOG_LEVEL_ENV]: 'DEBUG' } })
    const logger = createLogger({ name: 'svc', ...level, destination: out })
    logger.trace('hidden')
    logger.debug('shown')
    expect(logger.level).toBe('debug')
    expect(out.lines.map((line) => line['msg'])).toEqual(['shown'])
  })

  it('prefers the level flag over the environment', () => {
    const out = capture()
    const level = logLevelFrom({ flag: 'warn', env: { [LOG_LEVEL_ENV]: 'debug' } })
    const logger = createLogger({ name: 'svc', ...level, destination: out })
    logger.info('hidden')
    logger.warn('shown')
    expect(out.lines.map((line) => line['msg'])).toEqual(['shown'])
  })

  it('rejects an unknown level option, naming the value and the accepted levels', () => {
    expect(() => createLogger({ name: 'svc', level: 'verbose', destination: capture() })).toThrow(
      LogLevelError,
    )
    expect(() => createLogger({ name: 'svc', level: 'verbose', destination: capture() })).toThrow(
      'createLogger level: "verbose" is not a log level; use one of fatal, error, warn, info, debug, trace, silent',
    )
  })

  it('rejects an unknown level in the environment, naming the variable', () => {
    const level = logLevelFrom({ env: { [LOG_LEVEL_ENV]: 'loud' } })
    expect(() => createLogger({ name: 'svc', ...level, destination: capture() })).toThrow(
      /^GHOSTFLEET_LOG_LEVEL: "loud" is not a log level/,
    )
  })

  it('rejects an empty name', () => {
    expect(() => createLogger({ name: ' ', destination: capture() })).toThrow(/name must not be empty/)
  })

  it('writes human-readable lines when pretty', async () => {
    let text = ''
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString()
        callback()
      },
    })
    const logger = createLogger({ name: 'ghostfleet-sidecar', pretty: true, destination })
    logger.info({ height: 42 }, 'entered ghost mode')
    expect(text).toContain('INFO')
    expect(text).toContain('entered ghost mode')
    expect(text).toContain('service: "ghostfleet-sidecar"')
    expect(text).toContain('height: 42')
    expect(() => JSON.parse(text)).toThrow()
  })
})

describe('a process killed right after logging', () => {
  const dist = new URL('../dist/index.js', import.meta.url)

  it.each([
    ['JSON', false],
    ['pretty', true],
  ])('still gets its last %s line out', (_kind, pretty) => {
    const script = `
      import { createLogger } from ${JSON.stringify(fileURLToPath(dist))}
      const logger = createLogger({ name: 'crashy', pretty: ${pretty} })
      for (let i = 0; i < 2000; i++) logger.info({ i }, 'line ' + i)
      // Not fatal(): pino flushes its own SonicBoom on fatal, which would hide an async stdout.
      logger.error('last words')
      // SIGKILL runs no exit handlers: only lines already handed to the kernel survive.
      process.kill(process.pid, 'SIGKILL')
    `
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, [LOG_LEVEL_ENV]: 'info' },
    })
    expect(child.stderr).toBe('')
    expect(child.signal).toBe('SIGKILL')
    const lines = child.stdout.trimEnd().split('\n')
    if (pretty) {
      expect(child.stdout).toContain('line 1999')
      expect(child.stdout).toMatch(/ERROR.*last words\n {4}service: "crashy"\n$/)
    } else {
      expect(lines).toHaveLength(2001)
      expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({
        service: 'crashy',
        level: 50,
        msg: 'last words',
      })
    }
  })
})

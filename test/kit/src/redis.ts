import { execFileSync } from 'node:child_process'
import { eventually } from './eventually.js'
import { canConnect, freePort } from './ports.js'
import { startProcess, type TestProcess } from './process.js'
import { type TempDir, tempDir } from './temp.js'

/** A private `redis-server` for one test suite, on a free loopback port. */
export interface TestRedis {
  port: number
  url: string
  /** Kills the server (SIGKILL by default: a crash). Data is not persisted. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the server again on the same port (after {@link TestRedis.kill}). */
  restart(): Promise<void>
  /** Stops the server and removes its directory. */
  stop(): Promise<void>
}

/** Throws a helpful error when redis-server is not installed. */
export function requireRedisServer(): string {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' })
    return 'redis-server'
  } catch {
    throw new Error(
      'redis-server is not installed. Install it with `sudo apt-get install redis-server` (Debian/Ubuntu) ' +
        'or `brew install redis` (macOS); .ci/run does this automatically.',
    )
  }
}

/**
 * Spawns `redis-server` on a free port with no persistence, and waits until it accepts connections.
 * Each suite gets its own server so a test can kill and restart it.
 */
export async function startRedis(): Promise<TestRedis> {
  const binary = requireRedisServer()
  const port = await freePort()
  const dir: TempDir = await tempDir('ghostfleet-redis-')
  let proc: TestProcess | undefined
  const launch = async () => {
    proc = startProcess(binary, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir.path,
    ])
    await eventually(
      async () => {
        if (proc?.hasExited()) throw new Error(`redis-server exited: ${proc.output()}`)
        if (!(await canConnect(port))) throw new Error('not accepting connections yet')
      },
      { timeoutMs: 15_000, description: `redis-server on port ${port}` },
    )
  }
  await launch()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await proc?.stop(signal)
    },
    async restart() {
      if (proc && !proc.hasExited()) await proc.stop('SIGKILL')
      await launch()
    },
    async stop() {
      await proc?.stop('SIGTERM')
      await dir.remove()
    },
  }
}

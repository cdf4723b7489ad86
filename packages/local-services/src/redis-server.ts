import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { eventually } from './eventually.js'
import { canConnect, freePort } from './ports.js'

/** A private `redis-server` on a free loopback port: one per test suite, or the local fleet's (`devnet up`). */
export interface LocalRedis {
  port: number
  url: string
  /** Kills the server (SIGKILL by default: a crash). Data is not persisted. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the server again on the same port (after {@link LocalRedis.kill}). */
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

/** One run of the server: its process, its output so far (for the error when it exits early), its exit. */
interface Run {
  child: ChildProcess
  output(): string
  exited: Promise<void>
  hasExited(): boolean
}

function launch(binary: string, port: number, dir: string): Run {
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  // Only the start-up lines matter (they say why it exited); the rest is dropped.
  const collect = (chunk: Buffer) => {
    if (out.length < 64_000) out += chunk.toString('utf8')
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  let done = false
  const exited = new Promise<void>((resolve) => {
    const finish = () => {
      done = true
      resolve()
    }
    child.once('exit', finish)
    child.once('error', (error) => {
      out += String(error)
      finish()
    })
  })
  return { child, output: () => out, exited, hasExited: () => done }
}

/** Sends `signal`, waits for the exit, SIGKILLs after `graceMs`. */
async function end(run: Run, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (run.hasExited()) return
  run.child.kill(signal)
  const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs)
  try {
    await run.exited
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Spawns `redis-server` on a free port with no persistence, and waits until it accepts connections.
 * Each suite gets its own server so a test can kill and restart it.
 */
export async function startRedis(): Promise<LocalRedis> {
  const binary = requireRedisServer()
  const port = await freePort()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ghostfleet-redis-'))
  let current: Run | undefined
  const start = async () => {
    const run = launch(binary, port, dir)
    current = run
    await eventually(
      async () => {
        if (run.hasExited()) throw new Error(`redis-server exited: ${run.output()}`)
        if (!(await canConnect(port))) throw new Error('not accepting connections yet')
      },
      { timeoutMs: 15_000, description: `redis-server on port ${port}` },
    )
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (current) await end(current, signal)
    },
    async restart() {
      if (current) await end(current, 'SIGKILL')
      await start()
    },
    async stop() {
      if (current) await end(current, 'SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
  }
}

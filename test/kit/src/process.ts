import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

/** A child process started by {@link startProcess}, with its output collected for assertions. */
export interface TestProcess {
  child: ChildProcess
  pid: number
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>
  /** True once the process has exited. */
  hasExited(): boolean
  /** Sends `signal`, waits for exit up to `graceMs`, then SIGKILLs. Resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>
}

/** Options for {@link startProcess}. */
export interface StartProcessOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Echo the child's output to this process's stderr (debugging). @default false */
  echo?: boolean
}

/** Spawns `command args` with pipes, collecting output. Tests must call `stop()` in teardown. */
export function startProcess(
  command: string,
  args: string[],
  options: StartProcessOptions = {},
): TestProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error(`could not start ${command}`)
  let out = ''
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8')
    if (out.length > 2_000_000) out = out.slice(-1_000_000)
    if (options.echo) process.stderr.write(chunk)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  let done = false
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true
      resolve(code ?? signal ?? -1)
    })
  })
  return {
    child,
    pid: child.pid,
    output: () => out,
    exited,
    hasExited: () => done,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000) {
      if (done) return await exited
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Runs a command to completion and returns its exit code and output. */
export async function runProcess(
  command: string,
  args: string[],
  options: StartProcessOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8')
  })
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8')
  })
  const [code] = (await once(child, 'close')) as [number | null]
  return { code: code ?? -1, stdout, stderr }
}

/**
 * Processes whose command line mentions `needle` (a work directory, a `--port N`), from /proc: what a test
 * checks to prove that nothing it started is left running.
 */
export async function processesMentioning(needle: string): Promise<Array<{ pid: number; cmdline: string }>> {
  const found: Array<{ pid: number; cmdline: string }> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    let cmdline: string
    try {
      cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim()
    } catch {
      continue
    }
    if (cmdline.includes(needle)) found.push({ pid: Number(entry), cmdline })
  }
  return found
}

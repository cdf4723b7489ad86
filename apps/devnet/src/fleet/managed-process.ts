import { type ChildProcess, spawn } from 'node:child_process'
import { openSync } from 'node:fs'

/** A child process of the demo fleet, its output appended to a log file. */
export class ManagedProcess {
  private readonly child: ChildProcess
  private readonly exitPromise: Promise<number | string>
  private exited = false

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    logFile: string,
    env: NodeJS.ProcessEnv = {},
  ) {
    const fd = openSync(logFile, 'a')
    this.child = spawn(command, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } })
    this.exitPromise = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exited = true
        resolve(code ?? signal ?? -1)
      })
      this.child.once('error', () => {
        this.exited = true
        resolve('spawn-error')
      })
    })
  }

  hasExited(): boolean {
    return this.exited
  }

  exit(): Promise<number | string> {
    return this.exitPromise
  }

  /** SIGTERM, wait for the exit up to `graceMs`, then SIGKILL and wait again. */
  async stop(graceMs: number): Promise<number | string> {
    if (this.exited) return await this.exitPromise
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    try {
      return await this.exitPromise
    } finally {
      clearTimeout(timer)
    }
  }
}

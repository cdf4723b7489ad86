import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import { RestartBackoff, type RestartBackoffOptions } from './backoff.js'

/** The command line that starts the node (from `buildLaunchCommand` in @ghostfleet/cometbft). */
export interface LaunchSpec {
  command: string
  args: string[]
  env: Record<string, string>
}

/** Where the node's stdout/stderr go: straight through to ours, or appended to a log file. */
export type NodeOutput = { kind: 'inherit' } | { kind: 'file'; path: string }

/**
 * Lifecycle of the supervised node:
 * - `stopped`: not running and not wanted (before start, after stop).
 * - `running`: a child process is alive.
 * - `stopping`: SIGTERM sent, waiting for the exit (SIGKILL after the grace period).
 * - `backoff`: crashed; a restart is scheduled after the backoff delay.
 */
export type NodeProcessState = 'stopped' | 'running' | 'stopping' | 'backoff'

/** What the supervisor tells its owner about exits. */
export interface NodeExit {
  code: number | null
  signal: NodeJS.Signals | null
  uptimeMs: number
  /** True when the exit was asked for (stop or restart), false for a crash. */
  expected: boolean
  /** For a crash: the delay before the automatic restart. */
  restartInMs?: number
}

export interface NodeProcessOptions {
  /** Builds the command line at every (re)start, so a restart after a crash uses the current mode. */
  launchSpec: () => LaunchSpec | Promise<LaunchSpec>
  output: NodeOutput
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs: number
  backoff: RestartBackoffOptions
  onExit?: (exit: NodeExit) => void
  onStart?: (pid: number, spec: LaunchSpec) => void
  /** Called when an automatic restart fails to spawn (binary missing, …). */
  onError?: (error: Error) => void
}

/** Raised when a node does not exit even after SIGKILL within the grace period (a stuck D-state process). */
export class NodeStopTimeoutError extends Error {
  constructor(pid: number, waitedMs: number) {
    super(`node process ${pid} did not exit within ${waitedMs} ms after SIGKILL`)
    this.name = 'NodeStopTimeoutError'
  }
}

/**
 * Supervises one node process: starts it, restarts it after a crash with capped exponential backoff
 * (10 s doubling to 5 min, reset after 10 min up — the kubelet curve), and stops it with SIGTERM, waiting for
 * the actual exit and escalating to SIGKILL after a grace period. Nothing here sleeps a fixed time: every wait
 * is for the child's exit event, bounded by a deadline.
 */
export class NodeProcess {
  private child: ChildProcess | null = null
  private exitPromise: Promise<void> | null = null
  private startedAt = 0
  private wanted = false
  private expectingExit = false
  private restartTimer: NodeJS.Timeout | null = null
  private readonly backoff: RestartBackoff
  private restarts = 0
  private currentState: NodeProcessState = 'stopped'

  constructor(private readonly options: NodeProcessOptions) {
    this.backoff = new RestartBackoff(options.backoff)
  }

  state(): NodeProcessState {
    return this.currentState
  }

  pid(): number | null {
    return this.child?.pid ?? null
  }

  /** Automatic restarts after crashes since this supervisor was created. */
  restartCount(): number {
    return this.restarts
  }

  uptimeMs(now = Date.now()): number {
    return this.child ? now - this.startedAt : 0
  }

  /** Starts the node and keeps it running until {@link stop}. Throws when the spawn itself fails. */
  async start(): Promise<void> {
    this.wanted = true
    this.cancelRestart()
    if (this.child) return
    await this.spawnChild()
  }

  /** Stops the node (SIGTERM → wait → SIGKILL) and keeps it stopped. Resolves once the process has exited. */
  async stop(): Promise<void> {
    this.wanted = false
    this.cancelRestart()
    await this.terminate()
    this.currentState = 'stopped'
  }

  /** Stops the node and starts it again with a fresh launch spec (a mode switch). No backoff applies. */
  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  private async spawnChild(): Promise<void> {
    const spec = await this.options.launchSpec()
    let stdio: ['ignore', 'inherit' | number, 'inherit' | number] = ['ignore', 'inherit', 'inherit']
    let fd: number | null = null
    if (this.options.output.kind === 'file') {
      mkdirSync(path.dirname(this.options.output.path), { recursive: true })
      fd = openSync(this.options.output.path, 'a')
      stdio = ['ignore', fd, fd]
    }
    const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, stdio })
    if (fd !== null) closeSync(fd)
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve())
      child.once('error', (error) =>
        reject(new Error(`could not start the node (${spec.command}): ${error.message}`)),
      )
    })
    this.child = child
    this.startedAt = Date.now()
    this.expectingExit = false
    this.currentState = 'running'
    this.exitPromise = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.onChildExit(child, code, signal)
        resolve()
      })
    })
    this.options.onStart?.(child.pid ?? -1, spec)
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return
    const uptimeMs = Date.now() - this.startedAt
    this.child = null
    const expected = this.expectingExit || !this.wanted
    if (expected) {
      // A stop that gave up on a process stuck after SIGKILL left the state at `stopping`; once it does exit,
      // say so, so the owner can start the node again.
      if (!this.wanted) this.currentState = 'stopped'
      this.options.onExit?.({ code, signal, uptimeMs, expected })
      return
    }
    const restartInMs = this.backoff.onCrash(uptimeMs)
    this.options.onExit?.({ code, signal, uptimeMs, expected, restartInMs })
    this.scheduleRestart(restartInMs)
  }

  /** Restarts the node after `delayMs`; a failed spawn counts as another crash and backs off further. */
  private scheduleRestart(delayMs: number): void {
    this.currentState = 'backoff'
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      if (!this.wanted) return
      this.restarts++
      this.spawnChild().catch((error: unknown) => {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
        if (this.wanted) this.scheduleRestart(this.backoff.onCrash(0))
      })
    }, delayMs)
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
  }

  private async terminate(): Promise<void> {
    const child = this.child
    const exited = this.exitPromise
    if (!child || !exited) return
    this.expectingExit = true
    this.currentState = 'stopping'
    child.kill('SIGTERM')
    if (await this.waitFor(exited, this.options.stopGraceMs)) return
    child.kill('SIGKILL')
    if (await this.waitFor(exited, Math.max(5_000, this.options.stopGraceMs))) return
    throw new NodeStopTimeoutError(child.pid ?? -1, this.options.stopGraceMs)
  }

  /** Resolves true when `promise` settles within `ms`, false otherwise. */
  private async waitFor(promise: Promise<void>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    })
    try {
      return await Promise.race([promise.then(() => true as const), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdirSync, openSync } from 'node:fs'
import path from 'node:path'
import { waitFor } from '../wait-for.js'
import { RestartBackoff, type RestartBackoffOptions } from './backoff.js'
import { nodeEnvironment } from './node-environment.js'
import { processGroupMembers, signalProcessGroup } from './process-inspect.js'

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
 * - `starting`: a spawn is in flight (building the launch spec, waiting for the `spawn` event).
 * - `running`: the node's process is alive.
 * - `stopping`: SIGTERM sent to the node's process group, waiting until the whole group is gone (SIGKILL after
 *   the grace period).
 * - `backoff`: crashed; a restart is scheduled after the backoff delay.
 */
export type NodeProcessState = 'stopped' | 'starting' | 'running' | 'stopping' | 'backoff'

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

/** The node as launched: the process we spawned, which leads the process group that is the node. */
interface NodeGroup {
  child: ChildProcess
  /** The process group: the child's pid (it is spawned as a group leader). */
  pgid: number
  startedAt: number
  /** Set once the child (the group leader) has exited; other members may still run. */
  leaderExited: boolean
}

/**
 * Supervises one node process: starts it, restarts it after a crash with capped exponential backoff
 * (10 s doubling to 5 min, reset after 10 min up — the kubelet curve), and stops it with SIGTERM, waiting for
 * the actual exit and escalating to SIGKILL after a grace period. Nothing here sleeps a fixed time: every wait
 * is for a condition (the exit event, an empty process group), bounded by a deadline.
 *
 * The rules, which together make sure no path leaves two nodes or one we do not track:
 *
 * 1. One step at a time. Everything that changes the process — a start, a stop, a crash restart, cleaning up
 *    after a crash — runs as one step of a serial queue (`serial`), from its first await to its last. A stop()
 *    issued while a crash restart awaits its launch spec or its `spawn` event is queued behind that restart, and
 *    then stops what it spawned; a start() queued behind a stop() starts once the node is gone. So `this.group`
 *    is only ever set or cleared by the running step, and there is never more than one group.
 * 2. The last call wins. `wanted` is what the owner asked for last (start: true, stop: false), set at once when
 *    start() or stop() is called, and read by a queued step when it runs, not when it was queued. A crash
 *    restart re-reads it after its launch spec resolved, right before the exec: if a stop() came in meanwhile,
 *    it spawns nothing (cancelled before the exec).
 * 3. The node is a process group. It is spawned as the leader of a new group (`detached`; a cosmovisor node is
 *    the wrapper and the daemon it forks, both in that group). SIGTERM and the SIGKILL escalation go to the whole
 *    group, and the node counts as stopped only when the leader has exited and no process of the group remains.
 *    A crash of the leader with members left (cosmovisor died, its daemon did not) is followed, before anything
 *    else, by stopping those members the same way.
 *    Being a group of its own, the node no longer receives signals sent to the sidecar's group (a terminal's
 *    Ctrl-C, a `kill -- -<pgid>`): the sidecar stops it on SIGINT/SIGTERM itself, and a node orphaned by a
 *    SIGKILLed sidecar is found by its environment marker (`GHOSTFLEET_SIDECAR_CONFIG`) and stopped, group and
 *    all, by the next sidecar's startup (see startup.ts and `terminateProcess`). Under systemd the node stays in
 *    the service's cgroup, so `systemctl stop` still ends everything.
 * 4. The node's environment carries none of Ghostfleet's secrets (see node-environment.ts).
 */
export class NodeProcess {
  private group: NodeGroup | null = null
  private wanted = false
  private expectingExit = false
  private restartTimer: NodeJS.Timeout | null = null
  private readonly backoff: RestartBackoff
  private restarts = 0
  private currentState: NodeProcessState = 'stopped'
  /** The tail of the step queue (rule 1); never rejects. */
  private queue: Promise<void> = Promise.resolve()
  private stepRunning = false

  constructor(private readonly options: NodeProcessOptions) {
    this.backoff = new RestartBackoff(options.backoff)
  }

  state(): NodeProcessState {
    return this.currentState
  }

  /** The pid of the node's root process (the group leader) while it runs. */
  pid(): number | null {
    const group = this.group
    return group !== null && !group.leaderExited ? (group.child.pid ?? null) : null
  }

  /** Automatic restarts after crashes since this supervisor was created. */
  restartCount(): number {
    return this.restarts
  }

  uptimeMs(now = Date.now()): number {
    const group = this.group
    return group !== null && !group.leaderExited ? now - group.startedAt : 0
  }

  /**
   * Starts the node and keeps it running until {@link stop}. Waits for a start, stop or crash restart in flight
   * first; does nothing if the node runs by then, or if a stop() was called after this start(). Throws when the
   * spawn itself fails.
   */
  async start(): Promise<void> {
    this.wanted = true
    this.cancelRestart()
    await this.serial(async () => {
      if (!this.wanted) return
      if (this.group !== null && !this.group.leaderExited) {
        this.currentState = 'running'
        return
      }
      try {
        await this.spawnGroup()
      } catch (error) {
        if (this.group === null) this.currentState = 'stopped'
        throw error
      }
    })
  }

  /**
   * Stops the node (SIGTERM to its process group → wait → SIGKILL to the group) and keeps it stopped. Waits for
   * a start or crash restart in flight, and stops what it spawned. Resolves once no process of the node's group
   * remains.
   */
  async stop(): Promise<void> {
    this.wanted = false
    this.cancelRestart()
    await this.serial(async () => {
      await this.terminate()
      if (!this.wanted) this.currentState = 'stopped'
    })
  }

  /** Stops the node and starts it again with a fresh launch spec (a mode switch). No backoff applies. */
  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  /** Runs `step` after every step queued before it (rule 1). */
  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      this.stepRunning = true
      try {
        return await step()
      } finally {
        this.stepRunning = false
      }
    })
    this.queue = run.then(
      () => undefined,
      () => undefined,
    )
    return run
  }

  /**
   * Spawns the node as the leader of a new process group. Runs inside a step, when the last group's leader has
   * exited: whatever is left of that group is stopped first (rule 3), so two nodes never overlap.
   */
  private async spawnGroup(): Promise<void> {
    await this.terminate()
    this.currentState = 'starting'
    const spec = await this.options.launchSpec()
    // Rule 2: a stop() that came in while the launch spec was built cancels this spawn before the exec.
    if (!this.wanted) return
    let stdio: ['ignore', 'inherit' | number, 'inherit' | number] = ['ignore', 'inherit', 'inherit']
    let fd: number | null = null
    if (this.options.output.kind === 'file') {
      mkdirSync(path.dirname(this.options.output.path), { recursive: true })
      fd = openSync(this.options.output.path, 'a')
      stdio = ['ignore', fd, fd]
    }
    let child: ChildProcess
    try {
      child = spawn(spec.command, spec.args, {
        env: nodeEnvironment(process.env, spec.env),
        stdio,
        // Rule 3: the node leads its own process group, so the whole tree can be signalled and awaited.
        detached: true,
      })
    } finally {
      if (fd !== null) closeSync(fd)
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve())
      child.once('error', (error) =>
        reject(new Error(`could not start the node (${spec.command}): ${error.message}`)),
      )
    })
    const group: NodeGroup = {
      child,
      pgid: child.pid as number,
      startedAt: Date.now(),
      leaderExited: false,
    }
    child.once('exit', (code, signal) => this.onLeaderExit(group, code, signal))
    this.group = group
    this.expectingExit = false
    this.currentState = 'running'
    this.options.onStart?.(group.pgid, spec)
  }

  private onLeaderExit(group: NodeGroup, code: number | null, signal: NodeJS.Signals | null): void {
    group.leaderExited = true
    if (this.group !== group) return
    const uptimeMs = Date.now() - group.startedAt
    const expected = this.expectingExit || !this.wanted
    if (expected) {
      // A stop that gave up on a process stuck after SIGKILL left the state at `stopping` and the group in place;
      // once the group is gone for good, say so, so the owner can start the node again.
      if (!this.wanted && !this.stepRunning) {
        void this.serial(async () => {
          if (this.group === group && (await processGroupMembers(group.pgid)).length === 0) this.group = null
          if (!this.wanted && this.group === null) this.currentState = 'stopped'
        })
      }
      this.options.onExit?.({ code, signal, uptimeMs, expected })
      return
    }
    const restartInMs = this.backoff.onCrash(uptimeMs)
    this.currentState = 'backoff'
    this.options.onExit?.({ code, signal, uptimeMs, expected, restartInMs })
    // Rule 3: what the leader left behind in its group (a daemon whose wrapper crashed) goes first.
    void this.serial(async () => {
      try {
        await this.terminate()
      } catch (error) {
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
      }
      if (this.wanted) {
        this.cancelRestart()
        this.scheduleRestart(restartInMs)
      }
    })
  }

  /** Restarts the node after `delayMs`; a failed spawn counts as another crash and backs off further. */
  private scheduleRestart(delayMs: number): void {
    this.currentState = 'backoff'
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null
      void this.serial(async () => {
        // Rule 2: a stop() since the timer was set wins; a start() that ran meanwhile already launched the node.
        if (!this.wanted || (this.group !== null && !this.group.leaderExited)) return
        this.restarts++
        try {
          await this.spawnGroup()
        } catch (error) {
          this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
          if (this.wanted) this.scheduleRestart(this.backoff.onCrash(0))
        }
      })
    }, delayMs)
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = null
  }

  /**
   * Stops the node's process group: SIGTERM to the group, wait until the leader has exited and no member
   * remains, SIGKILL to the group after the grace period, wait again. Runs inside a step.
   */
  private async terminate(): Promise<void> {
    const group = this.group
    if (group === null) return
    this.expectingExit = true
    if ((await this.groupGone(group, 0)) === true) {
      this.group = null
      return
    }
    this.currentState = 'stopping'
    signalProcessGroup(group.pgid, 'SIGTERM')
    if (await this.groupGone(group, this.options.stopGraceMs)) {
      this.group = null
      return
    }
    signalProcessGroup(group.pgid, 'SIGKILL')
    if (await this.groupGone(group, Math.max(5_000, this.options.stopGraceMs))) {
      this.group = null
      return
    }
    throw new NodeStopTimeoutError(group.pgid, this.options.stopGraceMs)
  }

  /** Whether the group's leader has exited and no member remains, within `ms`. */
  private async groupGone(group: NodeGroup, ms: number): Promise<boolean> {
    try {
      await waitFor(
        `the node's process group ${group.pgid} to exit`,
        async () => {
          if (!group.leaderExited) return { done: false, problem: `pid ${group.pgid} still running` }
          const left = await processGroupMembers(group.pgid)
          return left.length === 0
            ? { done: true, value: undefined }
            : { done: false, problem: `pid ${left.join(', ')} still running` }
        },
        { timeoutMs: ms, pollMs: 50 },
      )
      return true
    } catch {
      return false
    }
  }
}

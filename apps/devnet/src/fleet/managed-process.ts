import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'

export interface ManagedProcessOptions {
  /**
   * Start the process as the leader of its own process group, so that whatever it spawns (a sidecar's node) can be
   * ended with it: {@link ManagedProcess.stop} kills the whole group after the grace period, and once the leader
   * has exited, whatever it left behind in the group. @default false
   */
  group?: boolean
}

/** A child process of the local fleet, its output appended to a log file. */
export class ManagedProcess {
  private readonly child: ChildProcess
  private readonly exitPromise: Promise<number | string>
  private readonly group: boolean
  private exited = false

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv = {},
    options: ManagedProcessOptions = {},
  ) {
    this.group = options.group ?? false
    const fd = openSync(logFile, 'a')
    try {
      this.child = spawn(command, args, {
        stdio: ['ignore', fd, fd],
        env: { ...process.env, ...env },
        detached: this.group,
      })
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd)
    }
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

  /** The process id (undefined only when the spawn itself failed). */
  get pid(): number | undefined {
    return this.child.pid
  }

  hasExited(): boolean {
    return this.exited
  }

  exit(): Promise<number | string> {
    return this.exitPromise
  }

  /** Sends `signal` to the process alone (tests: SIGKILL a tracker, SIGSTOP, …). */
  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.child.kill(signal)
  }

  /**
   * SIGTERM, wait for the exit up to `graceMs`, then SIGKILL (the whole group for a group leader) and wait
   * again. A group leader's leftovers are killed once it has exited.
   */
  async stop(graceMs: number): Promise<number | string> {
    if (!this.exited) this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.killHard(), graceMs)
    try {
      return await this.exitPromise
    } finally {
      clearTimeout(timer)
      if (this.group) this.killGroup()
    }
  }

  /**
   * SIGKILLs the process (its group and its children's groups for a group leader) at once, synchronously: the
   * last resort of a parent that is exiting and cannot wait for {@link stop}.
   */
  killNow(): void {
    if (!this.exited) this.killHard()
  }

  private killHard(): void {
    if (this.group) this.killGroup()
    else this.child.kill('SIGKILL')
  }

  /**
   * SIGKILLs the group, and the groups its leader's children lead: a sidecar launches its node as the leader of a
   * process group of its own (so that it can stop the node's whole tree), which the sidecar's group does not include.
   */
  private killGroup(): void {
    const pid = this.child.pid
    if (pid === undefined) return
    const groups = [pid, ...(this.exited ? [] : childrenOf(pid))]
    for (const group of groups) {
      try {
        process.kill(-group, 'SIGKILL')
      } catch {
        // The group is empty (nothing was left behind), or the child leads none.
      }
    }
  }
}

/** The pids of `pid`'s children (`pgrep -P`, on Linux and macOS); empty when there are none or pgrep is missing. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map(Number)
      .filter((child) => Number.isSafeInteger(child) && child > 0)
  } catch {
    return []
  }
}

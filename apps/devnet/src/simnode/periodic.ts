/**
 * Runs `task` every `intervalMs` on a real schedule (block production, peer polling, address-book flushes).
 * A run never overlaps the previous one: the next run is scheduled when the current one settles — `intervalMs`
 * after it ended, or with `fixedRate` `intervalMs` after it started (a block every block time, however long
 * committing takes). `kick()` runs it as soon as the current run (if any) is done, for "there is work now".
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  private kicked = false

  constructor(
    private readonly intervalMs: number,
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly fixedRate = false,
  ) {}

  /** Starts the schedule; the first run happens after `firstDelayMs` (default: immediately). */
  start(firstDelayMs = 0): void {
    this.stopped = false
    this.schedule(firstDelayMs)
  }

  kick(): void {
    if (this.stopped) return
    if (this.running) {
      this.kicked = true
      return
    }
    this.schedule(0)
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running = this.run()
    }, delayMs)
  }

  private async run(): Promise<void> {
    const started = Date.now()
    try {
      await this.task()
    } catch (error) {
      this.onError(error)
    } finally {
      this.running = undefined
      const again = this.kicked
      this.kicked = false
      const wait = this.fixedRate ? Math.max(0, started + this.intervalMs - Date.now()) : this.intervalMs
      this.schedule(again ? 0 : wait)
    }
  }

  /** Stops the schedule and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }
}

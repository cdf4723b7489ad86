/**
 * Runs `tick` every `intervalMs`, measured from the end of the previous run, so runs never overlap. `tick` must
 * not reject (the controller records its errors itself).
 */
export class TickLoop {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private soon = false
  private stopped = false

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.schedule(0)
  }

  /** Runs the next tick now instead of at its scheduled time; during a tick, right after it. */
  runSoon(): void {
    if (this.stopped) return
    if (this.timer === null) {
      this.soon = true
      return
    }
    clearTimeout(this.timer)
    this.schedule(0)
  }

  /** No tick starts any more; resolves when the one running (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.tick().finally(() => {
        this.running = null
        const soon = this.soon
        this.soon = false
        this.schedule(soon ? 0 : this.intervalMs)
      })
    }, delayMs)
  }
}

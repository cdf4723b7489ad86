import type { Sibling } from '@ghostfleet/coordination'
import type { Logger } from '@ghostfleet/telemetry'

/**
 * The siblings the gateway routes to, read in the background every report interval, so a request only reads
 * memory. A failed read keeps the last list until it is older than `maxAgeMs` (siblings report every interval;
 * an old list names nodes that may have been pruned since), then the list is empty until Redis answers again.
 */
export class SiblingDirectory {
  private siblings: Sibling[] = []
  private readAt = 0
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private failing = false

  constructor(
    private readonly options: {
      read: () => Promise<Sibling[]>
      intervalMs: number
      maxAgeMs: number
      log: Logger
      now?: () => number
    },
  ) {}

  /** The siblings as last read; empty when the last good read is too old. */
  list(): readonly Sibling[] {
    const now = this.options.now?.() ?? Date.now()
    return now - this.readAt <= this.options.maxAgeMs ? this.siblings : []
  }

  start(): void {
    if (this.timer !== null) return
    void this.refresh()
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One read now (at most one at a time); resolves when it is done. */
  refresh(): Promise<void> {
    this.running ??= (async () => {
      try {
        this.siblings = await this.options.read()
        this.readAt = this.options.now?.() ?? Date.now()
        if (this.failing)
          this.options.log.info({ siblings: this.siblings.length }, 'gateway: siblings read again')
        this.failing = false
      } catch (error) {
        if (!this.failing) {
          this.options.log.warn(
            { err: error },
            'gateway: cannot read the siblings from Redis; routing keeps the last list while it is fresh',
          )
        }
        this.failing = true
      } finally {
        this.running = null
      }
    })()
    return this.running
  }
}

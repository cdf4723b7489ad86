/**
 * Polls one pool: one `getPool` call per interval, never two at once. The next poll is due one interval after
 * the previous one *started*; a poll that ran over (it may take up to the interval, its deadline) is followed
 * by the next one right away, not by a burst of catch-up polls.
 */
import type { KyveClient, PoolProgress } from '@ghostfleet/kyve'
import type { PoolRef } from './pool-ref.js'

export interface PoolPollerOptions {
  pool: PoolRef
  client: KyveClient
  intervalMs: number
  /** When the first poll is due (epoch ms); earlier values mean now. A new leader continues the old schedule. */
  firstPollAt?: number
  onProgress: (progress: PoolProgress) => void
  onError: (error: unknown) => void
  now?: () => number
}

export class PoolPoller {
  private readonly options: PoolPollerOptions
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private running = false
  private polls = 0

  constructor(options: PoolPollerOptions) {
    this.options = options
    this.now = options.now ?? Date.now
  }

  start(): void {
    const first = this.options.firstPollAt ?? 0
    this.schedule(Math.max(0, first - this.now()))
  }

  /** Stops polling. A poll in flight finishes in the background; its answer is dropped. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  /** Polls started so far. */
  count(): number {
    return this.polls
  }

  /** Whether a poll is in flight. */
  busy(): boolean {
    return this.running
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.poll(), delayMs)
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.running) return
    this.running = true
    this.polls += 1
    const started = this.now()
    try {
      const progress = await this.options.client.getPool(this.options.pool.poolId)
      if (!this.stopped) this.options.onProgress(progress)
    } catch (error) {
      if (!this.stopped) this.options.onError(error)
    } finally {
      this.running = false
      this.schedule(Math.max(0, started + this.options.intervalMs - this.now()))
    }
  }
}

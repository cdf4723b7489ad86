import type { Logger } from '@ghostfleet/telemetry'

/** One info line a minute with the numbers (supervysor logged them every tick); every other tick at debug. */
export class Heartbeat {
  private lastAt = 0

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 60_000,
  ) {}

  beat(now: number, fields: Record<string, unknown>, message: string): void {
    if (now - this.lastAt < this.everyMs) {
      this.log.debug(fields, message)
      return
    }
    this.lastAt = now
    this.log.info(fields, message)
  }
}

import type { StructuredLogger } from '@ghostfleet/core'

/**
 * At most one warning per kind per interval, with the number held back since the last one: a flood of forged
 * requests must not flood the log, but the first one must show up (it is how a wrong fleet key is noticed).
 */
export class WarnThrottle {
  private readonly lastAt = new Map<string, number>()
  private readonly held = new Map<string, number>()

  constructor(
    private readonly logger: StructuredLogger,
    private readonly intervalMs: number,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    const last = this.lastAt.get(kind)
    if (last !== undefined && nowMs - last < this.intervalMs) {
      this.held.set(kind, (this.held.get(kind) ?? 0) + 1)
      return
    }
    const suppressed = this.held.get(kind) ?? 0
    this.held.delete(kind)
    this.lastAt.set(kind, nowMs)
    this.logger.warn(suppressed === 0 ? fields : { ...fields, suppressed }, message)
  }
}

import { backoffDelay } from '@ghostfleet/core'

/**
 * After a failed ghost entry (the address book could not be stashed), ghost mode is not tried again before a
 * backoff of one minute, doubling per failure up to 30 minutes; a successful entry resets it.
 */
export class GhostEntryBackoff {
  private failures = 0
  private notBeforeAt = 0

  failed(now: number): void {
    this.notBeforeAt = now + backoffDelay(this.failures, { initialMs: 60_000, maxMs: 30 * 60_000 })
    this.failures++
  }

  succeeded(): void {
    this.failures = 0
    this.notBeforeAt = 0
  }

  /** Ghost mode is not tried before this time (epoch ms; 0 when it may be). */
  notBefore(): number {
    return this.notBeforeAt
  }
}

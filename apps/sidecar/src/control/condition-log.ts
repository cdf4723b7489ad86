import type { Logger } from '@ghostfleet/telemetry'

export interface ConditionReport {
  /** Logs repeats of a held condition at this level (none by default). */
  repeatLevel?: 'debug'
  /** What makes the condition the same (the message unless given: a detail that changes every tick is not). */
  key?: string
  /** Extra log fields. */
  fields?: Record<string, unknown>
}

/**
 * Logs a condition when it appears or changes, not every tick it holds: one entry per topic (`node`, `kyve`,
 * `prune-refusal`, …), cleared when the condition ends.
 */
export class ConditionLog {
  private readonly held = new Map<string, string>()

  constructor(private readonly log: Logger) {}

  report(
    topic: string,
    level: 'info' | 'warn' | 'error',
    message: string,
    options: ConditionReport = {},
  ): void {
    const key = options.key ?? message
    const previous = this.held.get(topic)
    this.held.set(topic, key)
    const fields = { topic, ...options.fields }
    if (previous !== key) this.log[level](fields, message)
    else if (options.repeatLevel !== undefined) this.log[options.repeatLevel](fields, message)
  }

  /** Ends the condition of `topic`; `recovered` is logged if it was held. */
  clear(topic: string, recovered?: string): void {
    if (!this.held.delete(topic)) return
    if (recovered !== undefined) this.log.info({ topic }, recovered)
  }
}

import { randomUUID } from 'node:crypto'

/** Where one report stands in its sidecar's sequence: the boot it came from and its number within that boot. */
export interface ReportPosition {
  bootId: string
  seq: number
}

/**
 * Numbers this process's reports so the tracker orders them by count, not by this host's wall clock: a clock
 * stepped back (NTP, a VM restored from a snapshot) would otherwise make every later report look older than one
 * stamped before the step, and the tracker would drop them all until real time caught up.
 *
 * A boot id is random per process: a restart starts a new sequence at 1, and the tracker takes a report of a
 * new boot as the current one. Nothing is persisted, so there is nothing to corrupt or lose.
 */
export class ReportSequence {
  readonly bootId: string
  private seq = 0

  constructor(bootId: string = randomUUID()) {
    this.bootId = bootId
  }

  /** The position of the next report (1 for the first). A report that fails to publish leaves a gap: fine. */
  next(): ReportPosition {
    this.seq += 1
    return { bootId: this.bootId, seq: this.seq }
  }
}

/** One recent error, for /status. */
export interface RecordedError {
  at: number
  where: 'node' | 'kyve' | 'mode-switch' | 'prune' | 'donation' | 'address-book' | 'node-start' | 'tick'
  message: string
}

/** The last `capacity` errors, oldest first: what /status shows of the sidecar's recent trouble. */
export class ErrorRing {
  private readonly entries: RecordedError[] = []

  constructor(
    private readonly now: () => number,
    private readonly capacity = 20,
  ) {}

  record(where: RecordedError['where'], error: unknown): void {
    this.push({ at: this.now(), where, message: error instanceof Error ? error.message : String(error) })
  }

  /** Adds `entry` unless it repeats the latest error of its `where`. */
  recordOnce(entry: RecordedError): void {
    if (this.entries.findLast((e) => e.where === entry.where)?.message !== entry.message) this.push(entry)
  }

  list(): RecordedError[] {
    return [...this.entries]
  }

  private push(entry: RecordedError): void {
    this.entries.push(entry)
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity)
  }
}

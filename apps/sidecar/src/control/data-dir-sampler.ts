/**
 * Measures the data directory now and then, in the background: the measurement is a walk over many files, so a
 * tick only starts one (never two at once), and not before `everyMs` passed since the last.
 */
export class DataDirSampler {
  private bytes: number | null = null
  private measuredAt: number | null = null
  private measuring: Promise<void> | null = null

  constructor(
    private readonly options: {
      measure: () => Promise<number>
      everyMs: number
      now: () => number
      onBytes: (bytes: number) => void
      onError: (error: unknown) => void
    },
  ) {}

  /** Starts a measurement if one is due. */
  sample(): void {
    const { options } = this
    if (this.measuring !== null) return
    if (this.measuredAt !== null && options.now() - this.measuredAt < options.everyMs) return
    this.measuring = options
      .measure()
      .then((bytes) => {
        this.bytes = bytes
        this.measuredAt = options.now()
        options.onBytes(bytes)
      })
      .catch((error) => {
        this.measuredAt = options.now()
        options.onError(error)
      })
      .finally(() => {
        this.measuring = null
      })
  }

  /** The size changed (a prune): the next tick measures again. */
  invalidate(): void {
    this.measuredAt = null
  }

  reading(): { bytes: number | null; measuredAt: number | null } {
    return { bytes: this.bytes, measuredAt: this.measuredAt }
  }
}

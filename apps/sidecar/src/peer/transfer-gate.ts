import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream'

/**
 * The separate budget of checkpoint file transfers on the peer listener. A transfer holds one of the listener's
 * request slots for as long as its file streams (seconds to minutes), where a sibling's RPC read holds one for
 * milliseconds: without a cap of their own, a new host's parallel downloads could take every slot and starve the
 * gateway's sibling path. So at most `maxTransfers` stream at once (more are answered 429 with Retry-After), and,
 * when configured, all of them together send at most `bytesPerSecond` (a shared token bucket).
 */
export interface TransferGateOptions {
  maxTransfers: number
  /** Null: no byte-rate cap. */
  bytesPerSecond: number | null
  now?: () => number
}

export class TransferGate {
  private active = 0
  private readonly bucket: ByteBucket | null

  constructor(private readonly options: TransferGateOptions) {
    this.bucket =
      options.bytesPerSecond === null ? null : new ByteBucket(options.bytesPerSecond, options.now ?? Date.now)
  }

  get inFlight(): number {
    return this.active
  }

  get limit(): number {
    return this.options.maxTransfers
  }

  /** A slot, released by calling the result (idempotent); null when every slot is taken. */
  tryAcquire(): (() => void) | null {
    if (this.active >= this.options.maxTransfers) return null
    this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      this.active--
    }
  }

  /** `source` paced by the byte-rate cap (as is without one); destroying the result destroys `source`. */
  pace(source: Readable): Readable {
    const bucket = this.bucket
    if (bucket === null) return source
    const paced = new Transform({
      // The chunk goes out at once and the next one waits for its bytes: the head (sent with the first chunk)
      // is never held back, and the average stays at the cap.
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        const waitMs = bucket.take(chunk.length)
        this.push(chunk)
        if (waitMs <= 0) callback()
        else setTimeout(callback, waitMs)
      },
    })
    pipeline(source, paced, () => undefined)
    return paced
  }
}

/** Bytes per second with a one-second burst; `take` says how long to wait before sending what it took. */
class ByteBucket {
  private available: number
  private updatedAt: number

  constructor(
    private readonly rate: number,
    private readonly now: () => number,
  ) {
    this.available = rate
    this.updatedAt = now()
  }

  take(bytes: number): number {
    const now = this.now()
    this.available = Math.min(this.rate, this.available + ((now - this.updatedAt) / 1000) * this.rate)
    this.updatedAt = now
    this.available -= bytes
    return this.available >= 0 ? 0 : Math.ceil((-this.available / this.rate) * 1000)
  }
}

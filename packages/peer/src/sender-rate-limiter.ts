/** The outcome of {@link SenderRateLimiter.take}: allowed, or refused with the wait until a token is back. */
export type RateVerdict = { allowed: true } | { allowed: false; retryAfterMs: number }

interface Bucket {
  tokens: number
  updatedAtMs: number
}

/**
 * One token bucket per authenticated sender: `burst` requests at once, refilled at `ratePerSecond`. Buckets are
 * kept for at most `maxSenders` senders, least recently seen forgotten first; a forgotten sender starts full
 * again, which is at most one extra burst, and only an authenticated sender can cause it.
 */
export class SenderRateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxSenders: number,
  ) {}

  /** Takes one token from `sender`'s bucket. */
  take(sender: string, nowMs: number): RateVerdict {
    const bucket = this.buckets.get(sender) ?? { tokens: this.burst, updatedAtMs: nowMs }
    // Re-inserting keeps the Map in least-recently-seen order, so the first key is the one to forget.
    this.buckets.delete(sender)
    const elapsedMs = Math.max(0, nowMs - bucket.updatedAtMs)
    bucket.tokens = Math.min(this.burst, bucket.tokens + (elapsedMs / 1000) * this.ratePerSecond)
    bucket.updatedAtMs = nowMs
    this.buckets.set(sender, bucket)
    if (this.buckets.size > this.maxSenders) {
      const oldest = this.buckets.keys().next()
      if (oldest.done !== true) this.buckets.delete(oldest.value)
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return { allowed: true }
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000) }
  }
}

/** The verdict on a nonce: seen for the first time (and now remembered), seen before, or no room to remember it. */
export type NonceVerdict = 'fresh' | 'replayed' | 'full'

/**
 * The nonces of accepted requests, each kept until its request's timestamp leaves the validity window, after
 * which the timestamp check alone refuses a replay. Memory is bounded by `maxEntries`: when full, a new nonce is
 * refused instead of evicting one that is still inside its window, because eviction would reopen that replay.
 *
 * Nonces are grouped by the second they expire in, so expiry drops whole groups without scanning entries.
 */
export class ReplayCache {
  private readonly groups = new Map<number, Set<string>>()
  private entries = 0

  constructor(private readonly maxEntries: number) {}

  /** Nonces remembered right now. */
  get size(): number {
    return this.entries
  }

  /**
   * Checks `nonce` and remembers it until `expiresAtMs` when it is fresh.
   * @param nowMs the current time, to forget nonces whose window has passed first.
   */
  check(nonce: string, expiresAtMs: number, nowMs: number): NonceVerdict {
    this.forgetExpired(nowMs)
    for (const group of this.groups.values()) if (group.has(nonce)) return 'replayed'
    if (this.entries >= this.maxEntries) return 'full'
    const second = Math.ceil(expiresAtMs / 1000)
    let group = this.groups.get(second)
    if (group === undefined) {
      group = new Set()
      this.groups.set(second, group)
    }
    group.add(nonce)
    this.entries++
    return 'fresh'
  }

  private forgetExpired(nowMs: number): void {
    for (const [second, group] of this.groups) {
      if (second * 1000 <= nowMs) {
        this.entries -= group.size
        this.groups.delete(second)
      }
    }
  }
}

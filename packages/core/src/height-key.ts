/**
 * KYVE pool keys as block heights.
 *
 * For the tendermint runtimes a pool key is a decimal block height, but the key is a free-form string on the
 * chain: state-sync pools use `"height/chunk"`, and a pool with no finalized bundle has `current_key == ""`.
 * Only a key that is exactly how the runtime writes a height (`String(height)`) is accepted, so anything odd
 * makes us refuse to prune instead of guessing:
 *
 * - `"0"`, `"1"`, `"22183520"`: heights.
 * - `""`: no key (callers map it to "pool height unknown").
 * - `"12a"`, `"-5"`, `"+5"`, `" 5"`, `"5.0"`, `"1e6"`, `"0x10"`, `"100/3"`: not heights.
 * - `"007"`: rejected. No runtime writes leading zeros; a key that has them came from something we do not
 *   understand, and a deferred prune costs nothing while a misread height can cost weeks of sync.
 * - Anything above `Number.MAX_SAFE_INTEGER`: rejected, because arithmetic on it would silently lose precision.
 */

const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/

/** The key as a block height, or `null` when it is not a canonical non-negative safe-integer decimal string. */
export function parseHeightKey(key: string): number | null {
  if (typeof key !== 'string' || !CANONICAL_DECIMAL.test(key)) return null
  const height = Number(key)
  return Number.isSafeInteger(height) ? height : null
}

/** Whether {@link parseHeightKey} accepts the key. */
export function isIntegerKey(key: string): boolean {
  return parseHeightKey(key) !== null
}

/**
 * Holder coverage of a pool's cache window: which members hold which heights the pool's protocol nodes will ask
 * for next. With the height-aware gateway a protocol node whose own node is down reads from a sibling that holds
 * the height, so the budget's question becomes "does someone still hold every height the pool needs", not only
 * "how many are down".
 *
 * The cache window: a KYVE protocol node caches the items from `current_key` up to
 * `current_key + bundle_proposal.bundle_size + max_bundle_size` (kyvejs `runCache.ts`). The fleet keeps
 * `max_bundle_size` but not the proposal's `bundle_size`, which never exceeds `max_bundle_size`, so the window
 * here is `2 × max_bundle_size` above the pool height: never shorter than the protocol's.
 */
import { describeValue } from './describe-value.js'

/** What one member's node holds: every height in [base, height] (`earliest_block_height` … latest). */
export interface Holding {
  id: string
  base: number
  height: number
}

/** Heights [from, to], both included. */
export interface HeightRange {
  from: number
  to: number
}

/** A {@link Holding} or window no caller should pass (negative, fractional, base above height, from above to). */
export class HolderCoverageError extends Error {
  override readonly name = 'HolderCoverageError'
}

/**
 * How many heights above the pool height its protocol nodes may ask for: `bundle_size + max_bundle_size`, with
 * `bundle_size` bounded by `max_bundle_size` (see the file comment).
 */
export function cacheWindowSize(maxBundleSize: number): number {
  if (!Number.isSafeInteger(maxBundleSize) || maxBundleSize < 1) {
    throw new HolderCoverageError(`maxBundleSize must be an integer ≥ 1, got ${describeValue(maxBundleSize)}`)
  }
  return 2 * maxBundleSize
}

/**
 * The heights of the cache window the fleet can hold: [poolHeight, poolHeight + window], cut at `tip`, the
 * highest height any member of the pool reported (down members included: a height only a crashed node had is a
 * height the fleet lost, not one that does not exist yet). Heights above every node's height are not produced
 * yet and nobody can hold them. The pool height itself always stays in the range, so a fleet whose every node is
 * behind the pool shows that nobody holds what the pool needs.
 *
 * @example
 * cacheWindow({ poolHeight: 1000, maxBundleSize: 100, tip: 1150 }) // → { from: 1000, to: 1150 }
 */
export function cacheWindow(input: { poolHeight: number; maxBundleSize: number; tip: number }): HeightRange {
  const { poolHeight, tip } = input
  checkHeight('poolHeight', poolHeight)
  checkHeight('tip', tip)
  const top = poolHeight + cacheWindowSize(input.maxBundleSize)
  return { from: poolHeight, to: Math.max(poolHeight, Math.min(top, tip)) }
}

/**
 * The fewest holders any one height of `window` has among `holdings` (0 when some height has none). Sweeps the
 * ends of the holdings instead of walking the heights, so a window of millions of heights costs what the
 * members cost.
 *
 * @example
 * minHolders({ from: 10, to: 20 }, [{ id: 'a', base: 1, height: 15 }, { id: 'b', base: 12, height: 30 }]) // → 1
 */
export function minHolders(window: HeightRange, holdings: readonly Holding[]): number {
  checkRange(window)
  // +1 where a holding starts covering, −1 one past where it stops, both clipped to the window.
  const deltas = new Map<number, number>()
  for (const holding of holdings) {
    checkHolding(holding)
    const from = Math.max(holding.base, window.from)
    const to = Math.min(holding.height, window.to)
    if (from > to) continue
    deltas.set(from, (deltas.get(from) ?? 0) + 1)
    deltas.set(to + 1, (deltas.get(to + 1) ?? 0) - 1)
  }
  if (!deltas.has(window.from)) deltas.set(window.from, 0)
  let count = 0
  let min = Number.POSITIVE_INFINITY
  for (const at of [...deltas.keys()].sort((a, b) => a - b)) {
    count += deltas.get(at) ?? 0
    if (at <= window.to) min = Math.min(min, count)
  }
  return min
}

/**
 * The heights of `window` that `holdings[leaving]` holds and nobody else in `holdings` does: what its going down
 * would leave without an available holder. Empty when it may go. Heights nobody holds already are not its
 * doing and are not reported.
 *
 * @example
 * soleHeldRanges({ from: 10, to: 20 }, [{ id: 'a', base: 1, height: 15 }, { id: 'b', base: 12, height: 30 }], 'a')
 * // → [{ from: 10, to: 11 }]
 */
export function soleHeldRanges(
  window: HeightRange,
  holdings: readonly Holding[],
  leaving: string,
): HeightRange[] {
  checkRange(window)
  const own = holdings.find((h) => h.id === leaving)
  if (own === undefined) return []
  checkHolding(own)
  const start = Math.max(own.base, window.from)
  const end = Math.min(own.height, window.to)
  if (start > end) return []
  // Walk the part of the window `leaving` holds, skipping over what the others cover; the gaps are sole-held.
  const others = holdings
    .filter((h) => h.id !== leaving)
    .map((h) => {
      checkHolding(h)
      return { from: Math.max(h.base, start), to: Math.min(h.height, end) }
    })
    .filter((r) => r.from <= r.to)
    .sort((a, b) => a.from - b.from)
  const gaps: HeightRange[] = []
  let next = start
  for (const range of others) {
    if (range.from > next) gaps.push({ from: next, to: range.from - 1 })
    next = Math.max(next, range.to + 1)
    if (next > end) break
  }
  if (next <= end) gaps.push({ from: next, to: end })
  return gaps
}

/** `a–b, c` for ranges in reasons; at most `max` shown. */
export function describeRanges(ranges: readonly HeightRange[], max = 3): string {
  const shown = ranges.slice(0, max).map((r) => (r.from === r.to ? `${r.from}` : `${r.from}–${r.to}`))
  return ranges.length > max ? `${shown.join(', ')}, +${ranges.length - max} more` : shown.join(', ')
}

function checkHeight(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HolderCoverageError(`${name} must be an integer ≥ 0, got ${describeValue(value)}`)
  }
}

function checkRange(range: HeightRange): void {
  checkHeight('window.from', range.from)
  checkHeight('window.to', range.to)
  if (range.from > range.to) {
    throw new HolderCoverageError(`window.from ${range.from} is above window.to ${range.to}`)
  }
}

function checkHolding(holding: Holding): void {
  checkHeight(`base of ${describeValue(holding.id)}`, holding.base)
  checkHeight(`height of ${describeValue(holding.id)}`, holding.height)
  if (holding.base > holding.height) {
    throw new HolderCoverageError(
      `member ${describeValue(holding.id)} has base ${holding.base} above height ${holding.height}`,
    )
  }
}

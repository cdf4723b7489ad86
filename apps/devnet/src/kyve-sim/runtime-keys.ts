import { createHash } from 'node:crypto'

/*
 * Pool keys per runtime: `@kyvejs/tendermint` and `-bsync` use decimal block
 * heights (`nextKey = key + 1`); `@kyvejs/tendermint-ssync` uses "height/chunkIndex" and moves to the next
 * snapshot (`height + interval`) after the last chunk (kyvejs `integrations/tendermint-ssync/src/runtime.ts`).
 */

/** The runtimes the simulator can imitate. */
export const RUNTIMES = [
  '@kyvejs/tendermint',
  '@kyvejs/tendermint-bsync',
  '@kyvejs/tendermint-ssync',
] as const

/** One of {@link RUNTIMES}. */
export type RuntimeName = (typeof RUNTIMES)[number]

/** The next bundle a pool can propose: keys `fromKey … toKey`, `size` data items. */
export interface KeyRange {
  fromKey: string
  toKey: string
  size: number
}

/** How one runtime's keys behave. */
export interface KeyScheme {
  /** Why `key` is not a key of this runtime, or null when it is one. */
  invalidReason(key: string): string | null
  /** kyvejs `runtime.nextKey`. */
  next(key: string): string
  /** The data-source block height a key needs (the block itself, or the snapshot height). */
  heightOf(key: string): number
  /** Negative when `a` comes before `b` in the pool's key sequence, 0 when equal, positive after. */
  compare(a: string, b: string): number
  /** How many keys `fromKey … toKey` spans (both included; 0 when `toKey` comes first). */
  count(fromKey: string, toKey: string): number
  /**
   * The bundle starting at `fromKey` with at most `maxSize` items whose data exists up to `maxHeight` and that
   * does not go beyond `endKey` ("" = no end); null when not even `fromKey` is available.
   */
  range(fromKey: string, maxSize: number, maxHeight: number, endKey: string): KeyRange | null
  /** `bundle_summary` of a bundle ending at `toKey`, as the runtime's `summarizeDataBundle` shapes it. */
  summary(poolId: string, toKey: string): string
  /** The key `by` heights below `key` (the `regress` fault), never below height 0. */
  lower(key: string, by: number): string
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/

function merkleRootSummary(poolId: string, toKey: string): string {
  const root = createHash('sha256').update(`merkle/${poolId}/${toKey}`).digest('hex')
  return JSON.stringify({ merkle_root: root })
}

const heightKeys: KeyScheme = {
  invalidReason(key) {
    if (!DECIMAL.test(key)) return `expected a decimal block height, got ${JSON.stringify(key)}`
    if (!Number.isSafeInteger(Number(key))) return `height ${key} is beyond what the simulator can count`
    return null
  },
  next: (key) => String(Number(key) + 1),
  heightOf: (key) => Number(key),
  compare: (a, b) => Number(a) - Number(b),
  count: (fromKey, toKey) => Math.max(0, Number(toKey) - Number(fromKey) + 1),
  range(fromKey, maxSize, maxHeight, endKey) {
    const from = Number(fromKey)
    let to = Math.min(from + maxSize - 1, maxHeight)
    if (endKey !== '' && DECIMAL.test(endKey)) to = Math.min(to, Number(endKey))
    if (to < from) return null
    return { fromKey, toKey: String(to), size: to - from + 1 }
  },
  summary: merkleRootSummary,
  lower: (key, by) => String(Math.max(0, Number(key) - by)),
}

/** `height/chunkIndex` keys of a state-sync pool taking a snapshot every `interval` blocks. */
function snapshotKeys(interval: number, chunks: number): KeyScheme {
  const split = (key: string): [number, number] => {
    const [height, chunk] = key.split('/')
    return [Number(height), Number(chunk)]
  }
  const scheme: KeyScheme = {
    invalidReason(key) {
      const parts = key.split('/')
      if (parts.length !== 2 || !parts.every((part) => DECIMAL.test(part))) {
        return `expected "height/chunkIndex", got ${JSON.stringify(key)}`
      }
      const [height, chunk] = split(key)
      if (!Number.isSafeInteger(height)) return `height ${height} is beyond what the simulator can count`
      if (chunk >= chunks) return `chunk index ${chunk} is not below the ${chunks} chunks per snapshot`
      if (height % interval !== 0)
        return `height ${height} is not a snapshot height (every ${interval} blocks)`
      return null
    },
    next(key) {
      const [height, chunk] = split(key)
      return chunk === chunks - 1 ? `${height + interval}/0` : `${height}/${chunk + 1}`
    },
    heightOf: (key) => split(key)[0],
    compare(a, b) {
      const [heightA, chunkA] = split(a)
      const [heightB, chunkB] = split(b)
      return heightA === heightB ? chunkA - chunkB : heightA - heightB
    },
    count(fromKey, toKey) {
      if (scheme.compare(fromKey, toKey) > 0) return 0
      // Snapshot heights are interval apart, so whole snapshots can be counted without walking them.
      const [fromHeight, fromChunk] = split(fromKey)
      const [toHeight, toChunk] = split(toKey)
      const snapshotsBetween = (toHeight - fromHeight) / interval
      return snapshotsBetween * chunks + toChunk - fromChunk + 1
    },
    range(fromKey, maxSize, maxHeight, endKey) {
      let toKey: string | null = null
      let size = 0
      for (let key = fromKey; size < maxSize && scheme.heightOf(key) <= maxHeight; key = scheme.next(key)) {
        toKey = key
        size++
        if (key === endKey) break
      }
      return toKey === null ? null : { fromKey, toKey, size }
    },
    // tendermint-ssync summarizeDataBundle: "height/format/chunkIndex/chunks"; Cosmos SDK snapshots are format 3.
    summary(_poolId, toKey) {
      const [height, chunk] = split(toKey)
      return `${height}/3/${chunk}/${chunks}`
    },
    lower(key, by) {
      const [height, chunk] = split(key)
      return `${Math.max(0, height - by)}/${chunk}`
    },
  }
  return scheme
}

/** Settings of a state-sync pool (`@kyvejs/tendermint-ssync`). */
export interface SnapshotSettings {
  /** Blocks between snapshots (the pool config's `interval`). */
  snapshotInterval: number
  /** Chunks per snapshot. */
  snapshotChunks: number
}

/** The key behaviour of `runtime`. */
export function keySchemeFor(runtime: RuntimeName, snapshots: SnapshotSettings): KeyScheme {
  return runtime === '@kyvejs/tendermint-ssync'
    ? snapshotKeys(snapshots.snapshotInterval, snapshots.snapshotChunks)
    : heightKeys
}

/** The pool's `start_key` when none is configured: block 1, or the first snapshot. */
export function defaultStartKey(runtime: RuntimeName, snapshots: SnapshotSettings): string {
  return runtime === '@kyvejs/tendermint-ssync' ? `${snapshots.snapshotInterval}/0` : '1'
}

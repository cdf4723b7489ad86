import { GatewayError, GrpcCode } from './grpc-status.js'
import { DEFAULT_PAGE_LIMIT, type PageRequest, uint64Key } from './query-params.js'

/*
 * The two pagination algorithms behind the list routes, reproduced with their quirks because clients page
 * through them:
 * - `/kyve/v1/bundles/{pool_id}`: KYVE's own `GetPaginatedFinalizedBundleQuery` (x/bundles/keeper/getters_bundles.go):
 *   `total` is always filled (last id + 1), `offset` is turned into a start key (reverse: `total - offset`, with
 *   uint64 wrap-around), and a reverse page's `next_key` is the key of its *last returned* bundle.
 * - `/kyve/query/v1beta1/pools`: the Cosmos SDK 0.50 `query.FilteredPaginate`: `total` only with `count_total`
 *   or without a limit, `next_key` = the first hit of the next page.
 * Store keys are 8-byte big-endian ids, compared bytewise like the KV store does.
 */

/** The answer of a paginated query. */
export interface Page<T> {
  items: T[]
  nextKey: Buffer | null
  total: bigint
}

const BOTH_GIVEN = 'invalid request, either offset or key is expected, got both'
const U64 = 1n << 64n

/** The smallest uint64 id whose 8-byte key is bytewise ≥ `key`. */
function firstIdAtOrAfter(key: Buffer): bigint {
  if (key.length <= 8) {
    const padded = Buffer.alloc(8)
    key.copy(padded)
    return padded.readBigUInt64BE()
  }
  // A longer key is greater than its own 8-byte prefix, which therefore comes before it.
  return key.subarray(0, 8).readBigUInt64BE() + 1n
}

/**
 * KYVE's finalized-bundle pagination over `bundles` (ids 0 … n − 1 in order).
 * @throws GatewayError (code Unknown, HTTP 500) when both offset and key are given, as the chain does.
 */
export function paginateBundles<T>(bundles: readonly T[], page: PageRequest): Page<T> {
  if (page.offset > 0n && page.key !== null) throw new GatewayError(GrpcCode.Unknown, BOTH_GIVEN)
  const limit = page.limit === 0n ? DEFAULT_PAGE_LIMIT : page.limit
  const total = BigInt(bundles.length)
  let key = page.key
  if (key === null || key.length === 0) {
    key = page.reverse ? uint64Key((total - page.offset + U64) % U64) : uint64Key(page.offset)
  }
  const boundary = firstIdAtOrAfter(key)
  const items: T[] = []
  let nextKey: Buffer | null = null
  if (page.reverse) {
    // ReverseIterator(nil, key): every id whose key is below `key`, newest first.
    let id = (boundary < total ? boundary : total) - 1n
    for (; BigInt(items.length) < limit && id >= 0n; id--) {
      items.push(bundles[Number(id)] as T)
      nextKey = uint64Key(id)
    }
    if (id < 0n) nextKey = null
  } else {
    let id = boundary
    for (; BigInt(items.length) < limit && id < total; id++) {
      items.push(bundles[Number(id)] as T)
      nextKey = uint64Key(id)
    }
    nextKey = id < total ? uint64Key(id) : null
  }
  return { items, nextKey, total }
}

/** One entry of a KV prefix store: its key and the decoded value. */
export interface StoreEntry<T> {
  key: Buffer
  value: T
}

/** The SDK's `getIterator`: keys from `start` up, or — reversed — from the first key ≥ `start` down. */
function iterate<T>(
  entries: readonly StoreEntry<T>[],
  start: Buffer | null,
  reverse: boolean,
): StoreEntry<T>[] {
  if (!reverse) return entries.filter((entry) => start === null || Buffer.compare(entry.key, start) >= 0)
  let end: Buffer | null = null
  if (start !== null) {
    const index = entries.findIndex((entry) => Buffer.compare(entry.key, start) >= 0)
    // The key after the first one ≥ start is the exclusive end; none (or no such key) means "from the top".
    if (index !== -1) end = entries[index + 1]?.key ?? null
  }
  return entries.filter((entry) => end === null || Buffer.compare(entry.key, end) < 0).reverse()
}

/**
 * Cosmos SDK 0.50 `query.FilteredPaginate` over `entries` (sorted by key), keeping the values `matches` accepts.
 * @throws GatewayError (code Internal, as the pools query wraps it) when both offset and key are given.
 */
export function filteredPaginate<T>(
  entries: readonly StoreEntry<T>[],
  page: PageRequest,
  matches: (value: T) => boolean,
): Page<T> {
  // initPageRequestDefaults: an empty key is no key; no limit means the default one and a counted total.
  const key = page.key !== null && page.key.length > 0 ? page.key : null
  const limit = page.limit === 0n ? DEFAULT_PAGE_LIMIT : page.limit
  const countTotal = page.limit === 0n ? true : page.countTotal
  if (page.offset > 0n && key !== null) throw new GatewayError(GrpcCode.Internal, BOTH_GIVEN)
  const items: T[] = []
  let nextKey: Buffer | null = null
  let hits = 0n
  const candidates = iterate(entries, key, page.reverse)
  if (key !== null) {
    for (const entry of candidates) {
      if (hits === limit) {
        nextKey = entry.key
        break
      }
      if (matches(entry.value)) {
        items.push(entry.value)
        hits++
      }
    }
    return { items, nextKey, total: 0n }
  }
  const end = (page.offset + limit) % U64
  for (const entry of candidates) {
    if (matches(entry.value)) {
      if (hits >= page.offset && hits < end) items.push(entry.value)
      hits++
    }
    if (hits === (end + 1n) % U64) {
      nextKey ??= entry.key
      if (!countTotal) break
    }
  }
  return { items, nextKey, total: countTotal ? hits : 0n }
}

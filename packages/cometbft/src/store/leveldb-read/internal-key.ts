/*
 * LevelDB's internal keys: the user key followed by 8 bytes, little-endian `sequence << 8 | type`
 * (type 0 = deletion, 1 = value). Ordered by user key ascending (bytewise: `leveldb.BytewiseComparator`), then
 * by sequence and type descending, so the newest version of a key comes first.
 */

export const TYPE_DELETION = 0
export const TYPE_VALUE = 1

/** The internal-key trailer length. */
export const TRAILER_BYTES = 8

/** The user-key part of an internal key (a view, not a copy). */
export function userKeyOf(ikey: Uint8Array): Uint8Array {
  return ikey.subarray(0, ikey.length - TRAILER_BYTES)
}

function bytewise(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** Compares two user keys bytewise. */
export function compareUserKeys(a: Uint8Array, b: Uint8Array): number {
  return bytewise(a, b)
}

/** The little-endian uint32 ending `from` bytes before the end of `ikey` (the trailer's high or low half). */
function trailerHalf(ikey: Uint8Array, from: number): number {
  const n = ikey.length - from
  return (
    (ikey[n + 3] as number) * 0x1000000 +
    ((ikey[n + 2] as number) << 16) +
    ((ikey[n + 1] as number) << 8) +
    (ikey[n] as number)
  )
}

/** Compares two internal keys (both at least 8 bytes long: callers check). */
export function compareInternalKeys(a: Uint8Array, b: Uint8Array): number {
  const byUser = bytewise(userKeyOf(a), userKeyOf(b))
  if (byUser !== 0) return byUser
  // Descending by (sequence << 8 | type): compare the high then the low 32 bits of the little-endian trailer.
  const ha = trailerHalf(a, 4)
  const hb = trailerHalf(b, 4)
  if (ha !== hb) return ha > hb ? -1 : 1
  const la = trailerHalf(a, 8)
  const lb = trailerHalf(b, 8)
  return la === lb ? 0 : la > lb ? -1 : 1
}

/** The sequence number and type of an internal key. */
export function parseTrailer(ikey: Uint8Array): { sequence: bigint; type: number } {
  const view = Buffer.from(ikey.buffer, ikey.byteOffset + ikey.length - TRAILER_BYTES, TRAILER_BYTES)
  const packed = view.readBigUInt64LE(0)
  return { sequence: packed >> 8n, type: Number(packed & 0xffn) }
}

/**
 * The internal key that sorts before every version of `userKey`: the maximum sequence number with the value
 * type (LevelDB's `kValueTypeForSeek`), so a seek to it lands on the newest version.
 */
export function seekKeyFor(userKey: Uint8Array): Buffer {
  const key = Buffer.alloc(userKey.length + TRAILER_BYTES)
  key.set(userKey, 0)
  key.writeBigUInt64LE((((1n << 56n) - 1n) << 8n) | BigInt(TYPE_VALUE), userKey.length)
  return key
}

/*
 * LevelDB's integer encodings: unsigned LEB128 varints (up to 64 bits) and little-endian fixed-width integers.
 * Readers return `null` instead of throwing on truncation so that callers can name the file in their error.
 */

/** A decoded varint and the number of bytes it took. */
export interface Varint {
  value: number
  length: number
}

/**
 * Reads an unsigned varint that must fit a JavaScript safe integer (lengths, file numbers, offsets, levels).
 * Returns null when it is truncated or larger than 2^53 - 1.
 */
export function readVarint(buf: Uint8Array, offset: number): Varint | null {
  let value = 0
  let multiplier = 1
  for (let i = 0; i < 10; i++) {
    const pos = offset + i
    if (pos >= buf.length) return null
    const byte = buf[pos] as number
    value += (byte & 0x7f) * multiplier
    if (byte < 0x80) return Number.isSafeInteger(value) ? { value, length: i + 1 } : null
    multiplier *= 128
  }
  return null
}

/** A decoded 64-bit varint (sequence numbers). */
export interface BigVarint {
  value: bigint
  length: number
}

/** Reads an unsigned 64-bit varint; null when truncated or longer than 10 bytes. */
export function readBigVarint(buf: Uint8Array, offset: number): BigVarint | null {
  let value = 0n
  let shift = 0n
  for (let i = 0; i < 10; i++) {
    const pos = offset + i
    if (pos >= buf.length) return null
    const byte = buf[pos] as number
    value |= BigInt(byte & 0x7f) << shift
    if (byte < 0x80) return { value: BigInt.asUintN(64, value), length: i + 1 }
    shift += 7n
  }
  return null
}

/** A byte range inside a table file (`BlockHandle`: offset and size, both varints). */
export interface BlockHandle {
  offset: number
  size: number
}

/** Decodes a `BlockHandle` at `offset`; null when it is truncated. */
export function readBlockHandle(
  buf: Uint8Array,
  offset: number,
): { handle: BlockHandle; length: number } | null {
  const off = readVarint(buf, offset)
  if (off === null) return null
  const size = readVarint(buf, offset + off.length)
  if (size === null) return null
  return { handle: { offset: off.value, size: size.value }, length: off.length + size.length }
}

/**
 * A small protobuf wire-format writer and reader, enough to produce the exact bytes gogoproto writes for the
 * CometBFT messages we store, and to read anything a real node wrote (unknown fields of every wire type are skipped).
 *
 * Why not protobufjs at runtime: its int64 handling goes through Long objects and its default-value emission differs
 * from gogoproto's for non-nullable embedded messages; the encoders here are written against gogoproto's rules:
 * fields in ascending field-number order, proto3 zero scalars omitted, non-nullable embedded messages always
 * emitted (possibly as a zero-length message), repeated elements always emitted.
 *
 * int64 values surface as `number`; anything outside ±Number.MAX_SAFE_INTEGER is rejected rather than rounded
 * (heights, sizes and powers never get there; a value that does is corruption or a message we do not understand).
 */
import { ProtoDecodeError, ProtoEncodeError } from './errors.js'

/** Wire types of the protobuf encoding. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const

const TWO_POW_32 = 0x1_0000_0000
const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

function checkInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new ProtoEncodeError(`${what}: ${value} is not a safe integer`)
  }
}

/**
 * Appends protobuf fields to a growing buffer. Scalar helpers follow proto3: a zero value is not written.
 * `finish()` returns exactly the written bytes.
 */
export class ProtoWriter {
  private buf: Uint8Array
  private pos = 0

  constructor(initialSize = 64) {
    // allocUnsafe: no zero-fill, small sizes come from Node's shared pool. Encoding a block creates dozens of
    // writers, so this dominates generation speed; every byte handed out by finish() has been written.
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  get length(): number {
    return this.pos
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + extra) size *= 2
    const next = Buffer.allocUnsafe(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  /** Writes an unsigned varint (0 ≤ value ≤ 2^53-1). */
  rawVarint(value: number): void {
    this.ensure(10)
    let v = value
    while (v >= 0x80) {
      // Division instead of bit shifts: JS bit operators truncate to 32 bits.
      this.buf[this.pos++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.pos++] = v
  }

  /** Writes a varint for a signed 64-bit value: negatives are 10-byte two's complement, as Go writes them. */
  rawSignedVarint(value: number): void {
    if (value >= 0) {
      this.rawVarint(value)
      return
    }
    this.ensure(10)
    let v = BigInt.asUintN(64, BigInt(value))
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buf[this.pos++] = Number(v)
  }

  tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType)
  }

  rawBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.pos)
    this.pos += bytes.length
  }

  /** int64 field (also used for int32: Go sign-extends negative int32 to 10 bytes too). */
  int64(field: number, value: number): void {
    checkInteger(value, `int64 field ${field}`)
    if (value === 0) return
    this.tag(field, WireType.Varint)
    this.rawSignedVarint(value)
  }

  int32(field: number, value: number): void {
    checkInteger(value, `int32 field ${field}`)
    if (value < -0x8000_0000 || value > 0x7fff_ffff) {
      throw new ProtoEncodeError(`int32 field ${field}: ${value} out of range`)
    }
    this.int64(field, value)
  }

  /** uint64 field, limited to safe integers. */
  uint64(field: number, value: number): void {
    checkInteger(value, `uint64 field ${field}`)
    if (value < 0) throw new ProtoEncodeError(`uint64 field ${field}: ${value} is negative`)
    if (value === 0) return
    this.tag(field, WireType.Varint)
    this.rawVarint(value)
  }

  uint32(field: number, value: number): void {
    checkInteger(value, `uint32 field ${field}`)
    if (value < 0 || value >= TWO_POW_32) {
      throw new ProtoEncodeError(`uint32 field ${field}: ${value} out of range`)
    }
    this.uint64(field, value)
  }

  /** Enum field (proto3 enums are int32 on the wire). */
  enumValue(field: number, value: number): void {
    this.int32(field, value)
  }

  bool(field: number, value: boolean): void {
    if (!value) return
    this.tag(field, WireType.Varint)
    this.rawVarint(1)
  }

  /** Singular bytes field: omitted when empty. */
  bytes(field: number, value: Uint8Array): void {
    if (value.length === 0) return
    this.lengthDelimited(field, value)
  }

  /** Singular string field: omitted when empty. */
  string(field: number, value: string): void {
    if (value.length === 0) return
    this.lengthDelimited(field, textEncoder.encode(value))
  }

  /** Always writes the field: repeated elements, embedded messages (present or non-nullable). */
  lengthDelimited(field: number, value: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited)
    this.rawVarint(value.length)
    this.rawBytes(value)
  }

  /** An element of a repeated string field (written even when empty, as Go does). */
  repeatedString(field: number, value: string): void {
    this.lengthDelimited(field, textEncoder.encode(value))
  }

  /** The written bytes (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }
}

/** A field header read by {@link ProtoReader.next}. */
export interface FieldTag {
  field: number
  wireType: number
}

/**
 * Reads protobuf fields from a buffer. Byte fields are returned as views into the input (no copy): callers that
 * keep them beyond the input's lifetime and mutate the input must copy.
 */
export class ProtoReader {
  private pos: number
  private readonly end: number

  constructor(
    private readonly buf: Uint8Array,
    private readonly what = 'message',
  ) {
    this.pos = 0
    this.end = buf.length
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  private fail(reason: string): never {
    throw new ProtoDecodeError(`${this.what}: ${reason} at offset ${this.pos}`)
  }

  /** Reads the next field header. */
  next(): FieldTag {
    const key = this.rawVarintUnsigned()
    const field = Math.floor(key / 8)
    const wireType = key % 8
    if (field === 0) this.fail('field number 0')
    if (wireType > 5) this.fail(`invalid wire type ${wireType}`)
    return { field, wireType }
  }

  /** Reads a varint as an unsigned 64-bit bigint. */
  private rawVarintBig(): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint')
      const b = this.buf[this.pos++]!
      result |= BigInt(b & 0x7f) << shift
      if (b < 0x80) {
        if (i === 9 && b > 1) this.fail('varint overflows 64 bits')
        return result
      }
      shift += 7n
    }
    this.fail('varint longer than 10 bytes')
  }

  /**
   * The fast path of the varint readers: the varint at the cursor if it ends within `maxBytes` bytes (at most 7,
   * 49 bits, computed in doubles exactly); otherwise null with the cursor unmoved, for the BigInt path.
   */
  private shortVarint(maxBytes: number): number | null {
    const start = this.pos
    let result = 0
    let mul = 1
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail('truncated varint')
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * mul
      if (b < 0x80) return result
      mul *= 0x80
    }
    this.pos = start
    return null
  }

  /** Reads an unsigned varint that must fit a safe integer. */
  rawVarintUnsigned(): number {
    const short = this.shortVarint(7)
    if (short !== null) return short
    const big = this.rawVarintBig()
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`value ${big} exceeds Number.MAX_SAFE_INTEGER`)
    return Number(big)
  }

  /** Reads a varint as a signed 64-bit integer (int64/int32 fields) that must fit a safe integer. */
  rawVarintSigned(): number {
    const short = this.shortVarint(7)
    if (short !== null) return short
    const big = BigInt.asIntN(64, this.rawVarintBig())
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`value ${big} is outside the safe integer range`)
    }
    return Number(big)
  }

  /** Low 32 bits of a varint, unsigned (what Go keeps for int32/uint32/enum fields). */
  private varintLow32(): number {
    const short = this.shortVarint(5)
    if (short !== null) return short % TWO_POW_32
    return Number(BigInt.asUintN(32, this.rawVarintBig()))
  }

  private expect(tag: FieldTag, wireType: number): void {
    if (tag.wireType !== wireType) {
      this.fail(`field ${tag.field} has wire type ${tag.wireType}, expected ${wireType}`)
    }
  }

  int64(tag: FieldTag): number {
    this.expect(tag, WireType.Varint)
    return this.rawVarintSigned()
  }

  int32(tag: FieldTag): number {
    this.expect(tag, WireType.Varint)
    // Go keeps the low 32 bits when decoding int32.
    const low = this.varintLow32()
    return low >= 0x8000_0000 ? low - TWO_POW_32 : low
  }

  uint64(tag: FieldTag): number {
    this.expect(tag, WireType.Varint)
    return this.rawVarintUnsigned()
  }

  uint32(tag: FieldTag): number {
    this.expect(tag, WireType.Varint)
    return this.varintLow32()
  }

  bool(tag: FieldTag): boolean {
    this.expect(tag, WireType.Varint)
    return this.rawVarintBig() !== 0n
  }

  enumValue(tag: FieldTag): number {
    return this.int32(tag)
  }

  bytes(tag: FieldTag): Uint8Array {
    this.expect(tag, WireType.LengthDelimited)
    const len = this.rawVarintUnsigned()
    if (len > this.end - this.pos) this.fail(`length ${len} runs past the end`)
    const view = new Uint8Array(this.buf.buffer, this.buf.byteOffset + this.pos, len)
    this.pos += len
    return view
  }

  string(tag: FieldTag): string {
    const b = this.bytes(tag)
    try {
      return textDecoder.decode(b)
    } catch {
      this.fail(`field ${tag.field} is not valid UTF-8`)
    }
  }

  /** Skips the value of a field we do not know (any wire type, including deprecated groups). */
  skip(tag: FieldTag): void {
    switch (tag.wireType) {
      case WireType.Varint:
        this.rawVarintBig()
        return
      case WireType.Fixed64:
        this.advance(8)
        return
      case WireType.LengthDelimited: {
        const len = this.rawVarintUnsigned()
        this.advance(len)
        return
      }
      case WireType.Fixed32:
        this.advance(4)
        return
      case WireType.StartGroup:
        for (;;) {
          if (this.done) this.fail(`unterminated group ${tag.field}`)
          const inner = this.next()
          if (inner.wireType === WireType.EndGroup) {
            if (inner.field !== tag.field) this.fail(`group ${tag.field} closed by ${inner.field}`)
            return
          }
          this.skip(inner)
        }
      default:
        this.fail(`unexpected wire type ${tag.wireType} for field ${tag.field}`)
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail(`skip of ${n} bytes runs past the end`)
    this.pos += n
  }
}

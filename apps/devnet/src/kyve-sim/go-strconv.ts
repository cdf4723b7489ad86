/*
 * The parsers the grpc-gateway (v1.16) uses for path and query parameters, with Go's exact semantics and error
 * texts, because those texts end up verbatim in the error bodies clients see:
 * `runtime.Uint64` = `strconv.ParseUint(s, 0, 64)` (base 0: "0x10", "0o17", "0b1", "017" and "1_000" are
 * accepted), `runtime.Bool` = `strconv.ParseBool`, `runtime.Bytes` = base64 std, then base64 URL.
 */

/** A Go `*strconv.NumError`, rendered the way `%v` prints it. */
export class GoNumError extends Error {
  constructor(
    readonly func: string,
    readonly input: string,
    readonly reason: 'invalid syntax' | 'value out of range',
  ) {
    super(`strconv.${func}: parsing ${goQuote(input)}: ${reason}`)
    this.name = 'GoNumError'
  }
}

/**
 * Go's `strconv.Quote` for the inputs that reach error messages. Printable ASCII and printable Unicode are kept;
 * control characters use Go's escapes. Close enough for every id a client sends; exact for ASCII.
 */
export function goQuote(text: string): string {
  let out = '"'
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    if (char === '"' || char === '\\') out += `\\${char}`
    else if (char === '\n') out += '\\n'
    else if (char === '\r') out += '\\r'
    else if (char === '\t') out += '\\t'
    else if (char === '\x07') out += '\\a'
    else if (char === '\b') out += '\\b'
    else if (char === '\f') out += '\\f'
    else if (char === '\v') out += '\\v'
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`
    else out += char
  }
  return `${out}"`
}

const U64_MAX = (1n << 64n) - 1n

/** Go's `underscoreOK`: underscores only between digits (or after a base prefix), never leading or trailing. */
function underscoreOk(input: string): boolean {
  // The class of the last character: '^' start, '0' digit or base prefix, '_' underscore, '!' anything else.
  let saw = '^'
  let text = input
  if (text.length >= 1 && (text[0] === '-' || text[0] === '+')) text = text.slice(1)
  let i = 0
  let hex = false
  const prefix = (text[1] ?? '').toLowerCase()
  if (text.length >= 2 && text[0] === '0' && (prefix === 'b' || prefix === 'o' || prefix === 'x')) {
    i = 2
    saw = '0'
    hex = prefix === 'x'
  }
  for (; i < text.length; i++) {
    const char = text[i] ?? ''
    const lower = char.toLowerCase()
    if ((char >= '0' && char <= '9') || (hex && lower >= 'a' && lower <= 'f')) {
      saw = '0'
      continue
    }
    if (char === '_') {
      if (saw !== '0') return false
      saw = '_'
      continue
    }
    if (saw === '_') return false
    saw = '!'
  }
  return saw !== '_'
}

/**
 * `strconv.ParseUint(text, base, bitSize)` for base 0 or 10. Returns a bigint so that every uint64 round-trips.
 * @throws GoNumError with Go's message.
 */
export function goParseUint(text: string, base: 0 | 10, bitSize: 32 | 64): bigint {
  const fail = (reason: 'invalid syntax' | 'value out of range') => new GoNumError('ParseUint', text, reason)
  if (text === '') throw fail('invalid syntax')
  let digits = text
  let radix = 10
  let allowUnderscores = false
  if (base === 0) {
    allowUnderscores = true
    if (text[0] === '0') {
      const prefix = (text[1] ?? '').toLowerCase()
      if (text.length >= 3 && prefix === 'b') {
        radix = 2
        digits = text.slice(2)
      } else if (text.length >= 3 && prefix === 'o') {
        radix = 8
        digits = text.slice(2)
      } else if (text.length >= 3 && prefix === 'x') {
        radix = 16
        digits = text.slice(2)
      } else {
        radix = 8
        digits = text.slice(1)
      }
    }
  }
  const max = bitSize === 64 ? U64_MAX : (1n << 32n) - 1n
  let value = 0n
  let sawUnderscore = false
  for (const char of digits) {
    if (char === '_' && allowUnderscores) {
      sawUnderscore = true
      continue
    }
    const digit = Number.parseInt(char, 36)
    if (Number.isNaN(digit) || digit >= radix) throw fail('invalid syntax')
    value = value * BigInt(radix) + BigInt(digit)
    if (value > max) throw fail('value out of range')
  }
  if (sawUnderscore && !underscoreOk(text)) throw fail('invalid syntax')
  return value
}

/** `strconv.ParseBool`. @throws GoNumError with Go's message. */
export function goParseBool(text: string): boolean {
  switch (text) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false
    default:
      throw new GoNumError('ParseBool', text, 'invalid syntax')
  }
}

/** Go's `base64.CorruptInputError` message. */
export class GoBase64Error extends Error {
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`)
    this.name = 'GoBase64Error'
  }
}

function decodeStrict(text: string, alphabet: string): Buffer {
  // Go's StdEncoding/URLEncoding require padding and reject characters outside the alphabet.
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? ''
    if (char === '=') {
      const rest = text.slice(i)
      if (!/^=+$/.test(rest) || text.length % 4 !== 0 || rest.length > 2) throw new GoBase64Error(i)
      break
    }
    if (!alphabet.includes(char)) throw new GoBase64Error(i)
  }
  if (text.length % 4 !== 0) throw new GoBase64Error(text.length - (text.length % 4))
  return Buffer.from(text, alphabet.endsWith('+/') ? 'base64' : 'base64url')
}

const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** grpc-gateway `runtime.Bytes`: standard base64, falling back to URL-safe base64 (both padded). */
export function goDecodeBytes(text: string): Buffer {
  try {
    return decodeStrict(text, STD)
  } catch {
    return decodeStrict(text, URL_SAFE)
  }
}

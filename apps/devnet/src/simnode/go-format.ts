/**
 * Byte-exact imitations of the two Go encoders whose output other tools parse: `time.Time` in RFC3339Nano
 * (trailing zeros of the fraction trimmed, no fraction when zero, always UTC `Z` here) and the standard
 * library's `json.MarshalIndent` (which escapes `<`, `>`, `&`, U+2028 and U+2029, unlike JSON.stringify).
 */

/** Go's zero `time.Time` as `encoding/json` writes it. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

const pad = (n: number, width: number) => String(n).padStart(width, '0')

/** RFC3339Nano of a UTC instant given as whole seconds since the Unix epoch plus nanoseconds. */
export function rfc3339Nano(seconds: bigint | number, nanos = 0): string {
  const secs = typeof seconds === 'bigint' ? Number(seconds) : seconds
  const whole = Math.floor(secs)
  const extraNanos = Math.round((secs - whole) * 1e9)
  const total = nanos + extraNanos
  const s = whole + Math.floor(total / 1e9)
  const ns = ((total % 1e9) + 1e9) % 1e9
  const d = new Date(s * 1000)
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  const fraction = ns === 0 ? '' : `.${pad(ns, 9).replace(/0+$/, '')}`
  return `${date}T${time}${fraction}Z`
}

/** RFC3339Nano of a JavaScript millisecond timestamp. */
export function rfc3339NanoFromMs(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  return rfc3339Nano(seconds, (ms - seconds * 1000) * 1e6)
}

/** `json.MarshalIndent(v, "", indent)` of Go's standard library, for plain JSON values. */
export function goMarshalIndent(value: unknown, indent: string): string {
  return goEscape(JSON.stringify(value, null, indent))
}

/** `json.Marshal(v)` of Go's standard library, for plain JSON values. */
export function goMarshal(value: unknown): string {
  return goEscape(JSON.stringify(value))
}

// These characters can only occur inside JSON strings, so replacing them everywhere is safe.
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * What a `Range` header asks of a representation of `size` bytes:
 * - `none`: no header, a unit other than bytes, several ranges, or text that is not a range: send it whole
 *   (RFC 9110 §14.2 lets a server ignore a Range it does not support);
 * - `partial`: bytes `start` to `end`, both inclusive, already clamped to the size;
 * - `unsatisfiable`: a well-formed single range that starts at or past the end (416).
 */
export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' }

const SINGLE_RANGE = /^bytes=(\d{0,16})-(\d{0,16})$/

/**
 * Parses a single byte range: `bytes=a-b`, `bytes=a-` or the suffix form `bytes=-n` (the last n bytes).
 *
 * @example
 * parseRange('bytes=0-99', 1000)   // → { kind: 'partial', start: 0, end: 99 }
 * parseRange('bytes=900-', 1000)   // → { kind: 'partial', start: 900, end: 999 }
 * parseRange('bytes=-10', 1000)    // → { kind: 'partial', start: 990, end: 999 }
 * parseRange('bytes=1000-', 1000)  // → { kind: 'unsatisfiable' }
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'none' }
  const match = SINGLE_RANGE.exec(header.trim())
  if (match === null) return { kind: 'none' }
  const first = match[1] ?? ''
  const last = match[2] ?? ''
  if (first === '' && last === '') return { kind: 'none' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  if (last !== '' && Number(last) < start) return { kind: 'none' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) }
}

/** `bytes a-b/size`, the Content-Range of a 206. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`
}

/**
 * Reads a `Content-Range: bytes a-b/size` header (`size` may be `*`); null when it is not one.
 */
export function parseContentRange(
  header: string | undefined,
): { start: number; end: number; size: number | null } | null {
  if (header === undefined) return null
  const match = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/.exec(header.trim())
  if (match === null) return null
  const start = Number(match[1])
  const end = Number(match[2])
  if (end < start) return null
  return { start, end, size: match[3] === '*' ? null : Number(match[3]) }
}

/**
 * Go's `time.ParseDuration`, written again for the fake (rather than imported from `src/`) so a bug in the
 * package's own validation cannot hide behind the same bug in the fake.
 */
const NANOS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
}

/** Nanoseconds, or an error message worded like Go's (`time: invalid duration "10"`). */
export function parseDuration(text: string): { nanos: number } | { error: string } {
  const invalid = { error: `time: invalid duration ${JSON.stringify(text)}` }
  let rest = text
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1
    rest = rest.slice(1)
  }
  if (rest === '0') return { nanos: 0 }
  if (rest === '') return invalid
  let total = 0
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)
    const whole = number?.[1] ?? ''
    const fraction = number?.[2] ?? ''
    if (number === null || (whole === '' && fraction === '')) return invalid
    rest = rest.slice(number[0].length)
    const unit = /^(ns|us|µs|μs|ms|s|m|h)/.exec(rest)
    if (unit === null) {
      return /^[^\d.]/.test(rest) || rest === ''
        ? {
            error: `time: ${rest === '' ? 'missing unit' : `unknown unit ${JSON.stringify(rest.replace(/[\d.].*$/, ''))}`} in duration ${JSON.stringify(text)}`,
          }
        : invalid
    }
    rest = rest.slice(unit[0].length)
    total += Number(`${whole || '0'}.${fraction || '0'}`) * (NANOS[unit[0]] ?? 0)
  }
  return { nanos: sign * total }
}

/** Nanoseconds as Go prints a `time.Duration` in JSON answers: `"10s"`, `"1m0s"`, `"250ms"`. */
export function formatDuration(nanos: number): string {
  if (nanos === 0) return '0s'
  if (nanos < 1e6) return `${nanos / 1e3}µs`
  if (nanos < 1e9) return `${nanos / 1e6}ms`
  const hours = Math.floor(nanos / 3600e9)
  const minutes = Math.floor((nanos % 3600e9) / 60e9)
  const seconds = (nanos % 60e9) / 1e9
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${minutes}m${seconds}s`
  return `${seconds}s`
}

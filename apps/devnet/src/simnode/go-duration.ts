const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
}

/** Parses a Go `time.Duration` string (`"3s"`, `"100ms"`, `"168h0m0s"`) to milliseconds; undefined if malformed. */
export function parseGoDuration(value: string): number | undefined {
  if (value === '0') return 0
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!
    consumed = re.lastIndex
  }
  return consumed === value.length && consumed > 0 ? total : undefined
}

/** Formats milliseconds the way Go prints a `time.Duration` (`0s`, `100ms`, `3s`, `168h0m0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${ms}ms`
  const totalSeconds = ms / 1000
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds - h * 3600 - m * 60
  if (h > 0) return `${h}h${m}m${s}s`
  if (m > 0) return `${m}m${s}s`
  return `${s}s`
}

/**
 * Go `time.ParseDuration` syntax, which is what Consul accepts for check `Interval`, `Timeout` and
 * `DeregisterCriticalServiceAfter` ("10s", "1m30s", "250ms"). Validating it here turns a typo into a config
 * error at startup instead of a 400 from the agent at registration time.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
}

const WHOLE = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g

/**
 * Milliseconds in a Go duration string, or `undefined` when the text is not one. `"0"` is the only unitless
 * value Go accepts.
 *
 * @example
 * parseGoDuration('1m30s') // → 90000
 * parseGoDuration('10')    // → undefined (Go requires a unit)
 */
export function parseGoDuration(text: string): number | undefined {
  if (typeof text !== 'string') return undefined
  if (text === '0' || text === '+0' || text === '-0') return 0
  if (!WHOLE.test(text)) return undefined
  let total = 0
  for (const match of text.matchAll(PART)) {
    const unit = UNIT_MS[match[2] ?? '']
    if (unit === undefined) return undefined
    total += Number(match[1]) * unit
  }
  return text.startsWith('-') ? -total : total
}

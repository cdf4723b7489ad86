import { redactUrl, redactUrlsIn } from './redact-url.js'

const MAX_SHOWN = 80

/**
 * A short, log-safe rendering of a value an operator got wrong: strings quoted (so `"12"` and `12` differ),
 * credentials in URLs masked (a bad `redisUrl` must not leak its password into logs), long values cut.
 */
export function describeValue(value: unknown): string {
  let text: string
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') text = JSON.stringify(redactString(value))
  else if (typeof value === 'bigint') text = `${value}`
  else if (typeof value === 'number' || typeof value === 'boolean' || value === null) text = String(value)
  else if (value instanceof Date)
    text = Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString()
  else if (Array.isArray(value)) text = `an array ${safeJson(value)}`
  else if (typeof value === 'object') text = `a table ${safeJson(value)}`
  else text = `a ${typeof value}`
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text
}

function safeJson(value: unknown): string {
  try {
    // Redacted value by value, before quoting: a password may contain a quote or a comma.
    return (
      JSON.stringify(value, (_key, inner: unknown) =>
        typeof inner === 'bigint' ? `${inner}` : typeof inner === 'string' ? redactString(inner) : inner,
      ) ?? ''
    )
  } catch {
    return ''
  }
}

/** A value that is one URL is redacted whole (its password may contain spaces); anything else as free text. */
function redactString(value: string): string {
  return /^\s*[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : redactUrlsIn(value)
}

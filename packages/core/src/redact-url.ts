/**
 * Credentials out of printed URLs. Every URL that reaches a log line, an error message, `/status`, the tracker's
 * `/v1/fleet` or a metric label goes through {@link redactUrl} (or {@link redactUrlsIn} for free text) first:
 * Redis URLs carry passwords (`redis://user:pw@host`), KYVE endpoints and Consul agents may carry basic-auth
 * userinfo or a `?token=`.
 *
 * Why the userinfo is found in the raw text and not only with `new URL()`: WHATWG URL parsing ends the authority
 * at the first `/`, `?` or `#`, so an operator's unencoded password containing one of them either makes the
 * URL unparsable or, worse, parses "successfully" as host + path (`redis://u:12/x@h` has host `u:12` and path
 * `/x@h`, no password at all) and would be printed in clear. Instead, everything between `//` and the LAST `@`
 * is userinfo (a password may contain `@`; a host cannot). Only the username (before the first `:`) is kept,
 * because it says which ACL user is in play; a userinfo without `:` is a bare token and is hidden whole.
 * What follows the `@` (host, port, path) is kept, so the message still says where the process connects;
 * query parameters whose name looks like a credential (`token`, `password`, `key`, …) lose their value.
 */

/** What replaces a secret. */
export const REDACTED = '***'

const SCHEME_AND_REST = /^(\s*[a-z][a-z0-9+.-]*:)\/\/(.*)$/is
/** Query parameter names that carry credentials (Consul `token`, signed URLs, API keys). */
const SECRET_PARAMETER = /token|pass|secret|key|auth|sig|credential/i
/** A URL inside free text: a scheme, `://`, and everything up to the next whitespace. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/\S*/gi

/**
 * `text` with its credentials replaced by `***`: `redis://user:***@10.0.0.5:6379`, `https://***@host/x`,
 * `http://host:8500/?token=***`. Text without `scheme://` is returned unchanged unless it contains an `@`
 * (then it may be userinfo without a scheme and only `***` is returned). Never throws.
 */
export function redactUrl(text: string): string {
  const value = String(text)
  const match = SCHEME_AND_REST.exec(value)
  if (match === null) return value.includes('@') ? REDACTED : value
  const scheme = match[1] ?? ''
  const rest = match[2] ?? ''
  const at = rest.lastIndexOf('@')
  if (at === -1) return `${scheme}//${redactQuery(rest)}`
  const userinfo = rest.slice(0, at)
  const colon = userinfo.indexOf(':')
  const shownUser = colon === -1 ? REDACTED : `${userinfo.slice(0, colon)}:${REDACTED}`
  return `${scheme}//${shownUser}@${redactQuery(rest.slice(at + 1))}`
}

/**
 * Every `scheme://…` in free text (an error message from a library, a JSON dump) redacted with
 * {@link redactUrl}. A URL ends at whitespace here, so a password containing a space is only safe in
 * {@link redactUrl}, which gets the whole URL.
 */
export function redactUrlsIn(text: string): string {
  return String(text).replace(URL_IN_TEXT, (url) => redactUrl(url))
}

/** `host:port/path?token=x#f` → `host:port/path?token=***#f`; the rest is kept as written. */
function redactQuery(hostAndRest: string): string {
  const question = hostAndRest.indexOf('?')
  if (question === -1) return hostAndRest
  const hash = hostAndRest.indexOf('#', question)
  const end = hash === -1 ? hostAndRest.length : hash
  const query = hostAndRest
    .slice(question + 1, end)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=')
      if (equals === -1) return pair
      return SECRET_PARAMETER.test(safeDecode(pair.slice(0, equals)))
        ? `${pair.slice(0, equals)}=${REDACTED}`
        : pair
    })
    .join('&')
  return `${hostAndRest.slice(0, question)}?${query}${hostAndRest.slice(end)}`
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

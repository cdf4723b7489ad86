import { redactUrl } from '@ghostfleet/core'
import { InvalidOptionsError } from './errors/invalid-options-error.js'

/** The environment variable holding the Redis URL when none is configured explicitly. */
export const REDIS_URL_ENV = 'GHOSTFLEET_REDIS_URL'

/** A `redis://` or `rediss://` URL, taken apart. */
export interface RedisUrl {
  /** True for `rediss://` (TLS). */
  tls: boolean
  host: string
  /** @default 6379 */
  port: number
  username?: string
  password?: string
  /** The database number from the path (`redis://host/2`). @default 0 */
  db: number
}

const PERCENT_ENCODE =
  'with special characters in the user name and password percent-encoded ' +
  '(/ → %2F, @ → %40, : → %3A, ? → %3F, # → %23, % → %25)'

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS).
 * @throws InvalidOptionsError saying what is wrong; the password is never repeated in the message.
 */
export function parseRedisUrl(text: string, source = 'Redis URL'): RedisUrl {
  const fail = (problem: string): never => {
    throw new InvalidOptionsError(source, [`${redactRedisUrl(text)}: ${problem}`])
  }
  if (typeof text !== 'string' || text.trim() === '') fail('is empty')
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    return fail(
      `is not a URL; expected redis://[user:password@]host:6379 or rediss://…:6380, ${PERCENT_ENCODE}`,
    )
  }
  // WHATWG URL ends the authority at the first "/", "?" or "#": `redis://u:12/x@h` parses as host "u:12" and
  // path "/x@h". An "@" past the authority means an unencoded password; say so without echoing any part of it.
  if (/@/.test(`${url.pathname}${url.search}${url.hash}`)) fail(PERCENT_ENCODE)
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    fail(`scheme "${url.protocol.replace(/:$/, '')}" is not supported; use redis:// or rediss:// (TLS)`)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') fail('has no host')
  const port = url.port === '' ? 6379 : Number(url.port)
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`port ${url.port} is not in 1–65535`)
  const path = url.pathname.replace(/^\//, '')
  let db = 0
  if (path !== '') {
    if (!/^(?:0|[1-9][0-9]{0,3})$/.test(path))
      fail(`database "${path}" is not a number (redis://host:6379/0)`)
    db = Number(path)
  }
  if (url.search !== '' || url.hash !== '') fail('query strings and fragments are not supported')
  const parsed: RedisUrl = { tls: url.protocol === 'rediss:', host, port, db }
  // A "%" not followed by two hex digits is kept by WHATWG URL but makes decodeURIComponent throw a URIError.
  if (url.username !== '')
    parsed.username = decodeOr(url.username, () => fail('the user name has a stray "%"; write it as %25'))
  if (url.password !== '')
    parsed.password = decodeOr(url.password, () => fail('the password has a stray "%"; write it as %25'))
  return parsed
}

function decodeOr(text: string, onError: () => never): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return onError()
  }
}

/**
 * The URL with its password replaced by `***`, for logs and error messages: `@ghostfleet/core`'s `redactUrl`
 * (userinfo up to the last `@`, so a password with `/`, `@`, `?` or `#` is hidden whole).
 */
export function redactRedisUrl(text: string): string {
  return redactUrl(text)
}

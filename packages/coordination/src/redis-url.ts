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
    return fail('is not a URL; expected redis://host:6379 or rediss://host:6380')
  }
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
  if (url.username !== '') parsed.username = decodeURIComponent(url.username)
  if (url.password !== '') parsed.password = decodeURIComponent(url.password)
  return parsed
}

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactRedisUrl(text: string): string {
  return String(text).replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i,
    (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':')
      return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`
    },
  )
}

/** `GHOSTFLEET_REDIS_URL` from `env`, or undefined when unset or blank. */
export function redisUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[REDIS_URL_ENV]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

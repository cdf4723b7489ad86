/**
 * Where a Ghostfleet process finds its local Consul agent: `--consul URL` or `GHOSTFLEET_CONSUL_URL`, and the ACL
 * token from `GHOSTFLEET_CONSUL_TOKEN`. Shared by the sidecar and the tracker so both accept and reject the same.
 */
import { ConfigError, redactUrl } from '@ghostfleet/core'
import { z } from 'zod'

export const CONSUL_URL_ENV = 'GHOSTFLEET_CONSUL_URL'
export const CONSUL_TOKEN_ENV = 'GHOSTFLEET_CONSUL_TOKEN'

/** A Consul flag or variable that cannot be used; nothing was started. */
export class ConsulSettingsError extends ConfigError {
  override readonly name = 'ConsulSettingsError'
}

export interface ConsulSettings {
  url: string
  token?: string
}

const consulUrlSchema = z.string().refine(
  (value) => {
    try {
      const url = new URL(value)
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.hostname !== '' &&
        url.port !== '' &&
        (url.pathname === '/' || url.pathname === '') &&
        url.search === '' &&
        url.username === ''
      )
    } catch {
      return false
    }
  },
  { error: 'expected the Consul agent as http(s)://host:port, e.g. http://127.0.0.1:8500' },
)
const consulTokenSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,512}$/, { error: 'expected an ACL token (printable ASCII, no spaces)' })

/**
 * `--consul` wins over `GHOSTFLEET_CONSUL_URL`; the token only comes from `GHOSTFLEET_CONSUL_TOKEN` (a flag would
 * show it in `ps`). Null: Consul is off.
 * @throws ConsulSettingsError naming the flag or variable and what was wrong.
 */
export function consulSettingsFrom(flag: string | undefined, env: NodeJS.ProcessEnv): ConsulSettings | null {
  const fromEnv = env[CONSUL_URL_ENV]
  const source =
    flag !== undefined ? '--consul' : fromEnv !== undefined && fromEnv !== '' ? CONSUL_URL_ENV : null
  const raw = flag ?? fromEnv
  if (source === null || raw === undefined) return null
  const url = consulUrlSchema.safeParse(raw)
  if (!url.success) {
    throw new ConsulSettingsError(
      // Redacted: an operator may have tried `http://token@host:8500`, which is refused, not echoed.
      `${source} ${JSON.stringify(redactUrl(raw))}: ${url.error.issues[0]?.message ?? 'invalid'}`,
    )
  }
  const settings: ConsulSettings = { url: url.data.replace(/\/$/, '') }
  const token = env[CONSUL_TOKEN_ENV]
  if (token !== undefined && token !== '') {
    const parsed = consulTokenSchema.safeParse(token)
    if (!parsed.success) {
      throw new ConsulSettingsError(`${CONSUL_TOKEN_ENV}: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
    }
    settings.token = parsed.data
  }
  return settings
}

import { readFileSync } from 'node:fs'
import os from 'node:os'
import {
  CoordinationError,
  FLEET_KEY_ENV,
  FleetKey,
  parseRedisUrl,
  redactRedisUrl,
} from '@ghostfleet/coordination'
import { ConfigError, type SidecarConfig } from '@ghostfleet/core'
import { isSidecarId, sidecarIdFromHostname } from './sidecar-id.js'

/** Fleet mode cannot start as configured (a bad `--redis` URL, a bad fleet key). Nothing was started. */
export class FleetConfigError extends ConfigError {
  override readonly name = 'FleetConfigError'
}

/** Everything fleet mode needs, resolved from the config, the environment and the `start` flags. */
export interface FleetSettings {
  redisUrl: string
  /** For logs and /status: the URL with its password hidden. */
  redisUrlRedacted: string
  /**
   * Per-sidecar ACL credentials given apart from the URL (`GHOSTFLEET_REDIS_USERNAME` / `fleet.redisUsername`,
   * `GHOSTFLEET_REDIS_PASSWORD` / `GHOSTFLEET_REDIS_PASSWORD_FILE` / `fleet.redisPasswordFile`), or null when the
   * URL carries them or none are used. Passed to `createRedis`, never logged: print {@link redisUser} instead.
   */
  redisCredentials: RedisCredentials | null
  /** The ACL user the sidecar logs in as (from the URL or the settings), for logs and /status; null: `default`. */
  redisUser: string | null
  sidecarId: string
  /** Where the id came from. */
  sidecarIdSource: 'config' | 'hostname'
  /** Verify desired states with this key (`GHOSTFLEET_FLEET_KEY`); null: signatures are not checked. */
  fleetKey: FleetKey | null
  reportIntervalMs: number
  trackerTimeoutMs: number
}

/** A Redis ACL user and its password. */
export interface RedisCredentials {
  username?: string
  password: string
}

/** The environment variables that carry per-sidecar Redis credentials. */
export const REDIS_USERNAME_ENV = 'GHOSTFLEET_REDIS_USERNAME'
export const REDIS_PASSWORD_ENV = 'GHOSTFLEET_REDIS_PASSWORD'
export const REDIS_PASSWORD_FILE_ENV = 'GHOSTFLEET_REDIS_PASSWORD_FILE'

export interface ResolveFleetInput {
  fleet: SidecarConfig['fleet']
  /** `start --redis URL`: wins over `GHOSTFLEET_REDIS_URL`, which wins over `fleet.redisUrl` (config loader). */
  redisFlag?: string | undefined
  env: NodeJS.ProcessEnv
  hostname?: () => string
}

/**
 * The fleet settings, or null when no Redis URL is configured (standalone: the sidecar decides alone).
 * @throws FleetConfigError naming the flag or variable that is wrong.
 */
export function resolveFleetSettings(input: ResolveFleetInput): FleetSettings | null {
  const flag = input.redisFlag?.trim()
  const redisUrl = flag ? flag : input.fleet.redisUrl
  if (redisUrl === undefined) return null
  let location: ReturnType<typeof parseRedisUrl>
  try {
    location = parseRedisUrl(redisUrl, flag ? '--redis' : 'fleet.redisUrl')
  } catch (error) {
    if (error instanceof CoordinationError) throw new FleetConfigError(error.message)
    throw error
  }
  const { env } = input
  const redisCredentials = resolveRedisCredentials(input.fleet, env)
  if (redisCredentials !== null && (location.username !== undefined || location.password !== undefined)) {
    throw new FleetConfigError(
      `the Redis URL (${redactRedisUrl(redisUrl)}) carries credentials and ${redisCredentials.from} gives them ` +
        'too: keep them in one place',
    )
  }
  let fleetKey: FleetKey | null
  try {
    const keyText = env[FLEET_KEY_ENV]
    fleetKey = keyText === undefined ? null : FleetKey.parse(keyText, FLEET_KEY_ENV)
  } catch (error) {
    if (error instanceof CoordinationError) throw new FleetConfigError(error.message)
    throw error
  }
  const configured = input.fleet.sidecarId
  let sidecarId: string
  let sidecarIdSource: FleetSettings['sidecarIdSource']
  if (configured !== undefined) {
    sidecarId = configured
    sidecarIdSource = 'config'
  } else {
    sidecarId = sidecarIdFromHostname((input.hostname ?? os.hostname)())
    sidecarIdSource = 'hostname'
  }
  if (!isSidecarId(sidecarId))
    throw new FleetConfigError(`fleet.sidecarId ${JSON.stringify(sidecarId)} is not valid`)
  return {
    redisUrl,
    redisUrlRedacted: redactRedisUrl(redisUrl),
    redisCredentials:
      redisCredentials === null
        ? null
        : {
            password: redisCredentials.password,
            ...(redisCredentials.username === undefined ? {} : { username: redisCredentials.username }),
          },
    redisUser: redisCredentials?.username ?? location.username ?? null,
    sidecarId,
    sidecarIdSource,
    fleetKey,
    reportIntervalMs: Math.max(1, Math.round(input.fleet.reportIntervalSeconds * 1000)),
    trackerTimeoutMs: Math.max(1, Math.round(input.fleet.trackerTimeoutSeconds * 1000)),
  }
}

/**
 * Credentials given apart from the URL: the environment wins over the config file, a password in the
 * environment over a password file. A systemd unit can hand the file over with `LoadCredential=` and point
 * `GHOSTFLEET_REDIS_PASSWORD_FILE` at `%d/redis-password`. The password itself never appears in an error.
 */
function resolveRedisCredentials(
  fleet: SidecarConfig['fleet'],
  env: NodeJS.ProcessEnv,
): (RedisCredentials & { from: string }) | null {
  const username = nonBlank(env[REDIS_USERNAME_ENV]) ?? fleet.redisUsername
  const usernameFrom =
    nonBlank(env[REDIS_USERNAME_ENV]) !== undefined ? REDIS_USERNAME_ENV : 'fleet.redisUsername'
  let password = env[REDIS_PASSWORD_ENV] === '' ? undefined : env[REDIS_PASSWORD_ENV]
  let passwordFrom = REDIS_PASSWORD_ENV
  if (password === undefined) {
    const fromEnv = nonBlank(env[REDIS_PASSWORD_FILE_ENV])
    const file = fromEnv ?? fleet.redisPasswordFile
    if (file !== undefined) {
      passwordFrom = fromEnv !== undefined ? REDIS_PASSWORD_FILE_ENV : 'fleet.redisPasswordFile'
      password = readPasswordFile(file, passwordFrom)
    }
  }
  if (password === undefined) {
    if (username !== undefined) {
      throw new FleetConfigError(
        `${usernameFrom} is set but no password is: set ${REDIS_PASSWORD_ENV}, ${REDIS_PASSWORD_FILE_ENV} or ` +
          'fleet.redisPasswordFile',
      )
    }
    return null
  }
  return {
    password,
    ...(username === undefined ? {} : { username }),
    from: username === undefined ? passwordFrom : `${usernameFrom} + ${passwordFrom}`,
  }
}

function readPasswordFile(file: string, from: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new FleetConfigError(`${from} ${JSON.stringify(file)}: cannot read the password file (${code})`)
  }
  // One trailing line break is what `echo … > file` and editors leave; it is not part of the password.
  const password = text.replace(/\r?\n$/, '')
  if (password === '')
    throw new FleetConfigError(`${from} ${JSON.stringify(file)}: the password file is empty`)
  return password
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

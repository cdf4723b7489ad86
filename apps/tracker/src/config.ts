/**
 * The tracker's settings, resolved once from the TOML file (if any), the environment and the `start` flags:
 * `GHOSTFLEET_REDIS_URL` overrides the file, `--redis` and `--listen` override both; then validated with
 * `trackerConfigSchema`. `--consul` wins over `GHOSTFLEET_CONSUL_URL`; `GHOSTFLEET_CONSUL_TOKEN` and
 * `GHOSTFLEET_FLEET_KEY` come only from the environment. A problem names the file, the key, flag or variable and
 * what was wrong (never a secret), and nothing starts.
 */
import { readFile } from 'node:fs/promises'
import { CoordinationError, FLEET_KEY_ENV, FleetKey, REDIS_URL_ENV } from '@ghostfleet/coordination'
import {
  ConfigError,
  parseWith,
  refreshSecondsSchema,
  type TrackerConfig,
  trackerConfigSchema,
} from '@ghostfleet/core'
import { type ConsulSettings, consulSettingsFrom } from '@ghostfleet/discovery'
import { parse as parseToml, TomlError } from 'smol-toml'
import { ConfigFileError, UsageError } from './errors.js'
import type { TrackerTiming } from './timing.js'
import { defaultTrackerId } from './tracker.js'

export interface ConfigSources {
  /** Path of a TOML file. */
  file?: string
  /** `--redis`. */
  redisUrl?: string
  /** `--listen`. */
  listen?: string
  env: NodeJS.ProcessEnv
}

/**
 * @throws ConfigFileError when the file cannot be read or is not TOML.
 * @throws ValidationError (from `@ghostfleet/core`) naming every invalid key.
 */
export async function loadTrackerConfig(sources: ConfigSources): Promise<TrackerConfig> {
  const { env } = sources
  let raw: Record<string, unknown> = {}
  if (sources.file !== undefined) {
    let text: string
    try {
      text = await readFile(sources.file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new ConfigFileError(`${sources.file}: cannot read the config file (${code ?? String(error)})`)
    }
    try {
      raw = parseToml(text) as Record<string, unknown>
    } catch (error) {
      if (error instanceof TomlError) {
        throw new ConfigFileError(
          `${sources.file}:${error.line}:${error.column}: not valid TOML: ${error.message.split('\n')[0]}`,
        )
      }
      throw error
    }
  }
  const applied: string[] = []
  const merged: Record<string, unknown> = { ...raw }
  const fromEnv = env[REDIS_URL_ENV]
  if (fromEnv !== undefined && fromEnv !== '') {
    merged['redisUrl'] = fromEnv
    applied.push(REDIS_URL_ENV)
  }
  if (sources.redisUrl !== undefined) {
    merged['redisUrl'] = sources.redisUrl
    applied.push('--redis')
  }
  if (sources.listen !== undefined) {
    merged['listen'] = sources.listen
    applied.push('--listen')
  }
  const source =
    (sources.file ?? 'tracker config') + (applied.length > 0 ? ` (with ${applied.join(', ')})` : '')
  return parseWith(trackerConfigSchema, merged, source)
}

/** The flags of `ghostfleet-tracker start`, as typed. */
export interface StartFlags {
  redis?: string
  config?: string
  listen?: string
  id?: string
  logLevel?: string
  /** Seconds between re-issues of unchanged desired states; 0 turns them off. */
  refreshSeconds?: string
  /** Consul agent URL (else `GHOSTFLEET_CONSUL_URL`). */
  consul?: string
}

/** The config (file, environment and flags) as the tracker's parts take it: every duration in ms. */
export type ResolvedTrackerConfig = ReturnType<typeof resolveTrackerConfig>

const SECOND_MS = 1_000
const HOUR_MS = 3_600_000

/** The one place the file's seconds and hours become milliseconds. */
export function resolveTrackerConfig(config: TrackerConfig) {
  const { pollIntervalSeconds, maxPoolAgeSeconds, defaults, pools, bootstrap, ...rest } = config
  const { pruningIntervalHours, ...poolDefaults } = defaults
  return {
    ...rest,
    pollIntervalMs: pollIntervalSeconds * SECOND_MS,
    /** A pool height older than this is not used for pruning decisions. */
    maxPoolAgeMs: maxPoolAgeSeconds * SECOND_MS,
    defaults: { ...poolDefaults, pruningIntervalMs: pruningIntervalHours * HOUR_MS },
    /** A bootstrap request not ready this long after it was made expires. */
    bootstrap: { requestTtlMs: Math.round(bootstrap.requestTtlSeconds * SECOND_MS) },
    pools: pools.map(({ pruningIntervalHours: hours, ...pool }) => ({
      ...pool,
      pruningIntervalMs: hours === undefined ? undefined : hours * HOUR_MS,
    })),
  }
}

/** Everything `Tracker.start` takes besides the logger. */
export interface TrackerSettings {
  config: ResolvedTrackerConfig
  id: string
  /** Signs desired states; null: unsigned. */
  fleetKey: FleetKey | null
  consul: ConsulSettings | null
  timing: Partial<TrackerTiming>
}

const ID = /^[A-Za-z0-9._-]{1,64}$/

/** @throws ConfigError (or a subclass) naming the file, key, flag or variable that is wrong. */
export async function resolveTrackerSettings(
  flags: StartFlags,
  env: NodeJS.ProcessEnv,
): Promise<TrackerSettings> {
  if (flags.id !== undefined && !ID.test(flags.id)) {
    throw new UsageError(`--id ${JSON.stringify(flags.id)}: expected 1–64 characters from A-Z a-z 0-9 . _ -`)
  }
  const config = await loadTrackerConfig({
    ...(flags.config === undefined ? {} : { file: flags.config }),
    ...(flags.redis === undefined ? {} : { redisUrl: flags.redis }),
    ...(flags.listen === undefined ? {} : { listen: flags.listen }),
    env,
  })
  const timing: Partial<TrackerTiming> = {}
  if (flags.refreshSeconds !== undefined) {
    // Bounded like every config duration.
    const seconds = parseWith(refreshSecondsSchema(), flags.refreshSeconds, '--refresh-seconds')
    timing.refreshIntervalMs = Math.round(seconds * SECOND_MS)
  }
  const consul = consulSettingsFrom(flags.consul, env)
  let fleetKey: FleetKey | null
  try {
    const keyText = env[FLEET_KEY_ENV]
    fleetKey = keyText === undefined ? null : FleetKey.parse(keyText, FLEET_KEY_ENV)
  } catch (error) {
    if (error instanceof CoordinationError) throw new ConfigError(error.message)
    throw error
  }
  if (config.peer.listen !== undefined && fleetKey === null) {
    throw new ConfigError(
      `[peer] listen is set but ${FLEET_KEY_ENV} is not: the tracker's peer listener authenticates every request with the fleet key`,
    )
  }
  return {
    config: resolveTrackerConfig(config),
    id: flags.id ?? defaultTrackerId(),
    fleetKey,
    consul,
    timing,
  }
}

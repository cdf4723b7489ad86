/**
 * Loads the tracker config: the TOML file (if any), then `GHOSTFLEET_REDIS_URL`, then the command-line flags,
 * each overriding the one before; then validated with `trackerConfigSchema`. A problem names the file, the key
 * and what was wrong, and nothing starts.
 */
import { readFile } from 'node:fs/promises'
import { REDIS_URL_ENV } from '@ghostfleet/coordination'
import { parseWith, type TrackerConfig, trackerConfigSchema } from '@ghostfleet/core'
import { parse as parseToml, TomlError } from 'smol-toml'
import { ConfigFileError } from './errors.js'

export interface ConfigSources {
  /** Path of a TOML file. */
  file?: string
  /** `--redis`. */
  redisUrl?: string
  /** `--listen`. */
  listen?: string
  env?: NodeJS.ProcessEnv
}

/**
 * @throws ConfigFileError when the file cannot be read or is not TOML.
 * @throws ValidationError (from `@ghostfleet/core`) naming every invalid key.
 */
export async function loadTrackerConfig(sources: ConfigSources): Promise<TrackerConfig> {
  const env = sources.env ?? process.env
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

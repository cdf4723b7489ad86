/** Errors of the tracker app. Each one is an operator-facing message; none carries a stack worth printing. */
import { ConfigError } from '@ghostfleet/core'

/** The config file could not be read or is not valid TOML. The message names the file. */
export class ConfigFileError extends ConfigError {
  override readonly name = 'ConfigFileError'
}

/** `ghostfleet tracker status` could not get a usable answer from the tracker. */
export class TrackerStatusError extends Error {
  override readonly name = 'TrackerStatusError'
}

/** A command-line value that is not usable (a bad id, a bad number). */
export class UsageError extends ConfigError {
  override readonly name = 'UsageError'
}

/**
 * The base of every error that means "the configuration cannot be used": a config file, a flag or an environment
 * variable. Nothing was started when one escapes, and `runUntilSignal` exits with `EXIT_CODES.config` for it, so
 * a service manager does not restart a process that would fail the same way again.
 */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError'
}

import os from 'node:os'
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino'
import pretty from 'pino-pretty'

export type { Logger }

/** A pino level name; `silent` turns logging off. */
export type LogLevel = LevelWithSilent

/** Every level {@link createLogger} accepts, most severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** The environment variable the binaries take the level from when no flag gives it ({@link logLevelFrom}). */
export const LOG_LEVEL_ENV = 'GHOSTFLEET_LOG_LEVEL'

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** The service writing the logs (`ghostfleet-sidecar`, …); every line carries it as `service`. */
  name: string
  /** Case-insensitive. @default info */
  level?: string
  /** Where `level` came from, for the error that rejects it (a flag, a variable). @default "createLogger level" */
  levelSource?: string
  /** Human-readable lines instead of JSON. Defaults to true when writing to stdout and stdout is a TTY. */
  pretty?: boolean
  /** Where lines go. Defaults to stdout. */
  destination?: DestinationStream
}

/** A log level that pino does not know, from an option or the environment. Nothing was created. */
export class LogLevelError extends Error {
  override readonly name = 'LogLevelError'

  constructor(value: string, source: string) {
    super(`${source}: ${JSON.stringify(value)} is not a log level; use one of ${LOG_LEVELS.join(', ')}`)
  }
}

/**
 * Creates the process logger: pino JSON lines with `service: name` on every line, or pino-pretty output.
 *
 * Both outputs write synchronously (a sync SonicBoom on stdout, pino-pretty as an in-process stream rather
 * than a worker transport), so the line logged just before a crash or `process.exit()` is not lost. Log
 * volume here is a few lines per tick, far below the point where sync writes cost anything.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (options.name.trim() === '') throw new TypeError('createLogger: name must not be empty')
  const level = resolveLevel(options.level ?? 'info', options.levelSource ?? 'createLogger level')
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true)
  const loggerOptions = {
    level,
    // pid and hostname are pino's defaults; overriding `base` would drop them, and the hostname is what
    // tells one sidecar's lines from another's once a log shipper merges the fleet.
    base: { service: options.name, pid: process.pid, hostname: os.hostname() },
  }
  return pino(loggerOptions, usePretty ? prettyStream(options.destination) : jsonStream(options.destination))
}

/**
 * The level a binary runs at: its flag when given, else `GHOSTFLEET_LOG_LEVEL` from `env` when set, else the
 * default; with the source named for {@link LogLevelError}. Spread it into {@link createLogger}'s options.
 */
export function logLevelFrom(input: {
  flag?: string | undefined
  flagName?: string
  env: NodeJS.ProcessEnv
}): Pick<LoggerOptions, 'level' | 'levelSource'> {
  if (input.flag !== undefined)
    return { level: input.flag, levelSource: input.flagName ?? 'createLogger level' }
  const fromEnv = input.env[LOG_LEVEL_ENV]
  return fromEnv === undefined || fromEnv.trim() === '' ? {} : { level: fromEnv, levelSource: LOG_LEVEL_ENV }
}

function resolveLevel(value: string, source: string): LogLevel {
  const normalized = value.trim().toLowerCase()
  const level = LOG_LEVELS.find((candidate) => candidate === normalized)
  if (level === undefined) throw new LogLevelError(value, source)
  return level
}

function jsonStream(destination: DestinationStream | undefined): DestinationStream {
  return destination ?? pino.destination({ dest: 1, sync: true })
}

function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return pretty({
    sync: true,
    destination: destination ?? 1,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:standard',
    ignore: 'pid,hostname',
  })
}

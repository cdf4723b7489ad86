import { z } from 'zod'

/**
 * The logging surface the libraries need: pino's `logger.warn({ ...fields }, 'message')` shape, so a pino logger
 * (from `@ghostfleet/telemetry`) can be passed as is, without the libraries depending on pino.
 */
export interface StructuredLogger {
  debug(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/** A zod field for a logger option: anything with the four methods above (a pino logger passes as is). */
export function loggerOption() {
  return z.custom<StructuredLogger>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      ['debug', 'info', 'warn', 'error'].every(
        (level) => typeof (value as Record<string, unknown>)[level] === 'function',
      ),
    { error: 'expected a logger with debug, info, warn and error methods (a pino logger)' },
  )
}

const ignore = (): void => {}

/** The default logger: drops everything. Callers inject a real one. */
export const silentLogger: StructuredLogger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
})

/** A loggable description of a caught value (errors keep their name and message, not their stack). */
export function errorFields(error: unknown): { err: string } {
  if (error instanceof Error) return { err: `${error.name}: ${error.message}` }
  return { err: String(error) }
}

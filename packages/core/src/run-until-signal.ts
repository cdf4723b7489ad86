import { ConfigError } from './settings/config-error.js'

/**
 * The exit codes of `ghostfleet-sidecar start` and `ghostfleet-tracker start`, one table for both binaries:
 * - `ok` (0): stopped cleanly after SIGTERM/SIGINT.
 * - `fatal` (1): could not start for another reason than the configuration (a port taken, a node home missing),
 *   failed while running, or did not stop cleanly (the stop failed, overran its deadline, or a second signal cut
 *   it short). A service manager restarts on it.
 * - `config` (2): a configuration problem (a {@link ConfigError}); nothing was started. Restarting cannot help,
 *   so the systemd units list it in `RestartPreventExitStatus`.
 */
export const EXIT_CODES = { ok: 0, fatal: 1, config: 2 } as const
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** A long-running part of a binary: started once, stopped once. */
export interface Service {
  /** Builds and starts everything; on a throw, `stop` is still called to undo what was started. */
  start(): Promise<void>
  /** Stops what `start` started, in reverse order. Called once, also after a failed `start`. */
  stop(): Promise<void>
  /** Settles when the service fails on its own while running (it has logged why); the run then stops it. */
  readonly failed?: Promise<Error>
}

/** The few logger calls the run makes (a pino logger fits). */
export interface RunLogger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
  fatal(fields: object, message: string): void
}

export interface RunOptions {
  /** The binary's name, in front of a start error on stderr. */
  name: string
  logger: RunLogger
  /** A stop that takes longer is cut short with `EXIT_CODES.fatal`. @default no deadline */
  stopDeadlineMs?: number
  /** Where a start error is printed besides the log (an operator at a terminal reads stderr). */
  stderr?: (line: string) => void
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Starts the service and runs it until SIGTERM or SIGINT (or its own failure), then stops it; resolves with the
 * exit code from {@link EXIT_CODES}. A second signal during the stop exits at once.
 */
export async function runUntilSignal(service: Service, options: RunOptions): Promise<ExitCode> {
  const { logger } = options
  const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`))
  let stopRequested: (reason: string) => void = () => {}
  let exitNow: (code: ExitCode) => void = () => {}
  const stopRequest = new Promise<string>((resolve) => {
    stopRequested = resolve
  })
  const forced = new Promise<ExitCode>((resolve) => {
    exitNow = resolve
  })
  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals === 1) stopRequested(signal)
    else {
      logger.warn({ signal }, 'second signal: exiting without finishing the shutdown')
      exitNow(EXIT_CODES.fatal)
    }
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    const started = service.start().then(
      () => ({ failed: false as const }),
      (error: unknown) => ({ failed: true as const, error }),
    )
    const start = await Promise.race([started, forced])
    if (typeof start === 'number') return start
    if (start.failed) {
      const { error } = start
      const config = error instanceof ConfigError
      logger.fatal(
        { err: messageOf(error) },
        config ? 'configuration problem: not starting' : 'could not start',
      )
      stderr(`${options.name}: ${messageOf(error)}`)
      await service.stop().catch((stopError: unknown) => {
        logger.error({ err: messageOf(stopError) }, 'could not undo the partial start')
      })
      return config ? EXIT_CODES.config : EXIT_CODES.fatal
    }
    const outcome = await Promise.race([
      stopRequest.then((reason) => ({ reason, code: EXIT_CODES.ok })),
      (service.failed ?? new Promise<never>(() => {})).then(() => ({
        reason: 'fatal error',
        code: EXIT_CODES.fatal,
      })),
    ])
    logger.info({ reason: outcome.reason }, 'stopping')
    return await Promise.race([forced, stopWithin(service, outcome.code, options)])
  } finally {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}

async function stopWithin(service: Service, code: ExitCode, options: RunOptions): Promise<ExitCode> {
  const { logger, stopDeadlineMs } = options
  let deadline: NodeJS.Timeout | undefined
  const overdue = new Promise<ExitCode>((resolve) => {
    if (stopDeadlineMs === undefined) return
    deadline = setTimeout(() => {
      logger.error({ deadlineMs: stopDeadlineMs }, 'shutdown took too long; exiting')
      resolve(EXIT_CODES.fatal)
    }, stopDeadlineMs)
    deadline.unref()
  })
  const stopped = service.stop().then(
    () => code,
    (error: unknown) => {
      logger.error({ err: messageOf(error) }, 'shutdown failed')
      return EXIT_CODES.fatal
    },
  )
  const exitCode = await Promise.race([stopped, overdue])
  clearTimeout(deadline)
  logger.info({ exitCode }, 'stopped')
  return exitCode
}

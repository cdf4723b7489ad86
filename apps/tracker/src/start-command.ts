/**
 * `ghostfleet-tracker start`: the settings, then the tracker until SIGTERM/SIGINT, which stops it gracefully
 * (polls stopped, lease released, Redis closed). Exit codes: `EXIT_CODES` of `@ghostfleet/core`.
 */
import { EXIT_CODES, type ExitCode, runUntilSignal } from '@ghostfleet/core'
import { createLogger, type Logger, logLevelFrom } from '@ghostfleet/telemetry'
import { resolveTrackerSettings, type StartFlags } from './config.js'
import { Tracker } from './tracker.js'

export type { StartFlags } from './config.js'

/** A graceful stop that takes longer than this is cut short rather than hanging the service manager. */
const STOP_DEADLINE_MS = 30_000

/** Runs the tracker; resolves with the exit code once it has stopped. */
export async function runStart(flags: StartFlags): Promise<ExitCode> {
  let logger: Logger
  try {
    logger = createLogger({
      name: 'ghostfleet-tracker',
      ...logLevelFrom({ flag: flags.logLevel, flagName: '--log-level', env: process.env }),
    })
  } catch (error) {
    // Only a log level can be wrong here.
    process.stderr.write(`ghostfleet tracker: ${error instanceof Error ? error.message : String(error)}\n`)
    return EXIT_CODES.config
  }
  let tracker: Tracker | null = null
  const service = {
    start: async () => {
      const settings = await resolveTrackerSettings(flags, process.env)
      tracker = await Tracker.start({ ...settings, logger })
      logger.info(
        {
          id: tracker.id,
          url: tracker.url,
          signing: settings.fleetKey !== null,
          consul: settings.consul?.url ?? null,
          pollIntervalSeconds: settings.config.pollIntervalMs / 1000,
        },
        'tracker started',
      )
    },
    stop: async () => await tracker?.stop(),
  }
  return await runUntilSignal(service, {
    name: 'ghostfleet-tracker',
    logger,
    stopDeadlineMs: STOP_DEADLINE_MS,
  })
}

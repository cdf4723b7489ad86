import { EXIT_CODES, type ExitCode, runUntilSignal } from '@ghostfleet/core'
import { createLogger, type Logger, logLevelFrom } from '@ghostfleet/telemetry'
import { loadSidecarSettings, type StartFlags } from '../config/sidecar-settings.js'
import { Sidecar } from '../sidecar.js'

/**
 * `ghostfleet-sidecar start`: the {@link Sidecar} from the config file, the flags and the environment, until
 * SIGTERM/SIGINT or a local fatal error. Resolves with a code of `EXIT_CODES` (`@ghostfleet/core`).
 */
export async function runStart(flags: StartFlags): Promise<ExitCode> {
  let log: Logger
  try {
    log = createLogger({ name: 'ghostfleet-sidecar', ...logLevelFrom({ env: process.env }) })
  } catch (error) {
    // Only GHOSTFLEET_LOG_LEVEL can be wrong here.
    process.stderr.write(`ghostfleet sidecar: ${(error as Error).message}\n`)
    return EXIT_CODES.config
  }
  const sidecar = new Sidecar(() => loadSidecarSettings(flags, process.env), log)
  return await runUntilSignal(sidecar, { name: 'ghostfleet-sidecar', logger: log })
}

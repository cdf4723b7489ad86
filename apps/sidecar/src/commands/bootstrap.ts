import os from 'node:os'
import { FLEET_KEY_ENV, FleetKey } from '@ghostfleet/coordination'
import { ConfigError, EXIT_CODES, errorFields } from '@ghostfleet/core'
import { createLogger, type Logger, logLevelFrom } from '@ghostfleet/telemetry'
import { BootstrapError } from '../bootstrap/errors.js'
import { runBootstrap } from '../bootstrap/run-bootstrap.js'
import { loadSidecarSettings, type SidecarSettings } from '../config/sidecar-settings.js'
import { sidecarIdFromHostname } from '../fleet/sidecar-id.js'
import { runStart } from './start.js'

/**
 * `ghostfleet sidecar bootstrap`: fills an empty node home with a sibling's checkpoint (issue 14), checks the node
 * serves the donor's blocks, then runs `start` with the same config (unless `--no-start`). The work is in
 * `bootstrap/`; this file reads the config, the fleet key and the tracker address, and maps failures to exit codes.
 */

export interface BootstrapFlags {
  config?: string
  trackerUrl?: string
  force: boolean
  parallel: number
  timeoutMs: number
  start: boolean
  downloadDir?: string
}

/** `GHOSTFLEET_TRACKER_URL`: the tracker's peer listener when `--tracker-url` is not given. */
export const TRACKER_URL_ENV = 'GHOSTFLEET_TRACKER_URL'

/** Exit codes: 0 done, 1 failed (the message says why and what was left), 2 configuration or refused home. */
export async function runBootstrapCommand(
  flags: BootstrapFlags,
  output: { out: (line: string) => void; err: (line: string) => void },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let log: Logger
  let settings: SidecarSettings
  let fleetKey: FleetKey
  let trackerUrl: string
  try {
    log = createLogger({ name: 'ghostfleet-sidecar', ...logLevelFrom({ env }) })
    settings = await loadSidecarSettings(
      { ...(flags.config === undefined ? {} : { config: flags.config }) },
      env,
    )
    const keyText = env[FLEET_KEY_ENV]
    if (keyText === undefined || keyText.trim() === '')
      throw new ConfigError(
        `bootstrap needs the fleet key in ${FLEET_KEY_ENV} (the tracker and the donor check every request with it)`,
      )
    fleetKey = FleetKey.parse(keyText, FLEET_KEY_ENV)
    const url = flags.trackerUrl ?? env[TRACKER_URL_ENV]
    if (url === undefined || url.trim() === '')
      throw new ConfigError(
        `bootstrap needs the tracker's peer listener: --tracker-url http://<tracker>:<port> or ${TRACKER_URL_ENV} ` +
          "(the tracker's [peer] listen)",
      )
    trackerUrl = url.trim()
  } catch (error) {
    output.err(`ghostfleet sidecar bootstrap: ${(error as Error).message}`)
    return EXIT_CODES.config
  }
  const sidecarId = settings.fleet?.sidecarId ?? sidecarIdFromHostname(os.hostname())
  const abort = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn({ signal }, 'stopping the bootstrap; a download resumes on the next run')
    abort.abort()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const outcome = await runBootstrap({
      settings,
      fleetKey,
      sidecarId,
      trackerUrl,
      force: flags.force,
      parallel: flags.parallel,
      timeoutMs: flags.timeoutMs,
      log,
      signal: abort.signal,
      ...(flags.downloadDir === undefined ? {} : { downloadRoot: flags.downloadDir }),
    })
    const d = outcome.download
    const seconds = (ms: number) => (ms / 1000).toFixed(1)
    output.out(
      `bootstrapped ${settings.launch.home} from ${outcome.donor} (checkpoint ${outcome.checkpointId}, blocks ` +
        `${outcome.base}..${outcome.height}): ${d.fetchedFiles} files / ${d.fetchedBytes} bytes fetched, ` +
        `${d.reusedFiles} reused, ${d.keptFiles + d.resumedFiles} kept or resumed; checkpoint ready after ` +
        `${seconds(outcome.waitedMs)} s, installed in ${seconds(outcome.installMs)} s, node serving after ` +
        `${seconds(outcome.servingAfterMs)} s; ${seconds(outcome.totalMs)} s in all`,
    )
  } catch (error) {
    if (error instanceof BootstrapError) {
      output.err(`ghostfleet sidecar bootstrap failed (${error.failure}): ${error.message}`)
      return error.failure === 'refused' ? EXIT_CODES.config : EXIT_CODES.fatal
    }
    log.error({ ...errorFields(error) }, 'bootstrap failed')
    output.err(`ghostfleet sidecar bootstrap failed: ${(error as Error).message}`)
    return EXIT_CODES.fatal
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (!flags.start || abort.signal.aborted) return EXIT_CODES.ok
  log.info({}, 'handing over to start')
  return await runStart({ ...(flags.config === undefined ? {} : { config: flags.config }) })
}

/** `--timeout`: `90s`, `30m`, `2h`, or seconds; 1 s to 24 h. */
export function parseDurationFlag(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const
  const ms = match === null ? Number.NaN : Number(match[1]) * unit[(match[2] ?? 's') as keyof typeof unit]
  if (!Number.isFinite(ms) || ms < 1_000 || ms > 86_400_000)
    throw new Error(`expected a duration from 1s to 24h such as 90s, 30m or 2h, got "${value}"`)
  return Math.round(ms)
}

/**
 * `ghostfleet-tracker start`: config, logger and fleet key, then the tracker until SIGTERM/SIGINT, which stops it
 * gracefully (polls stopped, lease released, Redis closed) and exits 0. Exit codes: 2 for a configuration
 * problem (nothing started), 1 for a fatal error at startup (the listen address is taken).
 */

import { fleetKeyFromEnv, InvalidFleetKeyError, InvalidOptionsError } from '@ghostfleet/coordination'
import { parseWith, refreshSecondsSchema, ValidationError } from '@ghostfleet/core'
import { InvalidOptionsError as InvalidDiscoveryOptionsError } from '@ghostfleet/discovery'
import { createLogger, type Logger, LogLevelError } from '@ghostfleet/telemetry'
import { loadTrackerConfig } from './config.js'
import { consulSettingsFrom } from './consul-discovery.js'
import { ConfigFileError, UsageError } from './errors.js'
import { defaultTrackerId, Tracker } from './tracker.js'

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

const ID = /^[A-Za-z0-9._-]{1,64}$/
/** A graceful stop that takes longer than this is cut short (exit 1) rather than hanging the service manager. */
const STOP_DEADLINE_MS = 30_000

function isConfigProblem(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof ConfigFileError ||
    error instanceof InvalidFleetKeyError ||
    error instanceof InvalidOptionsError ||
    error instanceof InvalidDiscoveryOptionsError ||
    error instanceof UsageError ||
    error instanceof LogLevelError
  )
}

/** Runs the tracker; resolves with the exit code once it has stopped. */
export async function runStart(flags: StartFlags): Promise<number> {
  let logger: Logger
  let tracker: Tracker
  try {
    logger = createLogger({
      name: 'ghostfleet-tracker',
      ...(flags.logLevel === undefined ? {} : { level: flags.logLevel }),
    })
  } catch (error) {
    process.stderr.write(`ghostfleet-tracker: ${error instanceof Error ? error.message : String(error)}\n`)
    return 2
  }
  try {
    if (flags.id !== undefined && !ID.test(flags.id)) {
      throw new UsageError(
        `--id ${JSON.stringify(flags.id)}: expected 1–64 characters from A-Z a-z 0-9 . _ -`,
      )
    }
    const config = await loadTrackerConfig({
      ...(flags.config === undefined ? {} : { file: flags.config }),
      ...(flags.redis === undefined ? {} : { redisUrl: flags.redis }),
      ...(flags.listen === undefined ? {} : { listen: flags.listen }),
    })
    let refreshIntervalMs: number | undefined
    if (flags.refreshSeconds !== undefined) {
      // Bounded like every config duration (a ValidationError: exit 2, nothing started).
      const seconds = parseWith(refreshSecondsSchema(), flags.refreshSeconds, '--refresh-seconds')
      refreshIntervalMs = Math.round(seconds * 1000)
    }
    const consul = consulSettingsFrom(flags.consul)
    const fleetKey = fleetKeyFromEnv()
    tracker = await Tracker.start({
      config,
      id: flags.id ?? defaultTrackerId(),
      logger,
      fleetKey,
      consul,
      ...(refreshIntervalMs === undefined ? {} : { timing: { refreshIntervalMs } }),
    })
    logger.info(
      {
        id: tracker.id,
        url: tracker.url,
        signing: fleetKey !== null,
        consul: consul?.url ?? null,
        pollIntervalSeconds: config.pollIntervalSeconds,
      },
      'tracker started',
    )
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (isConfigProblem(error)) {
      logger.fatal({ err: message }, 'configuration problem: not starting')
      process.stderr.write(`ghostfleet-tracker: ${message}\n`)
      return 2
    }
    logger.fatal({ err: message }, 'could not start')
    process.stderr.write(`ghostfleet-tracker: ${message}\n`)
    return 1
  }
  return await new Promise<number>((resolve) => {
    let signalled = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn({ signal }, 'second signal: exiting without finishing the shutdown')
        resolve(1)
        return
      }
      signalled = true
      logger.info({ signal }, 'stopping')
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: STOP_DEADLINE_MS }, 'shutdown took too long; exiting')
        resolve(1)
      }, STOP_DEADLINE_MS)
      deadline.unref()
      tracker.stop().then(
        () => {
          clearTimeout(deadline)
          resolve(0)
        },
        (error: unknown) => {
          clearTimeout(deadline)
          logger.error({ err: String(error) }, 'shutdown failed')
          resolve(1)
        },
      )
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}

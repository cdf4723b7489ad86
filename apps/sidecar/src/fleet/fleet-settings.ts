import os from 'node:os'
import {
  CoordinationError,
  type FleetKey,
  fleetKeyFromEnv,
  parseRedisUrl,
  redactRedisUrl,
} from '@ghostfleet/coordination'
import type { SidecarConfig } from '@ghostfleet/core'
import { isSidecarId, sidecarIdFromHostname } from './sidecar-id.js'

/** Fleet mode cannot start as configured (a bad `--redis` URL, a bad fleet key). Nothing was started. */
export class FleetConfigError extends Error {
  override readonly name = 'FleetConfigError'
}

/** Everything fleet mode needs, resolved from the config, the environment and the `start` flags. */
export interface FleetSettings {
  redisUrl: string
  /** For logs and /status: the URL with its password hidden. */
  redisUrlRedacted: string
  sidecarId: string
  /** Where the id came from. */
  sidecarIdSource: 'config' | 'hostname'
  /** Verify desired states with this key (`GHOSTFLEET_FLEET_KEY`); null: signatures are not checked. */
  fleetKey: FleetKey | null
  reportIntervalMs: number
  trackerTimeoutMs: number
}

export interface ResolveFleetInput {
  fleet: SidecarConfig['fleet']
  /** `start --redis URL`: wins over `GHOSTFLEET_REDIS_URL`, which wins over `fleet.redisUrl` (config loader). */
  redisFlag?: string | undefined
  env?: NodeJS.ProcessEnv
  hostname?: () => string
}

/**
 * The fleet settings, or null when no Redis URL is configured (standalone: the sidecar decides alone).
 * @throws FleetConfigError naming the flag or variable that is wrong.
 */
export function resolveFleetSettings(input: ResolveFleetInput): FleetSettings | null {
  const flag = input.redisFlag?.trim()
  const redisUrl = flag ? flag : input.fleet.redisUrl
  if (redisUrl === undefined) return null
  try {
    parseRedisUrl(redisUrl, flag ? '--redis' : 'fleet.redisUrl')
  } catch (error) {
    if (error instanceof CoordinationError) throw new FleetConfigError(error.message)
    throw error
  }
  let fleetKey: FleetKey | null
  try {
    fleetKey = fleetKeyFromEnv(input.env ?? process.env)
  } catch (error) {
    if (error instanceof CoordinationError) throw new FleetConfigError(error.message)
    throw error
  }
  const configured = input.fleet.sidecarId
  let sidecarId: string
  let sidecarIdSource: FleetSettings['sidecarIdSource']
  if (configured !== undefined) {
    sidecarId = configured
    sidecarIdSource = 'config'
  } else {
    sidecarId = sidecarIdFromHostname((input.hostname ?? os.hostname)())
    sidecarIdSource = 'hostname'
  }
  if (!isSidecarId(sidecarId))
    throw new FleetConfigError(`fleet.sidecarId ${JSON.stringify(sidecarId)} is not valid`)
  return {
    redisUrl,
    redisUrlRedacted: redactRedisUrl(redisUrl),
    sidecarId,
    sidecarIdSource,
    fleetKey,
    reportIntervalMs: Math.max(1, Math.round(input.fleet.reportIntervalSeconds * 1000)),
    trackerTimeoutMs: Math.max(1, Math.round(input.fleet.trackerTimeoutSeconds * 1000)),
  }
}

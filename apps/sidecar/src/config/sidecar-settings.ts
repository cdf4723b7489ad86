/**
 * Everything `start` needs, resolved once from the config file, the `start` flags and the environment: every
 * duration in milliseconds, every switch as it takes effect. The parts of the sidecar take this object (or a
 * slice of it) and read neither the file nor the environment themselves.
 *
 * Precedence, as documented in the README: `--redis` > `GHOSTFLEET_REDIS_URL` > `fleet.redisUrl` (the env step
 * is in {@link loadSidecarConfig}, so the schema validates it); `--consul` > `GHOSTFLEET_CONSUL_URL`; the Redis
 * credentials and `GHOSTFLEET_FLEET_KEY` as in `fleet/fleet-settings.ts`. Secrets stay in `fleet.redisUrl` and
 * `fleet.redisCredentials`; whatever is logged or shown uses the redacted fields.
 */
import path from 'node:path'
import { ConfigError, type SidecarConfig } from '@ghostfleet/core'
import { type ConsulSettings, consulSettingsFrom } from '@ghostfleet/discovery'
import { resolveEndpoints } from '@ghostfleet/kyve'
import { type FleetSettings, resolveFleetSettings } from '../fleet/fleet-settings.js'
import type { NodeOutput } from '../supervisor/node-process.js'
import { resolveConfigDir } from './config-dir.js'
import { loadSidecarConfig } from './config-file.js'

/** The flags of `ghostfleet-sidecar start`. */
export interface StartFlags {
  config?: string
  /** Extra node flags, appended to `node.flags` from the config (supervysor's `start --flags`). */
  flags?: string
  /** Redis URL for fleet mode; wins over `GHOSTFLEET_REDIS_URL` and `fleet.redisUrl`. */
  redis?: string
  /** Consul agent URL: register this sidecar; wins over `GHOSTFLEET_CONSUL_URL`. */
  consul?: string
}

export interface SidecarSettings {
  configDir: string
  /** The config file, for messages that name a key in it. */
  file: string
  chainId: string
  poolId: number
  /** The KYVE REST endpoints, presets resolved. */
  endpoints: string[]
  thresholds: SidecarConfig['thresholds']
  /** The supervision interval. */
  intervalMs: number
  maxPoolAgeMs: number
  /** Waits of the pool refresher after failures. */
  poolRetry: { minMs: number; maxMs: number }
  node: {
    home: string
    binary: string
    launcher: SidecarConfig['node']['launcher']
    /** `node.flags` and `start --flags`, joined. */
    flags: string
    output: NodeOutput
    rpcEndpoint: string
    rpcTimeoutMs: number
    stopGraceMs: number
    restartBackoff: { initialMs: number; maxMs: number; resetAfterMs: number }
    /** How long to wait for nothing to hold the home any more (a node still shutting down writes its book). */
    idleTimeoutMs: number
  }
  /** As configured; the node's database backend may still turn it off for a run (`pruningSupport`). */
  pruning: {
    enabled: boolean
    intervalMs: number
    margin: number
    statePruning: boolean
    forceCompact: boolean
  }
  /** How often the data directory is measured (a walk over many files). */
  dataSizeEveryMs: number
  /** The HTTP listen address, or null when the server is off. */
  httpListen: string | null
  /** Null: standalone, the sidecar decides alone. */
  fleet: FleetSettings | null
  /** Null: no Consul registration. */
  consul: ConsulSettings | null
}

export interface LoadedConfig {
  configDir: string
  file: string
  config: SidecarConfig
}

/**
 * @throws ConfigError (or a subclass: `FleetConfigError`, `ConsulSettingsError`) naming the key, flag or variable
 * that is wrong.
 */
export function resolveSidecarSettings(
  { configDir, file, config }: LoadedConfig,
  flags: StartFlags,
  env: NodeJS.ProcessEnv,
): SidecarSettings {
  const seconds = (value: number) => value * 1000
  const intervalMs = seconds(config.supervision.intervalSeconds)
  const maxPoolAgeMs = seconds(config.pool.maxPoolAgeSeconds)
  const stopGraceMs = seconds(config.node.stopGraceSeconds)
  let endpoints: string[]
  try {
    endpoints = resolveEndpoints(config.pool.chainId, config.pool.endpoints)
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (pool.endpoints in ${file})`)
  }
  return {
    configDir,
    file,
    chainId: config.pool.chainId,
    poolId: config.pool.poolId,
    endpoints,
    thresholds: config.thresholds,
    intervalMs,
    maxPoolAgeMs,
    poolRetry: { minMs: intervalMs, maxMs: Math.max(intervalMs, Math.min(300_000, maxPoolAgeMs / 2)) },
    node: {
      home: path.resolve(config.node.home),
      binary: config.node.binary,
      launcher: config.node.launcher,
      flags: [config.node.flags, flags.flags ?? ''].filter((f) => f.trim() !== '').join(' '),
      output:
        config.node.output === 'file' && config.node.logFile !== undefined
          ? { kind: 'file', path: path.resolve(config.node.logFile) }
          : { kind: 'inherit' },
      rpcEndpoint: config.node.rpcEndpoint,
      rpcTimeoutMs: Math.min(5_000, Math.max(1_000, intervalMs)),
      stopGraceMs,
      restartBackoff: {
        initialMs: seconds(config.supervision.restartBackoffInitialSeconds),
        maxMs: seconds(config.supervision.restartBackoffMaxSeconds),
        resetAfterMs: seconds(config.supervision.restartBackoffResetSeconds),
      },
      idleTimeoutMs: Math.max(30_000, stopGraceMs),
    },
    pruning: {
      enabled: config.pruning.enabled,
      intervalMs: config.pruning.intervalHours * 3_600_000,
      margin: config.pruning.margin,
      statePruning: config.pruning.statePruning,
      forceCompact: config.pruning.forceCompact,
    },
    dataSizeEveryMs: Math.max(60_000, intervalMs),
    httpListen: config.http.enabled ? config.http.listen : null,
    fleet: resolveFleetSettings({ fleet: config.fleet, redisFlag: flags.redis, env }),
    consul: consulSettingsFrom(flags.consul, env),
  }
}

/** Reads the config file of `start --config` (or the default directory) and resolves it with the flags and `env`. */
export async function loadSidecarSettings(
  flags: StartFlags,
  env: NodeJS.ProcessEnv,
): Promise<SidecarSettings> {
  const configDir = resolveConfigDir(flags.config)
  const loaded = await loadSidecarConfig(configDir, env)
  return resolveSidecarSettings({ configDir, ...loaded }, flags, env)
}

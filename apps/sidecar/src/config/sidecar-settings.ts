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
import { ConfigError, parseListenAddress, type SidecarConfig } from '@ghostfleet/core'
import { consulSettingsFrom } from '@ghostfleet/discovery'
import { resolveEndpoints } from '@ghostfleet/kyve'
import { resolveFleetSettings } from '../fleet/fleet-settings.js'
import type { LaunchSettings } from '../supervisor/launch-spec.js'
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

/** The resolved settings; every field is documented where {@link resolveSidecarSettings} computes it. */
export type SidecarSettings = ReturnType<typeof resolveSidecarSettings>

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
) {
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
    /** Waits of the pool refresher after failures. */
    poolRetry: { minMs: intervalMs, maxMs: Math.max(intervalMs, Math.min(300_000, maxPoolAgeMs / 2)) },
    /** How `launchSpecFor` starts the node; `flags` joins `node.flags` and `start --flags`. */
    launch: {
      binary: config.node.binary,
      home: path.resolve(config.node.home),
      launcher: config.node.launcher,
      flags: [config.node.flags, flags.flags ?? ''].filter((f) => f.trim() !== '').join(' '),
      configDir,
    } satisfies LaunchSettings,
    node: {
      output: (config.node.output === 'file' && config.node.logFile !== undefined
        ? { kind: 'file', path: path.resolve(config.node.logFile) }
        : { kind: 'inherit' }) satisfies NodeOutput,
      rpcEndpoint: config.node.rpcEndpoint,
      rpcTimeoutMs: Math.min(5_000, Math.max(1_000, intervalMs)),
      stopGraceMs,
      restartBackoff: {
        initialMs: seconds(config.supervision.restartBackoffInitialSeconds),
        maxMs: seconds(config.supervision.restartBackoffMaxSeconds),
        resetAfterMs: seconds(config.supervision.restartBackoffResetSeconds),
      },
      /** How long to wait for nothing to hold the home any more (a node still shutting down writes its book). */
      idleTimeoutMs: Math.max(30_000, stopGraceMs),
    },
    /** As configured; the node's database backend may still turn pruning off for a run (`pruningSupport`). */
    pruning: {
      enabled: config.pruning.enabled,
      intervalMs: config.pruning.intervalHours * 3_600_000,
      margin: config.pruning.margin,
      statePruning: config.pruning.statePruning,
      forceCompact: config.pruning.forceCompact,
    },
    /** How often the data directory is measured (a walk over many files). */
    dataSizeEveryMs: Math.max(60_000, intervalMs),
    /** Null: no HTTP server. */
    httpListen: config.http.enabled ? config.http.listen : null,
    /** The RPC gateway for the local protocol node; null: off. */
    gateway: config.gateway.enabled
      ? { listen: config.gateway.listen, upstreamTimeoutMs: seconds(config.gateway.upstreamTimeoutSeconds) }
      : null,
    /** The listener siblings read this node through; null: none (it also needs fleet mode and a fleet key). */
    peer: resolvePeer(config.peer, file),
    /** Checkpoints donated to bootstrapping hosts (fleet mode with a fleet key and the peer listener only). */
    checkpoints: resolveCheckpoints(config, path.resolve(config.node.home)),
    fleet: resolveFleetSettings({ fleet: config.fleet, redisFlag: flags.redis, env }),
    consul: consulSettingsFrom(flags.consul, env),
  }
}

/** Hosts that mean "every interface": siblings cannot be told to connect to them. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::'])

function resolvePeer(peer: SidecarConfig['peer'], file: string) {
  if (peer.listen === undefined) return null
  const address = parseListenAddress(peer.listen)
  if (address !== null && WILDCARD_HOSTS.has(address.host) && peer.advertiseUrl === undefined) {
    throw new ConfigError(
      `peer.advertiseUrl is required when peer.listen (${peer.listen}) listens on every interface: give the URL ` +
        `siblings reach this host at, e.g. "http://10.0.0.5:${address.port}" (in ${file})`,
    )
  }
  return {
    listen: peer.listen,
    /** Null: `http://` + the address the listener bound (its real port when the config says 0). */
    advertiseUrl: peer.advertiseUrl ?? null,
    maxConcurrent: peer.maxConcurrent,
    ratePerSecond: peer.ratePerSecond,
  }
}

/**
 * The checkpoints directory beside the node home unless configured (`<home>-ghostfleet-checkpoints`: on the home's
 * filesystem as a rule, and one per home, so two sidecars on a host never share a ledger or sweep each other's
 * checkpoints); the transfer cap below the peer cap.
 */
function resolveCheckpoints(config: SidecarConfig, home: string) {
  const { checkpoints } = config
  return {
    dir: checkpoints.dir === undefined ? `${home}-ghostfleet-checkpoints` : path.resolve(checkpoints.dir),
    ttlMs: checkpoints.ttlSeconds * 1000,
    maxPinnedBytes: Math.round(checkpoints.maxPinnedGiB * 1024 ** 3),
    // A transfer holds a peer-listener slot while its file streams: one slot always stays for siblings' reads.
    maxTransfers: Math.max(1, Math.min(checkpoints.maxTransfers, config.peer.maxConcurrent - 1)),
    /** Null: no cap on the transfers' bytes per second. */
    transferBytesPerSecond:
      checkpoints.transferMiBPerSecond === 0
        ? null
        : Math.round(checkpoints.transferMiBPerSecond * 1024 ** 2),
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

import { z } from 'zod'
import type { NodeConfigToml } from './config-toml.js'
import { FlagError } from './errors.js'
import { type LogFormat, type LogLevel, parseLogLevel } from './log.js'

/** `start` flags as the CLI received them (strings; undefined when not given). */
export interface StartFlags {
  home: string
  'p2p.seeds'?: string
  'p2p.persistent_peers'?: string
  'p2p.laddr'?: string
  'p2p.pex'?: string | boolean
  'p2p.seed_mode'?: string | boolean
  'p2p.external-address'?: string
  'p2p.private_peer_ids'?: string
  'rpc.laddr'?: string
  moniker?: string
  producer?: boolean
  blockTime?: string
  blockTxs?: string
  txSize?: string
  partSize?: string
  valsetInterval?: string
  shutdownDelay?: string
  crashAfter?: string
  syncRate?: string
  addrbookFlushMs?: string
  logLevel?: string
  logFormat?: string
}

/** Everything `start` runs with: config.toml overridden by flags, as viper-bound CometBFT flags do. */
export interface NodeSettings {
  home: string
  moniker: string
  rpcLaddr: string
  p2pLaddr: string
  externalAddress: string
  seeds: string
  persistentPeers: string
  privatePeerIds: string
  pex: boolean
  seedMode: boolean
  producer: boolean
  blockTimeMs: number
  blockTxs: number
  txSize: number
  partSize: number
  valsetInterval: number
  shutdownDelayMs: number
  crashAfterMs: number | undefined
  syncRate: number | undefined
  addrbookFlushMs: number
  logLevel: LogLevel
  logFormat: LogFormat
}

/** Go's `strconv.ParseBool`, which is what `--p2p.pex=false` goes through. */
export function parseGoBool(value: string | boolean, flag: string): boolean {
  if (typeof value === 'boolean') return value
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  throw new FlagError(
    `invalid argument "${value}" for "--${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`,
  )
}

function intFlag(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = z.coerce
    .number()
    .int()
    .safeParse(value.trim() === '' ? Number.NaN : value)
  if (!n.success || n.data < min)
    throw new FlagError(`--${flag}: expected an integer ≥ ${min}, got "${value}"`)
  return n.data
}

export const DEFAULT_ADDRBOOK_FLUSH_MS = 120_000

/** Merges flags over config.toml; rejects malformed flag values with the flag's name. */
export function resolveSettings(flags: StartFlags, config: NodeConfigToml): NodeSettings {
  const logLevelRaw = flags.logLevel ?? config.log_level
  const logLevel = parseLogLevel(logLevelRaw)
  if (!logLevel) throw new FlagError(`--log_level: unknown level "${logLevelRaw}" (debug, info, error, none)`)
  const logFormat = flags.logFormat ?? config.log_format
  if (logFormat !== 'plain' && logFormat !== 'json')
    throw new FlagError(`--log_format: expected plain or json, got "${logFormat}"`)
  const syncRate = flags.syncRate === undefined ? undefined : intFlag(flags.syncRate, 'sync-rate', 0, 1)
  const crashAfterMs =
    flags.crashAfter === undefined ? undefined : intFlag(flags.crashAfter, 'crash-after', 0, 0)
  return {
    home: flags.home,
    moniker: flags.moniker ?? config.moniker,
    rpcLaddr: flags['rpc.laddr'] ?? config.rpc.laddr,
    p2pLaddr: flags['p2p.laddr'] ?? config.p2p.laddr,
    externalAddress: flags['p2p.external-address'] ?? config.p2p.external_address,
    seeds: flags['p2p.seeds'] ?? config.p2p.seeds,
    persistentPeers: flags['p2p.persistent_peers'] ?? config.p2p.persistent_peers,
    privatePeerIds: flags['p2p.private_peer_ids'] ?? config.p2p.private_peer_ids,
    pex: flags['p2p.pex'] === undefined ? config.p2p.pex : parseGoBool(flags['p2p.pex'], 'p2p.pex'),
    seedMode:
      flags['p2p.seed_mode'] === undefined
        ? config.p2p.seed_mode
        : parseGoBool(flags['p2p.seed_mode'], 'p2p.seed_mode'),
    producer: flags.producer ?? false,
    blockTimeMs: intFlag(flags.blockTime, 'block-time', 1000, 1),
    blockTxs: intFlag(flags.blockTxs, 'block-txs', 5, 0),
    txSize: intFlag(flags.txSize, 'tx-size', 256, 1),
    partSize: intFlag(flags.partSize, 'part-size', 65536, 1),
    valsetInterval: intFlag(flags.valsetInterval, 'valset-interval', 100, 0),
    shutdownDelayMs: intFlag(flags.shutdownDelay, 'shutdown-delay', 0, 0),
    crashAfterMs,
    syncRate,
    addrbookFlushMs: intFlag(flags.addrbookFlushMs, 'addrbook-flush-ms', DEFAULT_ADDRBOOK_FLUSH_MS, 1),
    logLevel,
    logFormat,
  }
}

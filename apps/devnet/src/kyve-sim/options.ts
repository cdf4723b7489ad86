import { z } from 'zod'
import { GoNumError, goParseUint } from './go-strconv.js'
import type { LogEntry } from './log.js'
import { defaultStartKey, keySchemeFor, RUNTIMES } from './runtime-keys.js'

/*
 * Options of {@link startKyveSimulator}, parsed with zod: the CLI builds the same object from its flags, and
 * tests of other packages pass it directly, so both get the same checks and messages.
 */

const u64String = z
  .union([z.string(), z.number().int().nonnegative(), z.bigint().nonnegative()])
  .transform((value, ctx) => {
    try {
      return goParseUint(String(value), 10, 64).toString()
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof GoNumError ? error.message : String(error) })
      return z.NEVER
    }
  })

const httpUrl = z
  .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
  .transform((url) => url.replace(/\/+$/, ''))

const positiveInt = z.number().int().positive()

/** Settings that every pool takes from the top level unless it overrides them. */
const sharedPoolSettings = {
  /** `data.runtime`. @default '@kyvejs/tendermint' */
  runtime: z.enum(RUNTIMES).optional(),
  /** `data.max_bundle_size`: data items per bundle at most. @default 100 */
  maxBundleSize: positiveInt.optional(),
  /** `data.upload_interval` in seconds. @default 60 */
  uploadInterval: positiveInt.optional(),
  /** Milliseconds between bundle rounds. @default uploadInterval × 1000 */
  bundleEveryMs: positiveInt.optional(),
  /** Bundles stop this many blocks below the data source's height. @default 0 */
  lagBlocks: z.number().int().nonnegative().optional(),
  /** CometBFT RPC of the data-source node whose `/abci_info` height bounds the bundles; none = no auto-advance. */
  chainRpc: httpUrl.optional(),
  /** `network` in the pool config (the data source's chain id). @default 'osmosis-1' */
  sourceChainId: z.string().min(1).optional(),
  /** ssync pools: blocks between snapshots. @default 1000 */
  snapshotInterval: positiveInt.optional(),
  /** ssync pools: chunks per snapshot. @default 3 */
  snapshotChunks: positiveInt.optional(),
}

/** One simulated pool. */
export const poolOptionsSchema = z.strictObject({
  /** The pool id (uint64). */
  id: u64String,
  /** `data.name`. @default 'Osmosis' */
  name: z.string().optional(),
  /** `data.start_key`. @default '1' (ssync: 'snapshotInterval/0') */
  startKey: z.string().optional(),
  /**
   * Start as if bundles up to this key had already been finalized (one bundle covering start_key … currentKey).
   * @default '' (fresh pool: nothing validated yet)
   */
  currentKey: z.string().optional(),
  /** `data.end_key` ("" = none). */
  endKey: z.string().optional(),
  /** `data.disabled`. */
  disabled: z.boolean().optional(),
  /** Start with auto-advance paused. */
  paused: z.boolean().optional(),
  ...sharedPoolSettings,
})

/** Input of {@link poolOptionsSchema}. */
export type KyvePoolOptions = z.input<typeof poolOptionsSchema>

/** Options of {@link startKyveSimulator}. */
export const simulatorOptionsSchema = z.strictObject({
  /** Interface to listen on. @default '127.0.0.1' */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port; 0 picks a free one. @default 0 */
  port: z.number().int().min(0).max(65535).default(0),
  /** The KYVE chain id (node_info `network`, default addresses). @default 'kyve-1' */
  chainId: z.string().min(1).default('kyve-1'),
  /** Which chain release to imitate: '1.5' (≥ v1.5, compact JSON) or '1.4' (indented, v1.4 field set). */
  apiVersion: z.enum(['1.4', '1.5']).default('1.5'),
  /** KYVE block height the simulated chain starts at (reported in `Grpc-Metadata-X-Cosmos-Block-Height`). */
  kyveStartHeight: z.number().int().positive().default(1),
  /** The simulated pools (at least one). */
  pools: z.array(poolOptionsSchema).min(1, 'at least one pool is needed'),
  ...sharedPoolSettings,
  /** Receives the simulator's log lines; silent when absent. */
  log: z.custom<(entry: LogEntry) => void>((value) => typeof value === 'function').optional(),
})

/** Input of {@link startKyveSimulator}. */
export type KyveSimulatorOptions = z.input<typeof simulatorOptionsSchema>

/** One pool's settings with every default applied. */
export interface ResolvedPoolOptions {
  id: string
  name: string
  runtime: (typeof RUNTIMES)[number]
  startKey: string
  currentKey: string
  endKey: string
  disabled: boolean
  paused: boolean
  maxBundleSize: number
  uploadInterval: number
  bundleEveryMs: number
  lagBlocks: number
  chainRpc: string | undefined
  sourceChainId: string
  snapshotInterval: number
  snapshotChunks: number
}

/** Options with every default applied. */
export interface ResolvedSimulatorOptions {
  host: string
  port: number
  chainId: string
  apiVersion: '1.4' | '1.5'
  kyveStartHeight: number
  pools: ResolvedPoolOptions[]
  log: ((entry: LogEntry) => void) | undefined
}

/** Why options were rejected: every problem, each with its path. */
export class InvalidSimulatorOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid KYVE simulator options: ${problems.join('; ')}`)
    this.name = 'InvalidSimulatorOptionsError'
  }
}

/**
 * Validates `input` and applies the defaults (pool settings fall back to the top-level ones).
 * @throws InvalidSimulatorOptionsError listing every problem.
 */
export function resolveSimulatorOptions(input: KyveSimulatorOptions): ResolvedSimulatorOptions {
  const parsed = simulatorOptionsSchema.safeParse(input)
  if (!parsed.success) {
    throw new InvalidSimulatorOptionsError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`),
    )
  }
  const top = parsed.data
  const problems: string[] = []
  const seen = new Set<string>()
  const pools = top.pools.map((pool, index): ResolvedPoolOptions => {
    const where = `pools.${index}`
    if (seen.has(pool.id)) problems.push(`${where}.id: pool ${pool.id} is listed twice`)
    seen.add(pool.id)
    const runtime = pool.runtime ?? top.runtime ?? '@kyvejs/tendermint'
    const uploadInterval = pool.uploadInterval ?? top.uploadInterval ?? 60
    const snapshots = {
      snapshotInterval: pool.snapshotInterval ?? top.snapshotInterval ?? 1000,
      snapshotChunks: pool.snapshotChunks ?? top.snapshotChunks ?? 3,
    }
    const scheme = keySchemeFor(runtime, snapshots)
    const startKey = pool.startKey ?? defaultStartKey(runtime, snapshots)
    const checkKey = (name: string, key: string) => {
      const reason = scheme.invalidReason(key)
      if (reason !== null) problems.push(`${where}.${name}: ${reason} (runtime ${runtime})`)
    }
    checkKey('startKey', startKey)
    if (pool.currentKey !== undefined && pool.currentKey !== '') checkKey('currentKey', pool.currentKey)
    if (pool.endKey !== undefined && pool.endKey !== '') checkKey('endKey', pool.endKey)
    return {
      id: pool.id,
      name: pool.name ?? 'Osmosis',
      runtime,
      startKey,
      currentKey: pool.currentKey ?? '',
      endKey: pool.endKey ?? '',
      disabled: pool.disabled ?? false,
      paused: pool.paused ?? false,
      maxBundleSize: pool.maxBundleSize ?? top.maxBundleSize ?? 100,
      uploadInterval,
      bundleEveryMs: pool.bundleEveryMs ?? top.bundleEveryMs ?? uploadInterval * 1000,
      lagBlocks: pool.lagBlocks ?? top.lagBlocks ?? 0,
      chainRpc: pool.chainRpc ?? top.chainRpc,
      sourceChainId: pool.sourceChainId ?? top.sourceChainId ?? 'osmosis-1',
      ...snapshots,
    }
  })
  if (problems.length > 0) throw new InvalidSimulatorOptionsError(problems)
  return {
    host: top.host,
    port: top.port,
    chainId: top.chainId,
    apiVersion: top.apiVersion,
    kyveStartHeight: top.kyveStartHeight,
    pools,
    log: top.log,
  }
}

import path from 'node:path'
import { NodeConfigError, readGenesisChainId, readNodeConfig } from '@ghostfleet/cometbft'
import { ValidationError } from '@ghostfleet/core'
import { createKyveClient, poolChainProblem, resolveEndpoints } from '@ghostfleet/kyve'
import { expandHome, resolveConfigDir } from '../config/config-dir.js'
import { ConfigNotFoundError, loadSidecarConfig } from '../config/config-file.js'

/*
 * The manual `prune` asks the pool before it deletes anything, as the supervision loop does: the pool must
 * validate the node's chain, and --until-height must not be above its validated height minus the margin.
 * Where the pool is, comes from the flags (--pool-id, --chain-id, --fallback-endpoints), else from the sidecar
 * config of this home (--config, default ~/.ghostfleet; used only when its node.home is this home). When no pool
 * is known, or the KYVE API cannot answer, the prune needs --force: the operator then vouches for the height.
 */

/** Deadline for the one KYVE call of a manual prune. */
const KYVE_DEADLINE_MS = 15_000

export interface PrunePoolOptions {
  home: string
  untilHeight: number
  config?: string
  poolId?: number
  chainId?: string
  endpoints?: string[]
  force: boolean
}

export type PrunePoolVerdict =
  | { proceed: true; note: string; warning?: string }
  | { proceed: false; message: string }

interface PoolSettings {
  poolId: number
  chainId: string
  endpoints: string[]
  margin: number
  from: string
}

async function poolSettings(options: PrunePoolOptions): Promise<PoolSettings | null> {
  let fromConfig: Omit<PoolSettings, 'from'> | null = null
  let configFile = ''
  try {
    const loaded = await loadSidecarConfig(resolveConfigDir(options.config), process.env)
    const sameHome = path.resolve(expandHome(loaded.config.node.home)) === path.resolve(options.home)
    if (sameHome || options.config !== undefined) {
      fromConfig = {
        poolId: loaded.config.pool.poolId,
        chainId: loaded.config.pool.chainId,
        endpoints: loaded.config.pool.endpoints,
        margin: loaded.config.pruning.margin,
      }
      configFile = loaded.file
    }
  } catch (error) {
    // The default directory may hold nothing, or the config of another setup: only an explicit --config must
    // load. A config that exists but is invalid is reported when it was asked for.
    if (options.config !== undefined) throw error
  }
  const poolId = options.poolId ?? fromConfig?.poolId
  if (poolId === undefined) return null
  return {
    poolId,
    chainId: options.chainId ?? fromConfig?.chainId ?? 'kyve-1',
    endpoints: options.endpoints ?? fromConfig?.endpoints ?? [],
    margin: fromConfig?.margin ?? 1,
    from: options.poolId !== undefined ? 'the flags' : configFile,
  }
}

/** Decides whether a manual prune to `untilHeight` may go ahead. Never writes anything. */
export async function checkManualPrune(options: PrunePoolOptions): Promise<PrunePoolVerdict> {
  const unchecked = (why: string): PrunePoolVerdict =>
    options.force
      ? {
          proceed: true,
          note: 'not checked against the pool (--force)',
          warning: `warning: ${why}; pruning anyway because of --force: you vouch that the pool validated every height below ${options.untilHeight}`,
        }
      : {
          proceed: false,
          message: `${why}. Pass --force to prune without the check, if you know the pool validated every height below ${options.untilHeight}`,
        }

  let settings: PoolSettings | null
  try {
    settings = await poolSettings(options)
  } catch (error) {
    if (error instanceof ValidationError || error instanceof ConfigNotFoundError)
      return { proceed: false, message: error.message }
    throw error
  }
  if (settings === null) {
    return unchecked(
      'no pool to check --until-height against: give --pool-id (and --chain-id, --fallback-endpoints), or --config ' +
        'with the sidecar config of this home',
    )
  }
  let nodeChainId: string
  try {
    nodeChainId = await readGenesisChainId((await readNodeConfig(options.home)).genesisPath)
  } catch (error) {
    if (error instanceof NodeConfigError) return unchecked(error.message)
    throw error
  }
  let endpoints: string[]
  try {
    endpoints = resolveEndpoints(settings.chainId, settings.endpoints)
  } catch (error) {
    return { proceed: false, message: (error as Error).message }
  }
  const kyve = createKyveClient({ chainId: settings.chainId, endpoints, deadlineMs: KYVE_DEADLINE_MS })
  let pool: Awaited<ReturnType<typeof kyve.getPool>>
  try {
    pool = await kyve.getPool(settings.poolId)
  } catch (error) {
    return unchecked(
      `cannot read pool ${settings.poolId} on ${settings.chainId} (from ${settings.from}): ${(error as Error).message}`,
    )
  } finally {
    kyve.close()
  }
  const problem = poolChainProblem(pool, nodeChainId)
  if (problem !== null) return { proceed: false, message: problem }
  if (pool.poolHeight === null) {
    return {
      proceed: false,
      message: `pool ${pool.poolId}'s key ${JSON.stringify(pool.poolHeightKey)} is not a height`,
    }
  }
  const highest = pool.poolHeight - settings.margin
  if (options.untilHeight > highest) {
    return {
      proceed: false,
      message:
        `--until-height ${options.untilHeight} is above what pool ${pool.poolId} has validated: its height is ` +
        `${pool.poolHeight} (${pool.endpoint}), so with margin ${settings.margin} the highest safe value is ${highest}`,
    }
  }
  return {
    proceed: true,
    note: `pool ${pool.poolId} on ${settings.chainId} serves ${nodeChainId} and has validated up to ${pool.poolHeight}`,
  }
}

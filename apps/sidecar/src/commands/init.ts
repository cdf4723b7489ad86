import path from 'node:path'
import {
  applyPruningSettings,
  inspectNodeHome,
  type NodeConfig,
  NodeConfigError,
  pathExists,
  readGenesisChainId,
  readNodeConfig,
  rpcEndpointFromLaddr,
} from '@ghostfleet/cometbft'
import {
  computeThresholds,
  type SidecarConfig,
  type SidecarConfigInput,
  type Thresholds,
  ThresholdsError,
  ValidationError,
} from '@ghostfleet/core'
import {
  AllEndpointsFailedError,
  createKyveClient,
  DeadlineExceededError,
  KyveError,
  PoolNotFoundError,
  type PoolProgress,
  poolChainProblem,
  resolveEndpoints,
} from '@ghostfleet/kyve'
import { configFilePath, expandHome, resolveConfigDir } from '../config/config-dir.js'
import { loadSidecarConfig, renderSidecarConfig, writeSidecarConfig } from '../config/config-file.js'
import { BinaryProblemError, checkExecutable } from '../config/preflight.js'
import {
  type InitInputs,
  importSupervysorConfig,
  SupervysorImportError,
} from '../config/supervysor-import.js'
import { adoptSupervysorStash } from '../config/supervysor-stash.js'
import { initBackendRefusal } from '../storage/pruning-support.js'
import { CosmovisorSetupError, cosmovisorDaemonName, launcherFor } from '../supervisor/launch-spec.js'
import type { Output } from './prune.js'

/*
 * `ghostfleet sidecar init`: everything is checked before anything is written — the binary, the node home, the
 * pool (asked through the KYVE API), the thresholds, the config as a whole — so an unknown pool, an
 * unreachable API, a bad home or a missing binary ends with a message and a non-zero exit and changes nothing.
 * Then the node's app.toml gets the pruning settings (backup kept), then the config is written (atomically).
 *
 * Exit codes: 0 written, or an existing config already says the same; 1 refused or failed (nothing written);
 * 2 bad usage.
 */
export const INIT_EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** The app state the node keeps: every N blocks the SDK prunes app state older than keep-recent. */
export const APP_PRUNING_INTERVAL = 10
export const DEFAULT_HTTP_PORT = 26670
/** The RPC gateway's port: next to the sidecar's own, clear of CometBFT's (26656–26658, 26660) and the SDK's. */
export const DEFAULT_GATEWAY_LISTEN = '127.0.0.1:26671'

export interface InitCommandOptions {
  inputs: InitInputs
  /** Extra node flags for every start (supervysor's `start --flags`, stored in the config here). */
  flags?: string
  config?: string
  force: boolean
  fromSupervysor?: string
}

/** Quotes a value for `node.flags` (split like a shell: quotes and backslashes). */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9@:.,_/=+-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

/** `node.flags`: the seeds as `--p2p.seeds` (normal mode only: ghost mode drops them) plus extra flags. */
export function composeNodeFlags(seeds: string | undefined, flags: string | undefined): string {
  const parts: string[] = []
  if (seeds !== undefined && seeds.trim() !== '') parts.push(`--p2p.seeds ${shellQuote(seeds.trim())}`)
  if (flags !== undefined && flags.trim() !== '') parts.push(flags.trim())
  return parts.join(' ')
}

/** The settings `init` writes, apart from the thresholds (which need the KYVE API). */
function plannedSettings(
  inputs: Required<Pick<InitInputs, 'binary' | 'home' | 'poolId'>> & InitInputs,
  flags: string | undefined,
  rpcEndpoint: string,
) {
  const binary = inputs.binary
  return {
    node: {
      binary,
      home: inputs.home,
      launcher: inputs.launcher ?? launcherFor(binary),
      flags: composeNodeFlags(inputs.seeds, flags),
      rpcEndpoint,
    },
    pool: {
      chainId: inputs.chainId ?? 'kyve-1',
      poolId: inputs.poolId,
      endpoints: inputs.endpoints ?? [],
    },
    pruning: {
      enabled: inputs.pruningEnabled ?? true,
      intervalHours: inputs.pruningIntervalHours ?? 24,
      statePruning: inputs.statePruning ?? true,
    },
    supervision: inputs.intervalSeconds === undefined ? {} : { intervalSeconds: inputs.intervalSeconds },
    http: {
      enabled: inputs.httpEnabled ?? true,
      listen: `127.0.0.1:${inputs.httpPort ?? DEFAULT_HTTP_PORT}`,
    },
    gateway: { enabled: true, listen: DEFAULT_GATEWAY_LISTEN },
  }
}

/** What to give the KYVE protocol node as its RPC, said after the config is written or found unchanged. */
function gatewayAdvice(
  config: { gateway?: { enabled?: boolean; listen?: string } },
  nodeRpc: string,
): string {
  if (config.gateway?.enabled !== true)
    return `RPC gateway off: the protocol node reads the node at ${nodeRpc}`
  const url = `http://${config.gateway.listen ?? DEFAULT_GATEWAY_LISTEN}`
  return (
    `RPC gateway: give the KYVE protocol node ${url} as its RPC (the runtime's "rpc", in place of ${nodeRpc}); ` +
    'it answers from this node, and from a sibling of the pool while this node is pruned, switched or down'
  )
}

type Planned = ReturnType<typeof plannedSettings>

/** Differences between an existing config and what init would write (thresholds left out). */
function differences(existing: SidecarConfig, planned: Planned): string[] {
  const rows: Array<[string, unknown, unknown]> = [
    ['node.binary', existing.node.binary, planned.node.binary],
    ['node.home', existing.node.home, planned.node.home],
    ['node.launcher', existing.node.launcher, planned.node.launcher],
    ['node.flags', existing.node.flags, planned.node.flags],
    ['node.rpcEndpoint', existing.node.rpcEndpoint, planned.node.rpcEndpoint],
    ['pool.chainId', existing.pool.chainId, planned.pool.chainId],
    ['pool.poolId', existing.pool.poolId, planned.pool.poolId],
    ['pool.endpoints', existing.pool.endpoints, planned.pool.endpoints],
    ['pruning.enabled', existing.pruning.enabled, planned.pruning.enabled],
    ['pruning.intervalHours', existing.pruning.intervalHours, planned.pruning.intervalHours],
    ['pruning.statePruning', existing.pruning.statePruning, planned.pruning.statePruning],
    ['http.enabled', existing.http.enabled, planned.http.enabled],
    ['http.listen', existing.http.listen, planned.http.listen],
    ['gateway.enabled', existing.gateway.enabled, planned.gateway.enabled],
    ['gateway.listen', existing.gateway.listen, planned.gateway.listen],
  ]
  if (planned.supervision.intervalSeconds !== undefined) {
    rows.push([
      'supervision.intervalSeconds',
      existing.supervision.intervalSeconds,
      planned.supervision.intervalSeconds,
    ])
  }
  return rows
    .filter(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b))
    .map(([key, a, b]) => `${key}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`)
}

function describeKyveFailure(error: unknown, chainId: string, poolId: number, endpoints: string[]): string {
  if (error instanceof PoolNotFoundError) {
    return `pool ${poolId} does not exist on ${chainId} (${error.endpoint} says so). Check --pool-id and --chain-id.`
  }
  if (error instanceof AllEndpointsFailedError || error instanceof DeadlineExceededError) {
    return (
      `cannot read pool ${poolId} from the KYVE API (${endpoints.join(', ')}): ${error.message}. ` +
      'Check the network, or give working endpoints with --fallback-endpoints.'
    )
  }
  if (error instanceof KyveError) return error.message
  return `KYVE API request failed: ${(error as Error).message}`
}

export async function runInit(options: InitCommandOptions, output: Output): Promise<number> {
  const configDir = resolveConfigDir(options.config)
  const fail = (message: string) => {
    output.err(`ghostfleet sidecar init: ${message}\nNothing was written.`)
    return INIT_EXIT.failed
  }

  // 1. Inputs: a supervysor config (if any), overridden by explicit flags.
  let inputs: InitInputs = {}
  if (options.fromSupervysor !== undefined) {
    const file = expandHome(options.fromSupervysor)
    try {
      const imported = await importSupervysorConfig(file)
      inputs = imported.inputs
      output.out(`importing supervysor config ${file}:`)
      for (const note of imported.notes) output.out(`  ${note}`)
    } catch (error) {
      if (error instanceof SupervysorImportError) return fail(error.message)
      throw error
    }
  }
  for (const [key, value] of Object.entries(options.inputs)) {
    if (value !== undefined) (inputs as Record<string, unknown>)[key] = value
  }
  if (inputs.home !== undefined) inputs.home = path.resolve(expandHome(inputs.home))
  if (inputs.binary?.includes('/')) inputs.binary = path.resolve(expandHome(inputs.binary))
  const missing = [
    inputs.binary === undefined ? '--binary' : null,
    inputs.home === undefined ? '--home' : null,
    inputs.poolId === undefined ? '--pool-id' : null,
  ].filter((flag): flag is string => flag !== null)
  if (missing.length > 0) {
    output.err(
      `ghostfleet sidecar init: missing ${missing.join(', ')}` +
        (options.fromSupervysor ? ' (not in the supervysor config either)' : '') +
        '\nNothing was written.',
    )
    return INIT_EXIT.usage
  }
  const required = inputs as InitInputs & { binary: string; home: string; poolId: number }

  // 2. The node home and the binary (local, cheap, and what an operator most often gets wrong).
  const homeReport = await inspectNodeHome(required.home)
  if (homeReport.error !== undefined) return fail(homeReport.error.message)
  let rpcEndpoint = required.rpcEndpoint
  let nodeConfig: NodeConfig
  try {
    nodeConfig = await readNodeConfig(required.home)
    rpcEndpoint ??= rpcEndpointFromLaddr(nodeConfig.rpc.laddr)
  } catch (error) {
    return fail(
      `cannot derive the node's RPC endpoint from its config.toml (${(error as Error).message}); pass --abci-endpoint`,
    )
  }
  let nodeChainId: string
  try {
    nodeChainId = await readGenesisChainId(nodeConfig.genesisPath)
  } catch (error) {
    if (error instanceof NodeConfigError) return fail(error.message)
    throw error
  }
  const planned = plannedSettings(required, options.flags, rpcEndpoint)
  // Offline pruning needs goleveldb: another backend is refused unless pruning is off (--no-pruning).
  let dbBackend: string
  try {
    dbBackend = (await readNodeConfig(required.home)).dbBackend
  } catch (error) {
    return fail(`cannot read the node's config.toml: ${(error as Error).message}`)
  }
  const backendRefusal = initBackendRefusal(dbBackend, planned.pruning.enabled)
  if (backendRefusal !== null) return fail(backendRefusal)

  // 3. An existing config is explained and left alone unless --force.
  const configFile = configFilePath(configDir)
  if ((await pathExists(configFile)) && !options.force) {
    try {
      const { config } = await loadSidecarConfig(configDir, {})
      const diff = differences(config, planned)
      if (diff.length === 0) {
        output.out(`${configFile} already exists with these settings; nothing changed.`)
        output.out(gatewayAdvice(config, config.node.rpcEndpoint))
        return INIT_EXIT.ok
      }
      output.err(
        `ghostfleet sidecar init: ${configFile} already exists and differs:\n${diff.map((d) => `  ${d}`).join('\n')}\n` +
          'Nothing was changed. Re-run with --force to overwrite it (app.toml is updated too).',
      )
    } catch (error) {
      output.err(
        `ghostfleet sidecar init: ${configFile} already exists but is not valid:\n${(error as Error).message}\n` +
          'Nothing was changed. Fix it by hand, or re-run with --force to replace it.',
      )
    }
    return INIT_EXIT.failed
  }

  try {
    await checkExecutable(required.binary)
    if (planned.node.launcher === 'cosmovisor') await cosmovisorDaemonName(required.home)
  } catch (error) {
    if (error instanceof BinaryProblemError || error instanceof CosmovisorSetupError)
      return fail(error.message)
    throw error
  }

  // 4. The pool, through the KYVE API.
  let endpoints: string[]
  try {
    endpoints = resolveEndpoints(planned.pool.chainId, planned.pool.endpoints)
  } catch (error) {
    return fail((error as Error).message)
  }
  const kyve = createKyveClient({ chainId: planned.pool.chainId, endpoints, deadlineMs: 15_000 })
  let pool: PoolProgress
  try {
    output.out(`reading pool ${required.poolId} on ${planned.pool.chainId} from ${endpoints.join(', ')} …`)
    pool = await kyve.getPool(required.poolId)
  } catch (error) {
    return fail(describeKyveFailure(error, planned.pool.chainId, required.poolId, endpoints))
  } finally {
    kyve.close()
  }
  // The pool must validate this node's chain: its heights decide what gets pruned.
  const chainProblem = poolChainProblem(pool, nodeChainId)
  if (chainProblem !== null) return fail(chainProblem)
  if (!pool.keyIsInteger) {
    return fail(
      `pool ${required.poolId} (runtime ${pool.runtime}) has key ${JSON.stringify(pool.poolHeightKey)}, which is not ` +
        'a block height: ghost mode and pruning need a block-height pool (@kyvejs/tendermint, tendermint-bsync)',
    )
  }

  // 5. Thresholds: computed as supervysor does; imported supervysor values are kept.
  let thresholds: Thresholds
  try {
    const computed = computeThresholds({
      maxBundleSize: pool.maxBundleSize,
      uploadInterval: pool.uploadInterval,
    })
    const overrides = inputs.thresholdOverrides ?? {}
    thresholds = computeThresholds(
      { maxBundleSize: pool.maxBundleSize, uploadInterval: pool.uploadInterval },
      {
        ...overrides,
        keepRecent: Math.max(computed.keepRecent, overrides.heightDifferenceMax ?? 0),
      },
    )
  } catch (error) {
    if (error instanceof ThresholdsError) return fail(`cannot derive thresholds: ${error.message}`)
    throw error
  }

  // 6. The whole config, validated before anything is written.
  const config: SidecarConfigInput = { ...planned, thresholds }
  try {
    renderSidecarConfig(config, configFile)
  } catch (error) {
    if (error instanceof ValidationError) return fail(`the resulting config is invalid:\n${error.message}`)
    throw error
  }

  // 7. Write: app.toml (with a backup of the original), then the config (atomically).
  let appToml: Awaited<ReturnType<typeof applyPruningSettings>>
  try {
    appToml = await applyPruningSettings(required.home, {
      keepRecent: thresholds.keepRecent,
      interval: APP_PRUNING_INTERVAL,
    })
  } catch (error) {
    if (error instanceof NodeConfigError) return fail(error.message)
    throw error
  }
  const written = await writeSidecarConfig(configDir, config)

  output.out(
    [
      `pool ${pool.poolId} (${pool.runtime}, ${pool.status}) on ${planned.pool.chainId} serves ${nodeChainId}, ` +
        `the node's chain: validated height ${pool.poolHeight}, ` +
        `max_bundle_size ${pool.maxBundleSize}, upload_interval ${pool.uploadInterval} s`,
      `thresholds: ghost at diff ≥ ${thresholds.heightDifferenceMax}, normal at diff ≤ ${thresholds.heightDifferenceMin}, ` +
        `keep-recent ${thresholds.keepRecent}`,
      appToml.changes.length === 0
        ? `${appToml.file}: pruning settings already in place`
        : `${appToml.file}: ${appToml.changes.map((c) => `${c.key} ${c.old ?? '(unset)'} → ${c.new}`).join(', ')}` +
          (appToml.backupFile ? ` (original kept as ${appToml.backupFile})` : ''),
      `config written to ${written}`,
      gatewayAdvice(config, planned.node.rpcEndpoint),
    ].join('\n'),
  )
  if (options.fromSupervysor !== undefined) {
    const adopted = await adoptSupervysorStash(required.home)
    if (adopted.status === 'restored') {
      output.out(
        `supervysor's stashed address book ${adopted.from} (${adopted.addrCount} addresses) restored to ${adopted.to}` +
          (adopted.ghostBookKept ? `; the ghost-mode book was kept as ${adopted.ghostBookKept}` : ''),
      )
    } else if (adopted.status === 'skipped') {
      output.err(
        `warning: supervysor's stashed address book ${adopted.from} was not restored: ${adopted.reason}`,
      )
    }
  }
  output.out(`next: stop supervysor (if it runs), then \`ghostfleet sidecar start --config ${configDir}\``)
  return INIT_EXIT.ok
}

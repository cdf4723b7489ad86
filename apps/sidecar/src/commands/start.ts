import { stat } from 'node:fs/promises'
import path from 'node:path'
import {
  createNodeRpcClient,
  NodeConfigError,
  NotANodeHomeError,
  readGenesisChainId,
  readNodeConfig,
  requireNodeHome,
} from '@ghostfleet/cometbft'
import { ValidationError } from '@ghostfleet/core'
import { resolveEndpoints } from '@ghostfleet/kyve'
import { createLogger, type Logger, type StartedHttpServer, startHttpServer } from '@ghostfleet/telemetry'
import { resolveConfigDir, stashDirPath } from '../config/config-dir.js'
import { ConfigNotFoundError, loadSidecarConfig } from '../config/config-file.js'
import { BinaryProblemError, checkExecutable } from '../config/preflight.js'
import { Controller } from '../control/controller.js'
import { LocalDecisionSource } from '../control/local-decider.js'
import { PoolPoller } from '../control/pool-poller.js'
import { prepareStart, StartupRefusedError } from '../control/startup.js'
import {
  type ConsulSettings,
  ConsulSettingsError,
  consulSettingsFrom,
  type SidecarConsul,
  sidecarConsulFrom,
} from '../discovery/consul.js'
import { FleetMode } from '../fleet/fleet-mode.js'
import { FleetConfigError, resolveFleetSettings } from '../fleet/fleet-settings.js'
import { createSidecarHttpApp } from '../http/sidecar-server.js'
import { createKyveSource } from '../kyve/kyve-source.js'
import { STARTUP_CHAIN_CHECK_MS, verifyPoolChain } from '../kyve/pool-chain-check.js'
import { SidecarStateError, SidecarStateStore } from '../state/sidecar-state.js'
import { StateKeeper } from '../state/state-keeper.js'
import { createAddressBookKeeper } from '../storage/address-book-keeper.js'
import { findLockedDatabases, LockCheckUnavailableError } from '../storage/database-locks.js'
import { directoryBytes } from '../storage/directory-size.js'
import { waitUntilHomeIdle } from '../storage/home-idle.js'
import { lockedPrunedDatabases, pruneNodeHome } from '../storage/offline-prune.js'
import { type PruningSupport, pruningSupport } from '../storage/pruning-support.js'
import { CosmovisorSetupError, launchSpecFor } from '../supervisor/launch-spec.js'
import { type NodeOutput, NodeProcess } from '../supervisor/node-process.js'
import { createSidecarMetrics } from '../telemetry/sidecar-metrics.js'
import { SIDECAR_VERSION } from '../version.js'

export interface StartOptions {
  config?: string
  /** Extra node flags, appended to `node.flags` from the config (supervysor's `start --flags`). */
  flags?: string
  /** Redis URL for fleet mode; wins over `GHOSTFLEET_REDIS_URL` and `fleet.redisUrl`. */
  redis?: string
  /** Consul agent URL: register this sidecar; wins over `GHOSTFLEET_CONSUL_URL`. */
  consul?: string
}

/** Exit codes of `start`: 0 after a clean shutdown, 1 for a local fatal error (config, state, home, port). */
export const EXIT_OK = 0
export const EXIT_FATAL = 1
/** A second SIGTERM/SIGINT forced the exit before the shutdown finished. */
export const EXIT_FORCED = 2

function fatal(log: Logger | null, message: string, error?: unknown): number {
  if (log) log.fatal(error === undefined ? {} : { err: error }, message)
  else process.stderr.write(`ghostfleet-sidecar: ${message}\n`)
  return EXIT_FATAL
}

/** Runs the supervision until a signal or a local fatal error; resolves with the exit code. */
export async function runStart(options: StartOptions): Promise<number> {
  const configDir = resolveConfigDir(options.config)
  let loaded: Awaited<ReturnType<typeof loadSidecarConfig>>
  try {
    loaded = await loadSidecarConfig(configDir)
  } catch (error) {
    if (error instanceof ConfigNotFoundError || error instanceof ValidationError)
      return fatal(null, error.message)
    throw error
  }
  const { config } = loaded
  const log = createLogger({ name: 'ghostfleet-sidecar' })
  const home = path.resolve(config.node.home)

  // Local checks: a node home and a binary that exist. Anything here is an operator error: exit 1.
  let dataDir: string
  let pruning: PruningSupport
  let nodeChainId: string
  try {
    await requireNodeHome(home)
    await checkExecutable(config.node.binary)
    const nodeConfig = await readNodeConfig(home)
    dataDir = nodeConfig.dbPath
    nodeChainId = await readGenesisChainId(nodeConfig.genesisPath)
    // A backend other than goleveldb (also one changed after init) turns pruning off for this run, said once.
    pruning = pruningSupport(config.pruning.enabled, nodeConfig.dbBackend)
    if (config.pruning.enabled && !pruning.enabled) {
      log.warn(
        { dbBackend: nodeConfig.dbBackend, reason: pruning.reason },
        `pruning is off for this run: ${pruning.detail}; ghost mode and mode switching go on. Set ` +
          'pruning.enabled = false in the sidecar config (init --no-pruning) to make it explicit',
      )
    }
    config.pruning.enabled = pruning.enabled
  } catch (error) {
    if (
      error instanceof NotANodeHomeError ||
      error instanceof BinaryProblemError ||
      error instanceof NodeConfigError
    )
      return fatal(log, error.message)
    return fatal(log, `cannot use the node home ${home}: ${(error as Error).message}`, error)
  }

  let keeper: StateKeeper
  const store = new SidecarStateStore(configDir)
  try {
    keeper = new StateKeeper(store, await store.load())
  } catch (error) {
    if (error instanceof SidecarStateError) return fatal(log, error.message)
    throw error
  }

  const intervalMs = config.supervision.intervalSeconds * 1000
  const maxPoolAgeMs = config.pool.maxPoolAgeSeconds * 1000
  if (maxPoolAgeMs < 3 * intervalMs) {
    log.warn(
      {
        maxPoolAgeSeconds: config.pool.maxPoolAgeSeconds,
        intervalSeconds: config.supervision.intervalSeconds,
      },
      'pool.maxPoolAgeSeconds is less than three supervision intervals: one slow KYVE answer makes the pool ' +
        'height stale, holding the mode and refusing prunes',
    )
  }
  let endpoints: string[]
  try {
    endpoints = resolveEndpoints(config.pool.chainId, config.pool.endpoints)
  } catch (error) {
    return fatal(log, `${(error as Error).message} (pool.endpoints in ${loaded.file})`)
  }
  let consulSettings: ConsulSettings | null
  try {
    consulSettings = consulSettingsFrom(options.consul)
  } catch (error) {
    if (error instanceof ConsulSettingsError) return fatal(log, error.message)
    throw error
  }
  const metrics = createSidecarMetrics({
    chainId: config.pool.chainId,
    poolId: config.pool.poolId,
    endpoints,
  })
  metrics.pruningEnabled.set({ reason: pruning.reason }, pruning.enabled ? 1 : 0)
  const wired = createKyveSource({
    chainId: config.pool.chainId,
    nodeChainId,
    endpoints,
    intervalMs,
    metrics,
  })
  // A pool that does not validate this node's chain is a configuration error: refuse to start while the node is
  // untouched. A KYVE API that cannot answer now does not hold the node's start: until an answer names this
  // chain, the source above rejects every answer, so nothing is decided or pruned from a wrong pool.
  const chainCheck = await verifyPoolChain(wired.source, config.pool.poolId, STARTUP_CHAIN_CHECK_MS)
  if (chainCheck.kind === 'mismatch') {
    wired.client.close()
    return fatal(log, `${chainCheck.message} (pool in ${loaded.file})`)
  }
  if (chainCheck.kind === 'unverified') {
    log.warn(
      { reason: chainCheck.reason },
      "could not verify at start that the pool validates this node's chain; no decision or prune uses the pool " +
        'until an answer does',
    )
  }
  // Fleet mode (a Redis URL is configured): the tracker decides, this sidecar reports and falls back to itself.
  let fleet: FleetMode | null = null
  try {
    const settings = resolveFleetSettings({ fleet: config.fleet, redisFlag: options.redis })
    if (settings !== null) {
      fleet = new FleetMode({
        settings,
        chainId: config.pool.chainId,
        poolId: config.pool.poolId,
        thresholds: config.thresholds,
        version: SIDECAR_VERSION,
        kyve: wired.source,
        registry: metrics.registry,
        log,
      })
    }
  } catch (error) {
    if (error instanceof FleetConfigError) {
      wired.client.close()
      return fatal(log, error.message)
    }
    throw error
  }

  const poller = new PoolPoller({
    source: fleet?.poolSource ?? wired.source,
    poolId: config.pool.poolId,
    minRetryMs: intervalMs,
    maxRetryMs: Math.max(intervalMs, Math.min(300_000, maxPoolAgeMs / 2)),
  })
  const flags = [config.node.flags, options.flags ?? ''].filter((f) => f.trim() !== '').join(' ')
  const launch = {
    binary: config.node.binary,
    home,
    launcher: config.node.launcher,
    flags,
    configDir,
  }
  const output: NodeOutput =
    config.node.output === 'file' && config.node.logFile !== undefined
      ? { kind: 'file', path: path.resolve(config.node.logFile) }
      : { kind: 'inherit' }

  let controller: Controller | undefined
  const node = new NodeProcess({
    launchSpec: () => launchSpecFor(launch, keeper.get().mode),
    output,
    stopGraceMs: config.node.stopGraceSeconds * 1000,
    backoff: {
      initialMs: config.supervision.restartBackoffInitialSeconds * 1000,
      maxMs: config.supervision.restartBackoffMaxSeconds * 1000,
      resetAfterMs: config.supervision.restartBackoffResetSeconds * 1000,
    },
    onExit: (exit) => controller?.nodeExited(exit),
    onStart: (pid) => controller?.nodeStarted(pid),
    onError: (error) => log.error({ err: error }, 'the node could not be restarted; retrying after backoff'),
  })

  // Before the address book is stashed or restored, and before a prune, nothing may hold the home any more (a
  // node still shutting down writes its book when it exits): see storage/home-idle.ts.
  const homeIdleTimeoutMs = Math.max(30_000, config.node.stopGraceSeconds * 1000)
  const addressBook = createAddressBookKeeper(home, stashDirPath(configDir), {
    dataDir,
    idleTimeoutMs: homeIdleTimeoutMs,
  })
  try {
    // A cosmovisor setup without DAEMON_NAME cannot launch: say so now, not after the first restart.
    await launchSpecFor(launch, 'normal')
    const startup = await prepareStart({
      configDir,
      home,
      state: keeper,
      addressBook,
      lockedDatabases: async () => {
        try {
          return await findLockedDatabases(dataDir)
        } catch (error) {
          if (error instanceof LockCheckUnavailableError) return await lockedPrunedDatabases(dataDir)
          throw error
        }
      },
      stopGraceMs: config.node.stopGraceSeconds * 1000,
      now: Date.now,
      log,
    })
    if (startup.addressBook.ok) log.info({ mode: keeper.get().mode }, startup.addressBook.detail)
    else {
      log.error(
        { err: startup.addressBook.error, revertedToNormal: startup.revertedToNormal },
        startup.revertedToNormal
          ? 'could not stash the address book for the persisted ghost mode: starting in normal mode instead ' +
              '(a ghost node would overwrite the book); nothing was changed on disk'
          : 'could not restore the address book; the stash is kept, starting in normal mode with the seeds',
      )
    }
  } catch (error) {
    if (error instanceof StartupRefusedError || error instanceof CosmovisorSetupError) {
      wired.client.close()
      await fleet?.close()
      return fatal(log, error.message)
    }
    throw error
  }

  let exitCode = EXIT_OK
  let resolveDone: (code: number) => void = () => {}
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve
  })
  let httpServer: StartedHttpServer | null = null
  let consul: SidecarConsul | null = null
  let shuttingDown = false
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) return
    shuttingDown = true
    exitCode = code
    log.info({ reason }, 'shutting down: stopping the supervision loop and the node')
    await consul?.stop()
    try {
      await controller?.stop()
    } catch (error) {
      log.error({ err: error }, 'the node did not stop cleanly')
      exitCode = EXIT_FATAL
    }
    wired.client.close()
    await httpServer?.close().catch(() => undefined)
    log.info({ exitCode }, 'stopped')
    resolveDone(exitCode)
  }

  const localDecider = {
    pool: poller,
    thresholds: config.thresholds,
    maxPoolAgeMs,
    pruning: { enabled: config.pruning.enabled, margin: config.pruning.margin },
  }
  controller = new Controller(
    {
      intervalMs,
      maxPoolAgeMs,
      thresholds: config.thresholds,
      pruning: {
        enabled: config.pruning.enabled,
        intervalMs: config.pruning.intervalHours * 3_600_000,
        margin: config.pruning.margin,
        disabledReason: pruning.detail,
      },
      dataSizeEveryMs: Math.max(60_000, intervalMs),
    },
    {
      node,
      rpc: createNodeRpcClient({
        endpoint: config.node.rpcEndpoint,
        timeoutMs: Math.min(5_000, Math.max(1_000, intervalMs)),
      }),
      poller,
      decisions:
        fleet?.decisionSource(localDecider, { poller, state: keeper, intervalMs }) ??
        new LocalDecisionSource(localDecider),
      addressBook,
      state: keeper,
      metrics,
      log,
      now: Date.now,
      waitUntilUnlocked: () => waitUntilHomeIdle(home, { dataDir, timeoutMs: homeIdleTimeoutMs }),
      prune: (untilHeight, signal) => {
        let lastLog = 0
        return pruneNodeHome({
          home,
          untilHeight,
          statePruning: config.pruning.statePruning,
          forceCompact: config.pruning.forceCompact,
          signal,
          onProgress: (progress) => {
            const now = Date.now()
            if (now - lastLog < 5_000) return
            lastLog = now
            log.info(progress, `pruning: ${progress.phase} ${progress.done}/${progress.total}`)
          },
        })
      },
      dataDirBytes: () => directoryBytes(dataDir),
      checkHome: async () => {
        for (const required of [path.join(home, 'config', 'config.toml'), dataDir]) {
          try {
            await stat(required)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT')
              return `${required} is gone: the node home was removed`
          }
        }
        return null
      },
      onFatal: (error) => {
        log.fatal({ err: error }, `local fatal error: ${error.message}`)
        void shutdown('fatal error', EXIT_FATAL)
      },
    },
  )

  if (config.http.enabled) {
    try {
      httpServer = await startHttpServer(
        createSidecarHttpApp({
          controller,
          metrics,
          fleet,
          logger: log,
          meta: {
            version: SIDECAR_VERSION,
            chainId: config.pool.chainId,
            poolId: config.pool.poolId,
            configDir,
            startedAt: Date.now(),
            maxPoolAgeMs,
          },
        }),
        config.http.listen,
      )
      log.info({ url: httpServer.url }, 'serving /livez, /readyz, /status and /metrics')
    } catch (error) {
      wired.client.close()
      await fleet?.close()
      return fatal(log, `${(error as Error).message} (http.listen in ${loaded.file})`)
    }
  }

  consul = sidecarConsulFrom({
    settings: consulSettings,
    httpUrl: httpServer?.url ?? null,
    fleetSidecarId:
      fleet === null
        ? null
        : (resolveFleetSettings({ fleet: config.fleet, redisFlag: options.redis })?.sidecarId ?? null),
    chainId: config.pool.chainId,
    poolId: config.pool.poolId,
    version: SIDECAR_VERSION,
    mode: () => keeper.get().mode,
    logger: log,
  })
  consul?.start()

  let signals = 0
  const onSignal = (signal: NodeJS.Signals) => {
    signals++
    if (signals === 1) {
      void shutdown(signal, EXIT_OK)
      return
    }
    log.warn(
      { signal },
      'second signal: exiting now; the node may still be running and is adopted on the next start',
    )
    resolveDone(EXIT_FORCED)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)

  log.info(
    {
      version: SIDECAR_VERSION,
      configDir,
      home,
      pool: `${config.pool.chainId}/${config.pool.poolId}`,
      mode: keeper.get().mode,
      thresholds: config.thresholds,
      intervalSeconds: config.supervision.intervalSeconds,
      pruning: config.pruning,
    },
    `starting the node in ${keeper.get().mode} mode`,
  )
  await controller.start()
  fleet?.start(controller)
  const code = await done
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  return code
}

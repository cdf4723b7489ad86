/**
 * The sidecar process: builds its parts from the resolved settings, starts them in order and stops them in
 * reverse order (one cleanup stack, also for a start that fails half-way).
 *
 * Start order: node home and binary checks → persisted state → KYVE client (and the check that the pool validates
 * this node's chain) → fleet mode (Redis) → address book at its place for the persisted mode → HTTP server →
 * peer listener and RPC gateway → supervision loop and node → fleet reporting → Consul registration. Stop order
 * is the reverse: deregister first (nothing is routed to a node that is stopping), then the loop and the node
 * (the gateway still answers from siblings meanwhile), the gateway and peer listener, the HTTP server, Redis, KYVE.
 * Fleet reporting goes on while the node stops, so the tracker sees this sidecar restart rather than vanish.
 */
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
import type { Service } from '@ghostfleet/core'
import { type Logger, startHttpServer } from '@ghostfleet/telemetry'
import { stashDirPath } from './config/config-dir.js'
import { BinaryProblemError, checkExecutable } from './config/preflight.js'
import type { SidecarSettings } from './config/sidecar-settings.js'
import { Controller } from './control/controller.js'
import { LocalDecisionSource } from './control/local-decider.js'
import { PoolRefresher } from './control/pool-refresher.js'
import { sidecarConsulFrom } from './discovery/consul.js'
import { createDonationParts } from './donation/donation-parts.js'
import { FleetMode } from './fleet/fleet-mode.js'
import { createGatewayMetrics } from './gateway/gateway-metrics.js'
import { startGatewayParts } from './gateway/gateway-parts.js'
import { createSidecarHttpApp } from './http/sidecar-server.js'
import { createKyveSource } from './kyve/kyve-source.js'
import { STARTUP_CHAIN_CHECK_MS, verifyPoolChain } from './kyve/pool-chain-check.js'
import { prepareStart } from './startup.js'
import { SidecarStateStore } from './state/sidecar-state.js'
import { StateKeeper } from './state/state-keeper.js'
import { createAddressBookKeeper } from './storage/address-book-keeper.js'
import { findLockedDatabases, LockCheckUnavailableError } from './storage/database-locks.js'
import { directoryBytes } from './storage/directory-size.js'
import { waitUntilHomeIdle } from './storage/home-idle.js'
import { lockedPrunedDatabases, pruneNodeHome } from './storage/offline-prune.js'
import { type PruningSupport, pruningSupport } from './storage/pruning-support.js'
import { launchSpecFor } from './supervisor/launch-spec.js'
import { NodeProcess } from './supervisor/node-process.js'
import { createSidecarMetrics } from './telemetry/sidecar-metrics.js'
import { SIDECAR_VERSION } from './version.js'

export class Sidecar implements Service {
  /** Settles with a local fatal error found while running (the node home vanished). */
  readonly failed: Promise<Error>
  private fail: (error: Error) => void = () => {}
  private readonly cleanups: Array<{ what: string; run: () => Promise<void> | void }> = []

  /** Set by `start`, from `resolveSettings`. */
  private settings!: SidecarSettings

  /** `resolveSettings` runs first thing in `start`, so its errors end the start like any other. */
  constructor(
    private readonly resolveSettings: () => Promise<SidecarSettings>,
    private readonly log: Logger,
  ) {
    this.failed = new Promise((resolve) => {
      this.fail = resolve
    })
  }

  async start(): Promise<void> {
    this.settings = await this.resolveSettings()
    const { settings, log } = this
    const { home } = settings.launch
    const facts = await this.checkNode()
    const store = new SidecarStateStore(settings.configDir)
    const keeper = new StateKeeper(store, await store.load())
    if (settings.maxPoolAgeMs < 3 * settings.intervalMs) {
      log.warn(
        { maxPoolAgeSeconds: settings.maxPoolAgeMs / 1000, intervalSeconds: settings.intervalMs / 1000 },
        'pool.maxPoolAgeSeconds is less than three supervision intervals: one slow KYVE answer makes the pool ' +
          'height stale, holding the mode and refusing prunes',
      )
    }
    const pruning = { ...settings.pruning, enabled: facts.pruning.enabled }
    const metrics = createSidecarMetrics({
      chainId: settings.chainId,
      poolId: settings.poolId,
      endpoints: settings.endpoints,
    })
    metrics.pruningEnabled.set({ reason: facts.pruning.reason }, facts.pruning.enabled ? 1 : 0)
    const kyve = createKyveSource({
      chainId: settings.chainId,
      nodeChainId: facts.chainId,
      endpoints: settings.endpoints,
      intervalMs: settings.intervalMs,
      metrics,
    })
    this.defer('KYVE client', () => kyve.client.close())
    // A pool that does not validate this node's chain is a configuration error: refuse to start while the node is
    // untouched. A KYVE API that cannot answer now does not hold the node's start: until an answer names this
    // chain, the source above rejects every answer, so nothing is decided or pruned from a wrong pool.
    const chainCheck = await verifyPoolChain(kyve.source, settings.poolId, STARTUP_CHAIN_CHECK_MS)
    if (chainCheck.kind === 'mismatch') throw new Error(`${chainCheck.message} (pool in ${settings.file})`)
    if (chainCheck.kind === 'unverified') {
      log.warn(
        { reason: chainCheck.reason },
        "could not verify at start that the pool validates this node's chain; no decision or prune uses the pool " +
          'until an answer does',
      )
    }
    // Fleet mode (a Redis URL is configured): the tracker decides, this sidecar reports and falls back to itself.
    const fleet =
      settings.fleet === null
        ? null
        : new FleetMode({
            settings: settings.fleet,
            chainId: settings.chainId,
            poolId: settings.poolId,
            thresholds: settings.thresholds,
            version: SIDECAR_VERSION,
            kyve: kyve.source,
            registry: metrics.registry,
            log,
          })
    if (fleet !== null) this.defer('fleet mode', () => fleet.close())

    // Donating checkpoints to bootstrapping hosts needs the fleet key (manifests are signed) and the peer listener.
    const fleetKey = settings.fleet?.fleetKey ?? null
    const donation =
      fleet !== null && fleetKey !== null && settings.fleet !== null && settings.peer !== null
        ? createDonationParts({
            settings,
            fleetKey,
            sidecarId: settings.fleet.sidecarId,
            registry: metrics.registry,
            log,
          })
        : null
    if (donation !== null) this.defer('checkpoint sweeps and sealing', () => donation.stop())
    await donation?.load()

    const pool = new PoolRefresher({
      source: fleet?.poolSource ?? kyve.source,
      poolId: settings.poolId,
      retry: settings.poolRetry,
    })
    const { launch } = settings
    let controller: Controller | undefined
    const node = new NodeProcess({
      launchSpec: () => launchSpecFor(launch, keeper.get().mode),
      output: settings.node.output,
      stopGraceMs: settings.node.stopGraceMs,
      backoff: settings.node.restartBackoff,
      onExit: (exit) => controller?.nodeExited(exit),
      onStart: (pid) => controller?.nodeStarted(pid),
      onError: (error) =>
        log.error({ err: error }, 'the node could not be restarted; retrying after backoff'),
    })
    // Before the address book is stashed or restored, and before a prune, nothing may hold the home any more (a
    // node still shutting down writes its book when it exits): see storage/home-idle.ts.
    const idle = { dataDir: facts.dataDir, timeoutMs: settings.node.idleTimeoutMs }
    const addressBook = createAddressBookKeeper(home, stashDirPath(settings.configDir), {
      dataDir: facts.dataDir,
      idleTimeoutMs: idle.timeoutMs,
    })
    // A cosmovisor setup without DAEMON_NAME cannot launch: say so now, not after the first restart.
    await launchSpecFor(launch, 'normal')
    await this.prepareAddressBook(keeper, addressBook, facts.dataDir)

    const local = {
      thresholds: settings.thresholds,
      maxPoolAgeMs: settings.maxPoolAgeMs,
      pruning: { enabled: pruning.enabled, margin: pruning.margin },
    }
    controller = new Controller(
      {
        intervalMs: settings.intervalMs,
        maxPoolAgeMs: settings.maxPoolAgeMs,
        thresholds: settings.thresholds,
        pruning: {
          enabled: pruning.enabled,
          intervalMs: pruning.intervalMs,
          margin: pruning.margin,
          disabledReason: facts.pruning.detail,
        },
        dataSizeEveryMs: settings.dataSizeEveryMs,
      },
      {
        node,
        rpc: createNodeRpcClient({
          endpoint: settings.node.rpcEndpoint,
          timeoutMs: settings.node.rpcTimeoutMs,
        }),
        pool,
        decisions:
          fleet?.decisionSource(local, { pool, state: keeper, intervalMs: settings.intervalMs }) ??
          new LocalDecisionSource(local),
        addressBook,
        state: keeper,
        metrics,
        log,
        now: Date.now,
        waitUntilUnlocked: () => waitUntilHomeIdle(home, idle),
        prune: (untilHeight, signal) => this.prune(untilHeight, signal),
        dataDirBytes: () => directoryBytes(facts.dataDir),
        checkHome: () => homeProblem(home, facts.dataDir),
        ...(donation === null ? {} : { donor: donation.donor }),
        onFatal: (error) => {
          log.fatal({ err: error }, `local fatal error: ${error.message}`)
          this.fail(error)
        },
      },
    )

    let httpUrl: string | null = null
    if (settings.httpListen !== null) {
      const app = createSidecarHttpApp({
        controller,
        metrics,
        fleet,
        logger: log,
        meta: {
          version: SIDECAR_VERSION,
          chainId: settings.chainId,
          poolId: settings.poolId,
          configDir: settings.configDir,
          startedAt: Date.now(),
          maxPoolAgeMs: settings.maxPoolAgeMs,
        },
      })
      let server: Awaited<ReturnType<typeof startHttpServer>>
      try {
        server = await startHttpServer(app, settings.httpListen)
      } catch (error) {
        throw new Error(`${(error as Error).message} (http.listen in ${settings.file})`)
      }
      this.defer('HTTP server', () => server.close().catch(() => undefined))
      httpUrl = server.url
      log.info({ url: server.url }, 'serving /livez, /readyz, /status and /metrics')
    }

    const running = controller
    const peerUrl = await startGatewayParts({
      settings,
      controller: running,
      fleet,
      nodeChainId: facts.chainId,
      metrics: createGatewayMetrics(metrics.registry),
      log,
      defer: (what, run) => this.defer(what, run),
      ...(donation === null ? {} : { checkpoints: donation.routes }),
    })
    donation?.start()

    log.info(
      {
        version: SIDECAR_VERSION,
        configDir: settings.configDir,
        home,
        pool: `${settings.chainId}/${settings.poolId}`,
        mode: keeper.get().mode,
        thresholds: settings.thresholds,
        intervalSeconds: settings.intervalMs / 1000,
        pruning,
      },
      `starting the node in ${keeper.get().mode} mode`,
    )
    this.defer('node', () => running.stop())
    await running.start()
    fleet?.start({
      observe: () => ({ snapshot: running.snapshot(), activity: running.memberActivity() }),
      wake: () => running.runSoon(),
      ...(peerUrl === null ? {} : { peerUrl }),
    })

    const consul = sidecarConsulFrom({
      settings: settings.consul,
      httpUrl,
      fleetSidecarId: settings.fleet?.sidecarId ?? null,
      chainId: settings.chainId,
      poolId: settings.poolId,
      version: SIDECAR_VERSION,
      mode: () => keeper.get().mode,
      logger: log,
    })
    if (consul !== null) {
      consul.start()
      this.defer('Consul registration', () => consul.stop())
    }
  }

  /**
   * Runs the cleanup stack, last started first. Every step runs even when one before it failed; the first failure
   * is thrown at the end (the exit code says the stop was not clean).
   */
  async stop(): Promise<void> {
    let failure: unknown
    for (let step = this.cleanups.pop(); step !== undefined; step = this.cleanups.pop()) {
      try {
        await step.run()
      } catch (error) {
        this.log.error({ err: error }, `the ${step.what} did not stop cleanly`)
        failure ??= error
      }
    }
    if (failure !== undefined) throw failure
  }

  private defer(what: string, run: () => Promise<void> | void): void {
    this.cleanups.push({ what, run })
  }

  /** The node home and binary exist, and what they say about this run. Anything wrong here is the operator's. */
  private async checkNode(): Promise<{ dataDir: string; chainId: string; pruning: PruningSupport }> {
    const { settings, log } = this
    const { home } = settings.launch
    let nodeConfig: Awaited<ReturnType<typeof readNodeConfig>>
    let chainId: string
    try {
      await requireNodeHome(home)
      await checkExecutable(settings.launch.binary)
      nodeConfig = await readNodeConfig(home)
      chainId = await readGenesisChainId(nodeConfig.genesisPath)
    } catch (error) {
      if (
        error instanceof NotANodeHomeError ||
        error instanceof BinaryProblemError ||
        error instanceof NodeConfigError
      )
        throw error
      throw new Error(`cannot use the node home ${home}: ${(error as Error).message}`, { cause: error })
    }
    // A backend other than goleveldb (also one changed after init) turns pruning off for this run, said once.
    const pruning = pruningSupport(settings.pruning.enabled, nodeConfig.dbBackend)
    if (settings.pruning.enabled && !pruning.enabled) {
      log.warn(
        { dbBackend: nodeConfig.dbBackend, reason: pruning.reason },
        `pruning is off for this run: ${pruning.detail}; ghost mode and mode switching go on. Set ` +
          'pruning.enabled = false in the sidecar config (init --no-pruning) to make it explicit',
      )
    }
    return { dataDir: nodeConfig.dbPath, chainId, pruning }
  }

  /** Puts the address book where the persisted mode needs it (or falls back to normal mode), before the node runs. */
  private async prepareAddressBook(
    keeper: StateKeeper,
    addressBook: ReturnType<typeof createAddressBookKeeper>,
    dataDir: string,
  ): Promise<void> {
    const { settings, log } = this
    const startup = await prepareStart({
      configDir: settings.configDir,
      home: settings.launch.home,
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
      stopGraceMs: settings.node.stopGraceMs,
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
  }

  private prune(untilHeight: number, signal: AbortSignal) {
    const { settings, log } = this
    let lastLog = 0
    return pruneNodeHome({
      home: settings.launch.home,
      untilHeight,
      statePruning: settings.pruning.statePruning,
      forceCompact: settings.pruning.forceCompact,
      signal,
      onProgress: (progress) => {
        const now = Date.now()
        if (now - lastLog < 5_000) return
        lastLog = now
        log.info(progress, `pruning: ${progress.phase} ${progress.done}/${progress.total}`)
      },
    })
  }
}

/** The node home or its data directory vanished while running: going on is pointless. */
async function homeProblem(home: string, dataDir: string): Promise<string | null> {
  for (const required of [path.join(home, 'config', 'config.toml'), dataDir]) {
    try {
      await stat(required)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return `${required} is gone: the node home was removed`
    }
  }
  return null
}

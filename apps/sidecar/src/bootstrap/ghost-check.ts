import type { StructuredLogger } from '@ghostfleet/core'
import type { VerifiedManifest } from '../checkpoint/index.js'
import type { SidecarSettings } from '../config/sidecar-settings.js'
import { launchSpecFor } from '../supervisor/launch-spec.js'
import { type NodeExit, NodeProcess } from '../supervisor/node-process.js'
import { checkServedBlocks } from './block-check.js'
import { BootstrapError } from './errors.js'

/*
 * The installed node's first run: in ghost mode (no seeds, no persistent peers, no PEX, P2P on loopback), so it
 * neither syncs nor gossips before it is known to hold the donor's window, with the launch command `start` uses.
 * Once `/block` at the manifest's heights matches, the node is stopped again and `start` takes over (its tracker
 * decides the mode from then on).
 */

export interface GhostCheckOptions {
  settings: Pick<SidecarSettings, 'launch' | 'node'>
  manifest: VerifiedManifest
  /** How long the node may take to start serving. */
  timeoutMs: number
  signal?: AbortSignal
  log: StructuredLogger
}

/** Starts the node in ghost mode, checks its blocks, stops it. Returns the seconds until it served. */
export async function ghostCheck(
  options: GhostCheckOptions,
): Promise<{ servingAfterMs: number; heights: number[] }> {
  const { settings, log } = options
  let exited: NodeExit | null = null
  const node = new NodeProcess({
    launchSpec: () => launchSpecFor(settings.launch, 'ghost'),
    output: settings.node.output,
    stopGraceMs: settings.node.stopGraceMs,
    backoff: settings.node.restartBackoff,
    onExit: (exit) => {
      if (!exit.expected) {
        exited = exit
        log.warn({ code: exit.code, signal: exit.signal }, 'the node exited during the check')
      }
    },
  })
  const started = Date.now()
  try {
    try {
      await node.start()
    } catch (error) {
      throw new BootstrapError(
        'verify',
        `cannot start the node (${settings.launch.binary}): ${(error as Error).message}; the checkpoint is installed`,
        { cause: error },
      )
    }
    log.info(
      { pid: node.pid(), rpc: settings.node.rpcEndpoint },
      'node started in ghost mode on the checkpoint',
    )
    const heights = await checkServedBlocks({
      rpcUrl: settings.node.rpcEndpoint,
      manifest: options.manifest,
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }).catch((error: unknown) => {
      const crash = exited as NodeExit | null
      if (crash !== null && error instanceof BootstrapError)
        throw new BootstrapError(
          'verify',
          `${error.message} (the node exited with ${crash.code ?? crash.signal} meanwhile)`,
          { cause: error },
        )
      throw error
    })
    return { servingAfterMs: Date.now() - started, heights }
  } finally {
    await node.stop()
  }
}

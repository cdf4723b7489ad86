import type { FleetKey } from '@ghostfleet/coordination'
import { errorFields, type StructuredLogger } from '@ghostfleet/core'
import type { SidecarSettings } from '../config/sidecar-settings.js'
import type { DownloadCheckpointResult } from './download-checkpoint.js'
import { BootstrapError } from './errors.js'
import { ghostCheck } from './ghost-check.js'
import { checkHome } from './home-check.js'
import { installFromDonor } from './install-from-donor.js'
import { bootstrapPeerClient } from './peer-client.js'
import { quarantineInstalled } from './quarantine.js'
import { checkpointRoute } from './routes.js'
import { requestBootstrap, waitForCheckpoint } from './tracker-client.js'

/*
 * `bootstrap` from end to end: the home is checked first (a refusal asks no donor for a checkpoint), the tracker
 * picks a donor and schedules its checkpoint, the checkpoint is downloaded and installed, the node is started in
 * ghost mode and must serve the donor's blocks, and the donor is told to drop the checkpoint. The caller then
 * hands over to `start`.
 */

export interface RunBootstrapOptions {
  settings: Pick<SidecarSettings, 'launch' | 'node' | 'chainId' | 'poolId'>
  fleetKey: FleetKey
  sidecarId: string
  /** The tracker's peer listener. */
  trackerUrl: string
  force: boolean
  parallel: number
  /** For the tracker to have a checkpoint ready, and again for the node to serve. */
  timeoutMs: number
  downloadRoot?: string
  signal?: AbortSignal
  log: StructuredLogger
}

export interface BootstrapOutcome {
  bootstrapId: string
  donor: string
  checkpointId: string
  base: number
  height: number
  download: DownloadCheckpointResult
  /** From the request to a ready checkpoint on the donor. */
  waitedMs: number
  installMs: number
  /** From the node's start to the matching blocks. */
  servingAfterMs: number
  totalMs: number
}

export async function runBootstrap(options: RunBootstrapOptions): Promise<BootstrapOutcome> {
  const started = Date.now()
  const { settings, log } = options
  const signal = options.signal === undefined ? {} : { signal: options.signal }
  await checkHome(settings.launch.home, options.force)
  const client = bootstrapPeerClient(options.fleetKey, options.sidecarId, options.parallel)
  try {
    const asked = await requestBootstrap(
      client,
      options.trackerUrl,
      { chainId: settings.chainId, poolId: settings.poolId, requestedBy: options.sidecarId },
      options.signal,
    )
    log.info(
      { bootstrapId: asked.bootstrapId, state: asked.state, donor: asked.donor },
      'bootstrap requested',
    )
    const ready = await waitForCheckpoint({
      client,
      trackerUrl: options.trackerUrl,
      bootstrapId: asked.bootstrapId,
      timeoutMs: options.timeoutMs,
      log,
      ...signal,
    })
    const waitedMs = Date.now() - started
    // waitForCheckpoint returns only a ready status with all three set.
    const donor = ready.donor as string
    const peerUrl = ready.donorPeerUrl as string
    const checkpointId = ready.checkpointId as string
    log.info({ donor, peerUrl, checkpointId, waitedMs }, 'checkpoint ready on the donor')
    const installStarted = Date.now()
    const installed = await installFromDonor({
      client,
      fleetKey: options.fleetKey,
      sender: options.sidecarId,
      peerUrl,
      donor,
      checkpointId,
      home: settings.launch.home,
      parallel: options.parallel,
      force: options.force,
      log,
      ...(options.downloadRoot === undefined ? {} : { downloadRoot: options.downloadRoot }),
      ...signal,
    })
    const installMs = Date.now() - installStarted
    const served = await ghostCheck({
      settings,
      manifest: installed.manifest,
      timeoutMs: options.timeoutMs,
      log,
      ...signal,
    }).catch(async (error: unknown) => {
      if (!(error instanceof BootstrapError) || error.failure !== 'verify') throw error
      const aside = await quarantineInstalled(installed.install.dataDir, checkpointId)
      throw new BootstrapError(
        'verify',
        `${error.message}. The installed data was moved to ${aside} (kept for inspection); ` +
          `${installed.install.dataDir} is empty again, with this home's own signing state.`,
        { cause: error },
      )
    })
    log.info(
      { heights: served.heights, servingAfterMs: served.servingAfterMs },
      "the node serves the donor's blocks",
    )
    try {
      const reply = await client.request(peerUrl, { method: 'DELETE', path: checkpointRoute(checkpointId) })
      if (reply.status >= 300)
        log.warn({ status: reply.status }, 'the donor did not remove the checkpoint; its TTL will')
    } catch (error) {
      log.warn({ ...errorFields(error) }, 'cannot tell the donor to remove the checkpoint; its TTL will')
    }
    return {
      bootstrapId: asked.bootstrapId,
      donor,
      checkpointId,
      base: installed.manifest.blockStore.base,
      height: installed.manifest.blockStore.height,
      download: installed.download,
      waitedMs,
      installMs,
      servingAfterMs: served.servingAfterMs,
      totalMs: Date.now() - started,
    }
  } finally {
    client.close()
  }
}

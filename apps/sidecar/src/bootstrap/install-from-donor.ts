import type { FleetKey } from '@ghostfleet/coordination'
import { type StructuredLogger, silentLogger } from '@ghostfleet/core'
import type { PeerClient } from '@ghostfleet/peer'
import {
  CheckpointFileError,
  CheckpointInstallError,
  type InstallCheckpointResult,
  installCheckpoint,
  type VerifiedManifest,
} from '../checkpoint/index.js'
import type { DownloadCheckpointResult } from './download-checkpoint.js'
import {
  defaultDownloadRoot,
  downloadDir,
  earlierDownloads,
  markInstalled,
  prepareDownloadDir,
  removeOtherDownloads,
} from './download-dirs.js'
import { downloadInWorker } from './download-in-worker.js'
import { BootstrapError } from './errors.js'
import { fetchManifest } from './fetch-manifest.js'
import { checkHome } from './home-check.js'

/*
 * From a ready checkpoint on a donor to an installed data directory: check the home, fetch and verify the signed
 * manifest, download (resuming, reusing, in parallel, every file verified), install atomically. Until the install's
 * swap nothing in the node home changes; the install itself is all or nothing.
 */

export interface InstallFromDonorOptions {
  /** Fetches the manifest; the transfer runs in a worker thread with a client of its own (download-in-worker.ts). */
  client: PeerClient
  fleetKey: FleetKey
  /** The identity the new host signs its requests with (the client's sender). */
  sender: string
  /** The donor's peer listener and sidecar id, and the checkpoint it made. */
  peerUrl: string
  donor: string
  checkpointId: string
  home: string
  /** @default {@link defaultDownloadRoot} of `home` */
  downloadRoot?: string
  parallel: number
  force: boolean
  /** Per-file tries on transfer failures. @default 4 */
  attempts?: number
  signal?: AbortSignal
  /** @default silent */
  log?: StructuredLogger
}

export interface InstallFromDonorResult {
  manifest: VerifiedManifest
  download: DownloadCheckpointResult
  install: InstallCheckpointResult
  downloadDir: string
}

export async function installFromDonor(options: InstallFromDonorOptions): Promise<InstallFromDonorResult> {
  const log = options.log ?? silentLogger
  const home = await checkHome(options.home, options.force)
  const { manifest, text } = await fetchManifest({
    client: options.client,
    peerUrl: options.peerUrl,
    checkpointId: options.checkpointId,
    donor: options.donor,
    chainId: home.chainId,
    fleetKey: options.fleetKey,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  log.info(
    {
      checkpoint: manifest.id,
      donor: manifest.donor,
      base: manifest.blockStore.base,
      height: manifest.blockStore.height,
      files: manifest.files.length,
    },
    'checkpoint manifest verified',
  )
  const root = options.downloadRoot ?? defaultDownloadRoot(options.home)
  const where = downloadDir(root, manifest.id)
  await prepareDownloadDir(where, text)
  const download = await downloadInWorker({
    fleetKey: options.fleetKey,
    sender: options.sender,
    peerUrl: options.peerUrl,
    manifestText: text,
    where,
    earlier: await earlierDownloads(root, options.fleetKey, manifest.id),
    parallel: options.parallel,
    installBytes: manifest.files.reduce((sum, f) => sum + (f.immutable ? 0 : f.bytes), 0),
    log,
    ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  log.info({ ...download }, 'checkpoint downloaded and verified')
  let install: InstallCheckpointResult
  try {
    install = await installCheckpoint({
      home: options.home,
      sourceDataDir: where.dataDir,
      manifest,
      force: options.force,
    })
  } catch (error) {
    if (error instanceof CheckpointFileError)
      throw new BootstrapError('files', `the install found downloaded files changed: ${error.message}`, {
        cause: error,
      })
    if (error instanceof CheckpointInstallError)
      throw new BootstrapError('install', error.message, { cause: error })
    throw error
  }
  log.info({ ...install }, 'checkpoint installed')
  await markInstalled(where, install.dataDir)
  const removed = await removeOtherDownloads(root, manifest.id)
  if (removed.length > 0) log.info({ removed }, 'removed earlier downloads')
  return { manifest, download, install, downloadDir: where.dir }
}

import type { FleetKey } from '@ghostfleet/coordination'
import { type PeerClient, PeerError } from '@ghostfleet/peer'
import { CheckpointManifestError, type VerifiedManifest, verifyManifest } from '../checkpoint/index.js'
import { BootstrapError } from './errors.js'
import { manifestRoute } from './routes.js'

/*
 * The manifest is the only thing the new host trusts the checkpoint through: the fleet-key signature proves a
 * fleet member wrote it, and its fields must name the checkpoint, donor and chain this host asked for, so a valid
 * manifest of another checkpoint (replayed by a man in the middle, or a confused donor) is refused too.
 */

export interface FetchManifestOptions {
  client: PeerClient
  /** The donor's peer listener. */
  peerUrl: string
  checkpointId: string
  /** The donor's sidecar id, as the tracker named it. */
  donor: string
  /** The node's chain id (its genesis). */
  chainId: string
  fleetKey: FleetKey
  signal?: AbortSignal
}

/** The verified manifest and its text as served (kept beside the download). */
export async function fetchManifest(
  options: FetchManifestOptions,
): Promise<{ manifest: VerifiedManifest; text: string }> {
  const { checkpointId, donor, peerUrl } = options
  let text: string
  try {
    const reply = await options.client.request(peerUrl, {
      path: manifestRoute(checkpointId),
      timeoutMs: 30_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    if (reply.status !== 200) {
      throw new BootstrapError(
        'transfer',
        `the donor ${donor} at ${peerUrl} answered ${reply.status} for the manifest of checkpoint ${checkpointId}: ` +
          `${reply.text().slice(0, 200)}`,
      )
    }
    if (reply.responder !== donor) {
      throw new BootstrapError(
        'manifest',
        `${peerUrl} answered as ${reply.responder}, but the tracker named ${donor} as the donor; nothing was downloaded`,
      )
    }
    text = reply.text()
  } catch (error) {
    if (error instanceof BootstrapError) throw error
    if (error instanceof PeerError)
      throw new BootstrapError(
        'transfer',
        `cannot fetch the manifest of checkpoint ${checkpointId} from ${donor} at ${peerUrl}: ${error.message}`,
        { cause: error },
      )
    throw error
  }
  let manifest: VerifiedManifest
  try {
    manifest = verifyManifest(text, options.fleetKey)
  } catch (error) {
    if (error instanceof CheckpointManifestError)
      throw new BootstrapError('manifest', `refused the manifest from ${donor}: ${error.message}`, {
        cause: error,
      })
    throw error
  }
  const mismatch =
    manifest.id !== checkpointId
      ? `it describes checkpoint ${manifest.id}, not ${checkpointId}`
      : manifest.donor !== donor
        ? `it was made by ${manifest.donor}, not the donor ${donor}`
        : manifest.chainId !== options.chainId
          ? `it is of chain ${manifest.chainId}, this node's genesis is of chain ${options.chainId}`
          : null
  if (mismatch !== null)
    throw new BootstrapError(
      'manifest',
      `refused the manifest from ${donor}: ${mismatch}; nothing was downloaded`,
    )
  return { manifest, text }
}

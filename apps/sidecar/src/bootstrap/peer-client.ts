import type { FleetKey } from '@ghostfleet/coordination'
import { createPeerClient, type PeerClient } from '@ghostfleet/peer'

/**
 * The new host's peer client, the same on the main thread (tracker, manifest) and in the download's worker thread:
 * a socket for each of the `parallel` transfers plus two, and 30 s for each answer's head.
 */
export function bootstrapPeerClient(key: FleetKey, sender: string, parallel: number): PeerClient {
  return createPeerClient({ key, sender, maxSockets: parallel + 2, timeoutMs: 30_000 })
}

import type { FleetKey } from '@ghostfleet/coordination'
import { createPeerClient, type PeerClient, PeerRejectedError } from '@ghostfleet/peer'
import {
  SiblingBusyError,
  type SiblingReply,
  type SiblingRequestOptions,
  type SiblingTransport,
} from './sibling-transport.js'

/**
 * Siblings asked through `@ghostfleet/peer`: each request signed with the fleet key, each answer's signature,
 * body hash and chain id verified before the gateway sees it (a wrong chain is refused there, as
 * `chain-mismatch`). Connections to siblings are kept alive by the client.
 */
export function peerSiblingTransport(options: {
  key: FleetKey
  sidecarId: string
  timeoutMs: number
}): SiblingTransport {
  const client: PeerClient = createPeerClient({
    key: options.key,
    sender: options.sidecarId,
    timeoutMs: Math.max(100, Math.round(options.timeoutMs)),
  })
  return {
    async get(peerUrl: string, target: string, call: SiblingRequestOptions): Promise<SiblingReply> {
      let reply: Awaited<ReturnType<PeerClient['request']>>
      try {
        reply = await client.request(peerUrl, {
          method: 'GET',
          path: target,
          expectChainId: call.expectChainId,
          timeoutMs: Math.max(100, Math.round(call.timeoutMs)),
          ...(call.signal === undefined ? {} : { signal: call.signal }),
        })
      } catch (error) {
        if (error instanceof PeerRejectedError && (error.code === 'rate-limited' || error.code === 'busy'))
          throw new SiblingBusyError(error.message, (error.retryAfterSeconds ?? 1) * 1000)
        throw error
      }
      const contentType = reply.headers['content-type']
      return { status: reply.status, body: reply.body, contentType, chainId: reply.chainId }
    },
    close: () => client.close(),
  }
}

import type { PeerHandler, PeerRequest, PeerResponse } from '@ghostfleet/peer'
import type { LocalNodeView } from '../gateway/local-node.js'
import { type NodeForwarder, NodeUnavailableError } from '../gateway/node-forwarder.js'
import { errorEnvelope, errorText, isNotHeldError, parseEnvelope } from '../gateway/rpc-envelope.js'
import { ROUTED_METHODS } from '../gateway/rpc-methods.js'
import { heightOf } from '../gateway/rpc-request.js'

/** What the handler did, for the peer listener's metrics. */
export type PeerRpcOutcome = 'ok' | 'not-held' | 'error'

export interface PeerRpcHandlerOptions {
  local: LocalNodeView
  forwarder: NodeForwarder
  sidecarId: string
  onAnswered?: (outcome: PeerRpcOutcome) => void
}

const JSON_HEADERS = { 'content-type': 'application/json' }

/**
 * Serves a sibling's `GET /rpc/<method>?<query>` from this sidecar's own node: only the read-only methods the
 * gateway routes (rpc-methods.ts), nothing else of the node. The answer is the node's own (HTTP 200, or
 * CometBFT's error with 500). When this node does not hold the height — it is down, pruned below it — the
 * answer is CometBFT's error at once, without asking the node, so the sibling's gateway moves on quickly.
 * Authentication, replay protection and rate limits are the peer server's (`@ghostfleet/peer`); the handler
 * only runs for requests that passed them.
 */
export function createPeerRpcHandler(options: PeerRpcHandlerOptions): PeerHandler {
  const notHeld = (data: string): PeerResponse => {
    options.onAnswered?.('not-held')
    return { status: 500, headers: JSON_HEADERS, body: errorEnvelope(-1, data) }
  }
  return async (request: PeerRequest): Promise<PeerResponse> => {
    const method = request.path.startsWith('/rpc/') ? request.path.slice('/rpc/'.length) : null
    const routed = method === null ? undefined : ROUTED_METHODS.get(method)
    if (method === null || routed === undefined || request.method !== 'GET') {
      options.onAnswered?.('error')
      return {
        status: 404,
        headers: JSON_HEADERS,
        body: errorEnvelope(
          -1,
          `${request.method} ${request.path} is not served to siblings`,
          -32601,
          'Method not found',
        ),
      }
    }
    const local = options.local()
    const height = routed.byHeight ? heightOf(request.query.get('height') ?? undefined) : null
    if (!local.up) return notHeld(`sibling ${options.sidecarId}: its node is down (${local.why})`)
    if (height !== null && height < local.base) {
      // CometBFT's own words for a pruned height (rpc/core/env.go getHeight).
      return notHeld(`height ${height} is not available, lowest height is ${local.base}`)
    }
    const query = request.target.includes('?') ? request.target.slice(request.target.indexOf('?') + 1) : ''
    let answer: Awaited<ReturnType<NodeForwarder['call']>>
    try {
      answer = await options.forwarder.call(method, query, request.signal)
    } catch (error) {
      if (!(error instanceof NodeUnavailableError)) throw error
      return notHeld(`sibling ${options.sidecarId}: its node does not answer (${error.message})`)
    }
    if (answer.status === 500) {
      const envelope = parseEnvelope(answer.body)
      if (envelope !== null && isNotHeldError(errorText(envelope))) options.onAnswered?.('not-held')
      else options.onAnswered?.('ok')
    } else options.onAnswered?.('ok')
    return {
      status: answer.status,
      headers: { 'content-type': answer.contentType ?? 'application/json' },
      body: answer.body,
    }
  }
}

/**
 * The bootstrap API on the tracker's peer listener. Every request reaching the handler is already authenticated
 * (signed with the fleet key, fresh, not replayed, within its sender's rate), so what is left is the body:
 *
 * - `POST /v1/bootstrap` `{chainId, poolId, requestedBy}` → 202 BootstrapStatus; 400 a body that is not a valid
 *   request (the error names each field); 403 `requestedBy` is not the signer (a host asks for itself only);
 *   503 no sibling can donate (the error says why). Any tracker takes requests: one that does not lead stores
 *   them for the leader.
 * - `GET /v1/bootstrap/<id>` → 200 BootstrapStatus; 400 not an id; 404 unknown, or expired and dropped.
 *
 * Every refusal is `{error}` in plain words and changes nothing.
 */
import {
  BOOTSTRAP_API_PATH,
  BOOTSTRAP_ID_PATTERN,
  type BootstrapRequest,
  type BootstrapStatus,
  bootstrapRequestSchema,
  parseWith,
  ValidationError,
} from '@ghostfleet/core'
import { jsonResponse, type PeerHandler, type PeerResponse } from '@ghostfleet/peer'
import type { BootstrapApiOutcome } from './metrics.js'

export interface BootstrapRouteDeps {
  /** Records a new request (or returns the host's live one). */
  request(
    request: BootstrapRequest,
  ): Promise<{ ok: true; status: BootstrapStatus } | { ok: false; reason: string }>
  /** A request's status (from the leader's memory, else Redis); null when unknown. */
  status(bootstrapId: string): Promise<BootstrapStatus | null>
  onOutcome(outcome: BootstrapApiOutcome): void
}

const ITEM_PREFIX = `${BOOTSTRAP_API_PATH}/`

export function bootstrapHandler(deps: BootstrapRouteDeps): PeerHandler {
  const answer = (outcome: BootstrapApiOutcome, status: number, body: unknown): PeerResponse => {
    deps.onOutcome(outcome)
    return jsonResponse(status, body)
  }
  return async (request) => {
    if (request.path === BOOTSTRAP_API_PATH) {
      if (request.method !== 'POST') {
        return answer('no-route', 405, { error: `${BOOTSTRAP_API_PATH} takes POST` })
      }
      const parsed = parseBody(request.body)
      if (!parsed.ok) return answer('invalid', 400, { error: parsed.error })
      if (parsed.request.requestedBy !== request.sender) {
        return answer('forbidden', 403, {
          error: `requestedBy ${JSON.stringify(parsed.request.requestedBy)} is not the signer ${JSON.stringify(request.sender)}: a host asks for itself`,
        })
      }
      const result = await deps.request(parsed.request)
      if (!result.ok) return answer('no-donor', 503, { error: `no donor now: ${result.reason}` })
      return answer('accepted', 202, result.status)
    }
    if (request.path.startsWith(ITEM_PREFIX)) {
      if (request.method !== 'GET') return answer('no-route', 405, { error: `${ITEM_PREFIX}<id> takes GET` })
      const id = request.path.slice(ITEM_PREFIX.length)
      if (!BOOTSTRAP_ID_PATTERN.test(id)) {
        return answer('invalid', 400, {
          error: 'expected a bootstrap id: 8–64 characters from A-Z a-z 0-9 -',
        })
      }
      const status = await deps.status(id)
      if (status === null) {
        return answer('not-found', 404, {
          error: `no bootstrap request ${id} (unknown, or expired and dropped)`,
        })
      }
      return answer('status', 200, status)
    }
    return answer('no-route', 404, { error: `no such route: ${request.method} ${request.path}` })
  }
}

function parseBody(body: Buffer): { ok: true; request: BootstrapRequest } | { ok: false; error: string } {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    return { ok: false, error: 'the body is not JSON: expected {"chainId", "poolId", "requestedBy"}' }
  }
  try {
    return { ok: true, request: parseWith(bootstrapRequestSchema, value, 'bootstrap request') }
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, error: error.message }
    throw error
  }
}

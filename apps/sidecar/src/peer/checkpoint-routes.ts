import { CHECKPOINT_ID_PATTERN } from '@ghostfleet/core'
import { fileResponse, jsonResponse, type PeerRequest, type PeerResponse } from '@ghostfleet/peer'
import type { CheckpointCatalog } from '../donation/checkpoint-catalog.js'
import type { TransferGate } from './transfer-gate.js'

/*
 * The checkpoint routes of the peer listener, for a host bootstrapping from this donor (issue 14). They run behind
 * the listener's fleet-key signature check, replay cache and per-sender rate like every peer route:
 * - GET    /v1/checkpoints/{id}/manifest        the signed manifest, as written (the host verifies it itself);
 * - GET    /v1/checkpoints/{id}/files/{path}    one file the manifest lists (Range: 206/416), paced by the
 *                                               transfer gate; anything else is 404, however the path is spelled;
 * - DELETE /v1/checkpoints/{id}                 the host is done: the checkpoint is removed.
 */

export const CHECKPOINT_ROUTE_PREFIX = '/v1/checkpoints/'

export interface CheckpointRoutesOptions {
  catalog: CheckpointCatalog
  gate: TransferGate
  /** Who a checkpoint was taken for (only that host may delete it); null: unknown (taken before a restart). */
  requesterOf: (checkpointId: string) => string | null
  /** Told when a transfer starts and ends (metrics, logs); optional. */
  onTransfer?: (event: {
    checkpointId: string
    path: string
    sender: string
    outcome: 'started' | 'busy'
  }) => void
}

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  jsonResponse(status, { error: { code, message } }, headers)

/**
 * The manifest path a request names, percent-decoded (a client may encode the `/`s or not); null when it does not
 * decode. Safety does not rest on this: only a path the manifest lists exactly is ever served.
 */
function decodedPath(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded)
  } catch {
    return null
  }
}

/** The handler for requests under {@link CHECKPOINT_ROUTE_PREFIX}. */
export function createCheckpointRoutes(options: CheckpointRoutesOptions) {
  const { catalog, gate } = options
  return async (request: PeerRequest): Promise<PeerResponse> => {
    const rest = request.path.slice(CHECKPOINT_ROUTE_PREFIX.length)
    const slash = rest.indexOf('/')
    const id = slash < 0 ? rest : rest.slice(0, slash)
    const tail = slash < 0 ? '' : rest.slice(slash + 1)
    if (!CHECKPOINT_ID_PATTERN.test(id))
      return error(404, 'not-found', `no checkpoint ${JSON.stringify(id)} here`)

    if (tail === '') {
      if (request.method !== 'DELETE')
        return error(405, 'method-not-allowed', 'use DELETE on a checkpoint', { allow: 'DELETE' })
      const owner = options.requesterOf(id)
      if (owner !== null && owner !== request.sender) {
        return error(
          403,
          'forbidden',
          `checkpoint ${id} was taken for ${owner}; only it removes the checkpoint`,
        )
      }
      const removed = await catalog.remove(id)
      return removed
        ? jsonResponse(200, { removed: id })
        : error(404, 'not-found', `no checkpoint ${id} here (removed already, or expired)`)
    }

    const found = await catalog.manifest(id)
    if (found.kind === 'sealing') {
      return error(409, 'not-ready', `checkpoint ${id} is still being sealed; ask again shortly`, {
        'retry-after': '1',
      })
    }
    if (found.kind === 'invalid') {
      return error(500, 'invalid-checkpoint', `checkpoint ${id} is not servable: ${found.detail}`)
    }
    if (found.kind === 'unknown')
      return error(404, 'not-found', `no checkpoint ${id} here (removed, expired, or never taken)`)

    if (tail === 'manifest') {
      if (request.method !== 'GET') return error(405, 'method-not-allowed', 'use GET', { allow: 'GET' })
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: found.served.text,
      }
    }
    if (!tail.startsWith('files/')) return error(404, 'not-found', `no route ${request.path}`)
    const relative = decodedPath(tail.slice('files/'.length))
    const file = relative === null ? null : await catalog.filePath(id, relative)
    if (relative === null || file === null) {
      return error(
        404,
        'not-found',
        `checkpoint ${id}'s manifest lists no file ${JSON.stringify(relative ?? tail)}`,
      )
    }
    const release = gate.tryAcquire()
    if (release === null) {
      options.onTransfer?.({ checkpointId: id, path: relative, sender: request.sender, outcome: 'busy' })
      return error(429, 'busy', `${gate.limit} checkpoint transfers in flight on this donor; retry shortly`, {
        'retry-after': '1',
      })
    }
    const ended = catalog.transferStarted(id)
    const done = () => {
      release()
      ended()
    }
    let response: PeerResponse
    try {
      response = await fileResponse(request, file)
    } catch (caught) {
      done()
      throw caught
    }
    if (!('stream' in response)) {
      done()
      return response
    }
    options.onTransfer?.({ checkpointId: id, path: relative, sender: request.sender, outcome: 'started' })
    const open = response.stream
    return {
      ...response,
      stream: () => {
        const paced = gate.pace(open())
        paced.once('close', done)
        return paced
      },
      close: async () => {
        done()
        await response.close?.()
      },
    }
  }
}

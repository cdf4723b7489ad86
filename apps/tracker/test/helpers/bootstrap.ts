/** Shared parts of the bootstrap tests: the fleet key, sidecars that hold (or not) the window, signed calls. */
import { randomBytes } from 'node:crypto'
import { FleetKey, keysOf } from '@ghostfleet/coordination'
import {
  BOOTSTRAP_API_PATH,
  type BootstrapStatus,
  bootstrapStatusSchema,
  TRACKER_PEER_CHAIN_ID,
} from '@ghostfleet/core'
import type { PeerClient } from '@ghostfleet/peer'
import type { TestFleet } from './fleet.js'
import { SimSidecar } from './sim-sidecar.js'

export const POOL = 5
export const key = FleetKey.parse(randomBytes(32).toString('hex'))

/**
 * A ghost sidecar pruned a moment ago (no prune due for 24 h) holding [base, 1300]. The pool height is 1000 and
 * the max bundle size 100, so the cache window with the prune margin of 1 is 999–1200.
 */
export function sidecar(fleet: TestFleet, id: string, base: number, peerUrl?: string): SimSidecar {
  const sim = new SimSidecar(fleet.sidecarRedis, {
    id,
    poolId: POOL,
    mode: 'ghost',
    nodeHeight: 1300,
    nodeBase: base,
    fleetKey: key,
    reportIntervalMs: 2_000,
    ...(peerUrl === undefined ? {} : { peerUrl }),
  })
  sim.lastPrune = { height: base, at: Date.now() }
  return sim
}

export interface Reply {
  status: number
  body: unknown
}

/** One signed call to the tracker's peer listener; the answer's signature is checked by the client. */
export async function call(
  client: PeerClient,
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const reply = await client.request(url, {
    method,
    path,
    expectChainId: TRACKER_PEER_CHAIN_ID,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  return { status: reply.status, body: reply.json() }
}

/** `POST /v1/bootstrap` for `requestedBy` (the client's sender) on pool {@link POOL}. */
export async function requestBootstrap(
  client: PeerClient,
  url: string,
  requestedBy = 'new-host',
): Promise<Reply> {
  return await call(client, url, 'POST', BOOTSTRAP_API_PATH, { chainId: 'kyve-1', poolId: POOL, requestedBy })
}

/** `GET /v1/bootstrap/<id>`, expected to answer 200. */
export async function bootstrapStatus(client: PeerClient, url: string, id: string): Promise<BootstrapStatus> {
  const reply = await call(client, url, 'GET', `${BOOTSTRAP_API_PATH}/${id}`)
  if (reply.status !== 200) throw new Error(`GET ${id}: ${reply.status} ${JSON.stringify(reply.body)}`)
  return bootstrapStatusSchema.parse(reply.body)
}

/** How many bootstrap keys (records and index) Redis holds. */
export async function bootstrapKeys(fleet: TestFleet): Promise<number> {
  return (await fleet.probe.keys(`${keysOf(fleet.probe).namespace}:bootstrap*`)).length
}

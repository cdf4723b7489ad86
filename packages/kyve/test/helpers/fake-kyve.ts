import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/*
 * Fixtures (test/fixtures/), shaped after the real KYVE REST answers:
 * - pool-osmosis-kyve-1-v1.4.json: Osmosis, pool 1 on kyve-1, chain v1.4 field set (u64 inflation_share_weight,
 *   no end_key, no fundings). Settings from KYVE's Osmosis MsgCreatePool (upload_interval 60, max_bundle_size 100,
 *   inflation_share_weight 2500000000); `account` is the real module address of "pool/1".
 * - pool-osmosis-kyve-1-v1.5.json: the same pool later, chain v1.5+ set (LegacyDec weight, end_key, fundings).
 * - pool-moonbeam-v1.0-docs-example.json: the real v1.0-era example of KYVE's docs (storage-pools.md), wrapped
 *   in {"pool": …}: operating_cost, funders, total_funds, no account.
 */

export type FixtureName =
  | 'pool-osmosis-kyve-1-v1.4'
  | 'pool-osmosis-kyve-1-v1.5'
  | 'pool-moonbeam-v1.0-docs-example'

/** A JSON object we may freely poke at in a test. */
export type Json = Record<string, unknown>

/** A fresh, mutable copy of a fixture body. */
export function fixture(name: FixtureName): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as Json
}

/** `body.pool` of a fixture body. */
export function poolOf(body: Json): Json {
  return body['pool'] as Json
}

/** `body.pool.data` of a fixture body. */
export function dataOf(body: Json): Json {
  return poolOf(body)['data'] as Json
}

/** The v1.5 Osmosis fixture with `pool.data` fields replaced (pool id, keys, bundles…). */
export function osmosis(data: Json = {}, version: '1.4' | '1.5' = '1.5'): Json {
  const body = fixture(version === '1.5' ? 'pool-osmosis-kyve-1-v1.5' : 'pool-osmosis-kyve-1-v1.4')
  Object.assign(dataOf(body), data)
  if (typeof data['id'] === 'string') poolOf(body)['id'] = data['id']
  return body
}

/**
 * What the fake answers for one request. `hang` never answers (the socket stays open); `trickle` sends the
 * headers and then one byte of a never-ending body every `everyMs`, which keeps a socket-inactivity timer
 * from ever firing.
 */
export type Reply =
  | { status: number; body: string; contentType?: string }
  | 'hang'
  | { trickle: { everyMs: number } }

/** 200 with a JSON body; `indent` 2 mimics SDK 0.47 (chain ≤ v1.4), none mimics SDK 0.50 (chain ≥ v1.5). */
export function ok(body: unknown, indent?: number): Reply {
  return { status: 200, body: JSON.stringify(body, null, indent) }
}

/** A marshalled google.rpc.Status error, as the SDK gateway sends it. */
export function grpcError(status: number, code: number, message: string): Reply {
  return { status, body: JSON.stringify({ code, message, details: [] }) }
}

/** The answer of a real chain for an unknown pool id. */
export const KEY_NOT_FOUND = grpcError(500, 2, 'codespace sdk code 22: key not found')

export interface SeenRequest {
  poolId: string
  path: string
  headers: http.IncomingHttpHeaders
}

/** A KYVE REST endpoint on 127.0.0.1 whose answers the test scripts. */
export interface FakeKyve {
  url: string
  /** Pool-route requests received so far. */
  readonly requests: SeenRequest[]
  /** Replaces the answer; the function is called per request with the requested pool id. */
  answer(reply: Reply | ((poolId: string) => Reply)): void
  /** Resolves on the next pool-route request (for waiting on a condition, not on time). */
  nextRequest(): Promise<SeenRequest>
  close(): Promise<void>
}

const POOL_ROUTE = /^\/kyve\/query\/v1beta1\/pool\/([^/?]+)$/

export async function startFakeKyve(
  initial: Reply | ((poolId: string) => Reply) = 'hang',
): Promise<FakeKyve> {
  let reply = initial
  const requests: SeenRequest[] = []
  const server = http.createServer((req, res) => {
    const match = POOL_ROUTE.exec(req.url ?? '')
    if (req.method !== 'GET' || match === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
      return
    }
    const seen = { poolId: decodeURIComponent(match[1] ?? ''), path: req.url ?? '', headers: req.headers }
    requests.push(seen)
    server.emit('pool-request', seen)
    const answer = typeof reply === 'function' ? reply(seen.poolId) : reply
    if (answer === 'hang') return
    if ('trickle' in answer) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{')
      const timer = setInterval(() => res.write(' '), answer.trickle.everyMs)
      res.on('close', () => clearInterval(timer))
      return
    }
    res
      .writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' })
      .end(answer.body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (next) => {
      reply = next
    },
    nextRequest: async () => {
      const [seen] = (await once(server, 'pool-request')) as [SeenRequest]
      return seen
    },
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

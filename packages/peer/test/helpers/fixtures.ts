import { randomBytes } from 'node:crypto'
import http, { type IncomingHttpHeaders } from 'node:http'
import { FleetKey } from '@ghostfleet/coordination'
import { afterEach } from 'vitest'
import {
  createPeerClient,
  jsonResponse,
  type PeerClient,
  type PeerClientOptions,
  type PeerRequestEvent,
  type PeerServer,
  type PeerServerOptions,
  startPeerServer,
} from '../../src/index.js'

export const keyHex = randomBytes(32).toString('hex')
export const key = FleetKey.parse(keyHex)
export const otherKey = FleetKey.parse(randomBytes(32).toString('hex'))

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs `cleanup` after the current test. */
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup)
}

/** A peer server on a free loopback port, echoing what it was asked unless given a handler; closed after the test. */
export async function startServer(
  options: Partial<PeerServerOptions> = {},
): Promise<{ server: PeerServer; events: PeerRequestEvent[] }> {
  const events: PeerRequestEvent[] = []
  const server = await startPeerServer({
    listen: '127.0.0.1:0',
    key,
    sidecarId: 'server-a',
    chainId: 'osmosis-1',
    handler: (request) =>
      jsonResponse(200, {
        method: request.method,
        target: request.target,
        sender: request.sender,
        body: request.body.toString('utf8'),
        query: Object.fromEntries(request.query),
      }),
    onRequest: (event) => events.push(event),
    ...options,
  })
  onCleanup(() => server.close({ graceMs: 0 }))
  return { server, events }
}

/** A peer client; its sockets are closed after the test. */
export function client(options: Partial<PeerClientOptions> = {}): PeerClient {
  const peer = createPeerClient({ key, sender: 'client-b', timeoutMs: 5_000, ...options })
  onCleanup(() => peer.close())
  return peer
}

/** What a raw HTTP exchange returned. */
export interface RawReply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** One request with exactly these headers and body (no peer client involved), on a fresh connection. */
export async function rawRequest(
  baseUrl: string,
  method: string,
  target: string,
  headers: Record<string, string>,
  body: string | Buffer = '',
): Promise<RawReply> {
  const url = new URL(baseUrl)
  return await new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: Number(url.port), method, path: target, headers, agent: false },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(body)
  })
}

/** The `error` object of a refusal's JSON body. */
export function errorOf(reply: RawReply): { code: string; message: string } {
  return (JSON.parse(reply.body) as { error: { code: string; message: string } }).error
}

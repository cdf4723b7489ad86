import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { jsonResponse, PeerResponseError, startPeerServer } from '../src/index.js'
import { client, onCleanup, otherKey, startServer } from './helpers/fixtures.js'
import { type ProxiedResponse, startTamperProxy } from './helpers/tamper-proxy.js'

async function problemThrough(alter: (response: ProxiedResponse) => ProxiedResponse): Promise<unknown> {
  const { server } = await startServer({ handler: () => jsonResponse(200, { latest_block_height: '1000' }) })
  const proxy = await startTamperProxy(server.url, alter)
  return await client()
    .request(proxy, { path: '/rpc/status' })
    .catch((error: unknown) => error)
}

describe('response signatures', () => {
  it('an untouched answer passes through a forwarding proxy', async () => {
    const { server } = await startServer()
    const proxy = await startTamperProxy(server.url, (response) => response)
    const reply = await client().request(proxy, { path: '/rpc/status' })
    expect(reply.status).toBe(200)
  })

  it('detects an altered body (same length)', async () => {
    const error = await problemThrough((response) => ({
      ...response,
      body: Buffer.from(response.body.toString('utf8').replace('1000', '9999')),
    }))
    expect(error).toBeInstanceOf(PeerResponseError)
    expect(error).toMatchObject({ problem: 'body-hash' })
  })

  it('detects an altered body hash header, chain id, status or content type', async () => {
    const alterations: ((response: ProxiedResponse) => ProxiedResponse)[] = [
      // An attacker who alters the body and recomputes its hash still cannot sign the new hash.
      (response) => {
        const body = Buffer.from(response.body.toString('utf8').replace('1000', '9999'))
        const hash = createHash('sha256').update(body).digest('hex')
        return { ...response, body, headers: { ...response.headers, 'x-ghostfleet-content-sha256': hash } }
      },
      (response) => ({
        ...response,
        headers: { ...response.headers, 'x-ghostfleet-chain-id': 'cosmoshub-4' },
      }),
      (response) => ({ ...response, status: 404 }),
      (response) => ({ ...response, headers: { ...response.headers, 'content-type': 'text/html' } }),
      (response) => ({ ...response, headers: { ...response.headers, 'x-ghostfleet-responder': 'server-z' } }),
    ]
    for (const alter of alterations) {
      const error = await problemThrough(alter)
      expect(error).toBeInstanceOf(PeerResponseError)
      expect(error).toMatchObject({ problem: 'bad-signature' })
    }
  })

  it('refuses an unsigned answer and one signed with another key', async () => {
    const plain = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end('{"result":{}}')
    })
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
    onCleanup(() => new Promise<void>((resolve) => plain.close(() => resolve())))
    const unsigned = await client()
      .request(`http://127.0.0.1:${(plain.address() as AddressInfo).port}`, { path: '/status' })
      .catch((error: unknown) => error)
    expect(unsigned).toMatchObject({ name: 'PeerResponseError', problem: 'unsigned' })

    // A server that accepts any sender's signature under its own key but signs answers with another one cannot
    // exist in a fleet; simulate it with a proxy that swaps in another listener's answer for the same path.
    const foreign = await startPeerServer({
      listen: '127.0.0.1:0',
      key: otherKey,
      sidecarId: 'intruder',
      chainId: 'osmosis-1',
      handler: () => jsonResponse(200, {}),
    })
    onCleanup(() => foreign.close({ graceMs: 0 }))
    const peerOfOtherFleet = client({ key: otherKey })
    const reply = await peerOfOtherFleet.request(foreign.url, { path: '/x' })
    expect(reply.status).toBe(200)
    const swapped = await problemThrough((response) => ({
      ...response,
      headers: {
        ...response.headers,
        'x-ghostfleet-signature': String(reply.headers['x-ghostfleet-signature']),
      },
    }))
    expect(swapped).toMatchObject({ problem: 'bad-signature' })
  })

  it('an answer cannot be replayed to another request: the signature binds the request nonce', async () => {
    const { server } = await startServer({ handler: () => jsonResponse(200, { n: 1 }) })
    let recorded: ProxiedResponse | undefined
    const proxy = await startTamperProxy(server.url, (response) => {
      recorded ??= response
      return recorded
    })
    const peer = client()
    expect((await peer.request(proxy, { path: '/rpc/status' })).status).toBe(200)
    const replayed = await peer.request(proxy, { path: '/rpc/status' }).catch((error: unknown) => error)
    expect(replayed).toMatchObject({ problem: 'bad-signature' })
  })

  it('refuses a valid answer from a sidecar of another chain when a chain is expected', async () => {
    const { server } = await startServer({ chainId: 'cosmoshub-4' })
    const error = await client()
      .request(server.url, { path: '/rpc/status', expectChainId: 'osmosis-1' })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(PeerResponseError)
    expect(error).toMatchObject({ problem: 'chain-mismatch' })
    expect(String(error)).toContain('"cosmoshub-4"')
  })

  it('request() refuses a streamed answer, whose bytes no signature covers', async () => {
    const { server } = await startServer({
      handler: () => ({ status: 200, length: 3, stream: () => Readable.from([Buffer.from('abc')]) }),
    })
    const error = await client()
      .request(server.url, { path: '/file' })
      .catch((caught: unknown) => caught)
    expect(error).toMatchObject({ name: 'PeerResponseError', problem: 'unsigned' })
  })
})

import { describe, expect, it } from 'vitest'
import { PeerRejectedError, signPeerRequest } from '../src/index.js'
import { client, errorOf, key, keyHex, otherKey, rawRequest, startServer } from './helpers/fixtures.js'

describe('request authentication', () => {
  it('serves a signed GET and POST and tells the handler who sent them', async () => {
    const { server, events } = await startServer()
    const peer = client()
    const get = await peer.request(server.url, { path: '/rpc/block?height=5', expectChainId: 'osmosis-1' })
    expect(get.status).toBe(200)
    expect(get.chainId).toBe('osmosis-1')
    expect(get.responder).toBe('server-a')
    expect(get.json()).toEqual({
      method: 'GET',
      target: '/rpc/block?height=5',
      sender: 'client-b',
      body: '',
      query: { height: '5' },
    })
    const post = await peer.request(server.url, { method: 'POST', path: '/rpc', body: '{"method":"status"}' })
    expect(post.json()).toMatchObject({ method: 'POST', body: '{"method":"status"}' })
    expect(events.map((event) => [event.outcome, event.status, event.sender])).toEqual([
      ['ok', 200, 'client-b'],
      ['ok', 200, 'client-b'],
    ])
    expect(server.stats().outcomes.ok).toBe(2)
  })

  it('refuses a request signed with another key, without echoing key or signature', async () => {
    const { server, events } = await startServer()
    const { headers } = signPeerRequest({
      key: otherKey,
      sender: 'client-b',
      method: 'GET',
      target: '/rpc/status',
    })
    const reply = await rawRequest(server.url, 'GET', '/rpc/status', headers)
    expect(reply.status).toBe(401)
    expect(errorOf(reply).code).toBe('unauthorized')
    expect(reply.body).not.toContain(headers['x-ghostfleet-signature'])
    expect(reply.body).not.toContain(keyHex)
    expect(reply.headers['x-ghostfleet-signature']).toBeUndefined()
    expect(events[0]).toMatchObject({ outcome: 'unauthorized', status: 401, sender: null })

    const peer = client({ key: otherKey })
    const refused = await peer.request(server.url, { path: '/rpc/status' }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(PeerRejectedError)
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized', verified: false })
  })

  it('refuses a request whose body, path, method or range was altered after signing', async () => {
    const { server } = await startServer()
    const signed = signPeerRequest({
      key,
      sender: 'client-b',
      method: 'POST',
      target: '/rpc',
      body: '{"height":5}',
    })
    const alterations: [string, string, string, Record<string, string>][] = [
      ['POST', '/rpc', '{"height":6}', {}],
      ['POST', '/rpc?x=1', '{"height":5}', {}],
      ['PUT', '/rpc', '{"height":5}', {}],
      ['POST', '/rpc', '{"height":5}', { range: 'bytes=0-1' }],
    ]
    for (const [method, target, body, extra] of alterations) {
      const reply = await rawRequest(server.url, method, target, { ...signed.headers, ...extra }, body)
      expect(reply.status, `${method} ${target} ${body}`).toBe(401)
      expect(errorOf(reply).code).toBe('unauthorized')
    }
    // The unaltered request still passes: the refusals above did not use up its nonce.
    const original = await rawRequest(server.url, 'POST', '/rpc', signed.headers, '{"height":5}')
    expect(original.status).toBe(200)
  })

  it('refuses a request with a missing or malformed auth header, naming the header', async () => {
    const { server } = await startServer()
    const { headers } = signPeerRequest({ key, sender: 'client-b', method: 'GET', target: '/' })
    const { 'x-ghostfleet-nonce': _nonce, ...withoutNonce } = headers
    const missing = await rawRequest(server.url, 'GET', '/', withoutNonce)
    expect(missing.status).toBe(401)
    expect(errorOf(missing)).toEqual({
      code: 'unauthorized',
      message: 'header x-ghostfleet-nonce is missing',
    })
    const badSender = await rawRequest(server.url, 'GET', '/', { ...headers, 'x-ghostfleet-sender': 'a b' })
    expect(errorOf(badSender).message).toBe('header x-ghostfleet-sender must be a sidecar id')
  })

  it('refuses a validly signed request outside the validity window, either way', async () => {
    const { server, events } = await startServer({ limits: { windowMs: 5_000 } })
    for (const offsetMs of [-60_000, 60_000]) {
      const { headers } = signPeerRequest({
        key,
        sender: 'client-b',
        method: 'GET',
        target: '/rpc/status',
        timestampMs: Date.now() + offsetMs,
      })
      const reply = await rawRequest(server.url, 'GET', '/rpc/status', headers)
      expect(reply.status).toBe(401)
      expect(errorOf(reply).code).toBe('expired')
      expect(errorOf(reply).message).toMatch(offsetMs < 0 ? /60 s behind/ : /60 s ahead of/)
    }
    expect(events.map((event) => event.outcome)).toEqual(['expired', 'expired'])
  })

  it('accepts a nonce once: the same signed request sent again is a replay', async () => {
    const { server, events } = await startServer()
    const { headers } = signPeerRequest({ key, sender: 'client-b', method: 'GET', target: '/rpc/status' })
    const first = await rawRequest(server.url, 'GET', '/rpc/status', headers)
    expect(first.status).toBe(200)
    const again = await rawRequest(server.url, 'GET', '/rpc/status', headers)
    expect(again.status).toBe(401)
    expect(errorOf(again).code).toBe('replayed')
    // A fresh nonce for the same request is fine.
    const fresh = signPeerRequest({ key, sender: 'client-b', method: 'GET', target: '/rpc/status' })
    expect((await rawRequest(server.url, 'GET', '/rpc/status', fresh.headers)).status).toBe(200)
    expect(events.map((event) => event.outcome)).toEqual(['ok', 'replayed', 'ok'])
  })

  it('answers HEAD with a signed head and no body', async () => {
    const { server } = await startServer()
    const reply = await client().request(server.url, { method: 'HEAD', path: '/rpc/status' })
    expect(reply.status).toBe(200)
    expect(reply.body.length).toBe(0)
    expect(Number(reply.headers['content-length'])).toBeGreaterThan(0)
    expect(reply.headers['x-ghostfleet-content-sha256']).toBe('UNSIGNED-PAYLOAD')
  })
})

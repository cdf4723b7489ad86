import net from 'node:net'
import { eventually } from '@ghostfleet/testkit'
import { describe, expect, it } from 'vitest'
import { jsonResponse, PeerRejectedError, signPeerRequest } from '../src/index.js'
import { client, errorOf, key, rawRequest, startServer } from './helpers/fixtures.js'

/** A promise and its resolver, to hold a handler until the test lets it go. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

describe('rate limits', () => {
  it('refuses a sender past its burst with a signed 429 and Retry-After, and other senders still pass', async () => {
    const { server, events } = await startServer({ limits: { perSender: { ratePerSecond: 0.1, burst: 2 } } })
    const peer = client()
    await peer.request(server.url, { path: '/a' })
    await peer.request(server.url, { path: '/b' })
    const refused = await peer.request(server.url, { path: '/c' }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(PeerRejectedError)
    expect(refused).toMatchObject({ status: 429, code: 'rate-limited', verified: true })
    // One token back takes 1 / 0.1 = 10 s.
    expect((refused as PeerRejectedError).retryAfterSeconds).toBe(10)
    const other = client({ sender: 'client-c' })
    expect((await other.request(server.url, { path: '/d' })).status).toBe(200)
    expect(events.map((event) => event.outcome)).toEqual(['ok', 'ok', 'rate-limited', 'ok'])
    expect(events[2]?.sender).toBe('client-b')
  })

  it('refuses requests beyond the global concurrency cap with 429 busy until a slot frees', async () => {
    const hold = gate()
    let entered = 0
    const { server, events } = await startServer({
      limits: { maxConcurrent: 1 },
      handler: async () => {
        entered++
        await hold.opened
        return jsonResponse(200, {})
      },
    })
    const peer = client()
    const first = peer.request(server.url, { path: '/slow' })
    await eventually(() => expect(entered).toBe(1))
    const refused = await peer.request(server.url, { path: '/second' }).catch((error: unknown) => error)
    expect(refused).toMatchObject({ status: 429, code: 'busy', verified: false, retryAfterSeconds: 1 })
    hold.open()
    expect((await first).status).toBe(200)
    await eventually(() => expect(server.stats().inFlight).toBe(0))
    expect((await peer.request(server.url, { path: '/third' })).status).toBe(200)
    expect(events.map((event) => event.outcome).sort()).toEqual(['busy', 'ok', 'ok'])
  })
})

describe('replay cache bound', () => {
  it('refuses with 503 busy when the cache is full rather than forget a live nonce', async () => {
    const { server } = await startServer({
      limits: { maxNonces: 1_000, perSender: { ratePerSecond: 100_000, burst: 100_000 } },
    })
    const peer = client()
    for (let i = 0; i < 1_000; i++)
      expect((await peer.request(server.url, { path: `/n/${i}` })).status).toBe(200)
    const refused = await peer.request(server.url, { path: '/one-more' }).catch((error: unknown) => error)
    expect(refused).toMatchObject({ status: 503, code: 'busy', retryAfterSeconds: 1 })
    expect(server.stats().outcomes).toMatchObject({ ok: 1_000, busy: 1 })
  })
})

describe('size and time limits', () => {
  it('refuses a body above the cap with 413 before reading it', async () => {
    const { server, events } = await startServer({ limits: { maxBodyBytes: 1_024 } })
    const peer = client()
    const refused = await peer
      .request(server.url, { method: 'POST', path: '/rpc', body: 'x'.repeat(2_000) })
      .catch((error: unknown) => error)
    expect(refused).toMatchObject({ status: 413, code: 'too-large' })
    expect(
      (await peer.request(server.url, { method: 'POST', path: '/rpc', body: 'x'.repeat(1_024) })).status,
    ).toBe(200)
    expect(events.map((event) => event.outcome)).toEqual(['too-large', 'ok'])
  })

  it('refuses a chunked body that grows past the cap', async () => {
    const { server } = await startServer({ limits: { maxBodyBytes: 1_024 } })
    const body = 'y'.repeat(4_096)
    const { headers } = signPeerRequest({ key, sender: 'client-b', method: 'POST', target: '/rpc', body })
    const reply = await rawRequest(
      server.url,
      'POST',
      '/rpc',
      { ...headers, 'transfer-encoding': 'chunked' },
      body,
    )
    expect(reply.status).toBe(413)
  })

  it('refuses a request head above the cap with 431', async () => {
    const { server, events } = await startServer({ limits: { maxHeaderBytes: 2_048 } })
    const { headers } = signPeerRequest({ key, sender: 'client-b', method: 'GET', target: '/' })
    const reply = await rawRequest(server.url, 'GET', '/', { ...headers, 'x-padding': 'p'.repeat(4_000) })
    expect(reply.status).toBe(431)
    expect(errorOf(reply).code).toBe('too-large')
    await eventually(() => expect(events.map((event) => event.outcome)).toEqual(['too-large']))
  })

  it('answers 408 when the body does not arrive in time', async () => {
    const { server, events } = await startServer({ limits: { requestTimeoutMs: 300 } })
    const body = '{"a":1}'
    const { headers } = signPeerRequest({ key, sender: 'client-b', method: 'POST', target: '/rpc', body })
    const socket = net.connect(server.address.port, '127.0.0.1')
    onSocketCleanup(socket)
    const answer = new Promise<string>((resolve) => {
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8')
      })
      socket.on('close', () => resolve(text))
    })
    const head = Object.entries({ ...headers, host: '127.0.0.1', 'content-length': String(body.length) })
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n')
    // The head and half the body, then silence.
    socket.write(`POST /rpc HTTP/1.1\r\n${head}\r\n\r\n${body.slice(0, 3)}`)
    const text = await answer
    expect(text).toMatch(/^HTTP\/1\.1 408 /)
    expect(text).toContain('"code":"timeout"')
    expect(events.map((event) => event.outcome)).toEqual(['timeout'])
  })

  it('answers a signed 504 when the handler is too slow, and aborts its signal', async () => {
    const hold = gate()
    let aborted = false
    const { server, events } = await startServer({
      limits: { handlerTimeoutMs: 200 },
      handler: async (request) => {
        request.signal.addEventListener('abort', () => {
          aborted = true
        })
        await hold.opened
        return jsonResponse(200, {})
      },
    })
    const refused = await client()
      .request(server.url, { path: '/slow' })
      .catch((error: unknown) => error)
    hold.open()
    expect(refused).toMatchObject({ status: 504, code: 'timeout', verified: true })
    expect(aborted).toBe(true)
    expect(events.map((event) => event.outcome)).toEqual(['timeout'])
  })

  it('answers a signed 500 when the handler throws, without the error text', async () => {
    const { server, events } = await startServer({
      handler: () => {
        throw new Error('secret internal detail')
      },
    })
    const refused = await client()
      .request(server.url, { path: '/boom' })
      .catch((error: unknown) => error)
    expect(refused).toMatchObject({ status: 500, code: 'internal', verified: true })
    expect(String(refused)).not.toContain('secret internal detail')
    expect(events.map((event) => event.outcome)).toEqual(['handler-error'])
  })
})

function onSocketCleanup(socket: net.Socket): void {
  socket.on('error', () => socket.destroy())
}

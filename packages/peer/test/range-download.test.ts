import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { eventually, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  fileResponse,
  jsonResponse,
  type PeerRequest,
  PeerStatusError,
  PeerUnreachableError,
  signPeerRequest,
} from '../src/index.js'
import { client, key, rawRequest, startServer } from './helpers/fixtures.js'
import { startTamperProxy } from './helpers/tamper-proxy.js'

let dir: TempDir
let content: Buffer
const SIZE = 3 * 1024 * 1024 + 17

beforeAll(async () => {
  dir = await tempDir('ghostfleet-peer-range-')
  content = randomBytes(SIZE)
  await writeFile(path.join(dir.path, 'table.ldb'), content)
  await writeFile(path.join(dir.path, 'empty'), '')
})
afterAll(async () => {
  await dir.remove()
})

const serveFiles = (request: PeerRequest) =>
  request.path.startsWith('/files/')
    ? fileResponse(request, path.join(dir.path, path.basename(request.path)))
    : jsonResponse(404, {})

async function rangeRequest(url: string, range: string | undefined, method = 'GET') {
  const { headers } = signPeerRequest({
    key,
    sender: 'client-b',
    method,
    target: '/files/table.ldb',
    ...(range === undefined ? {} : { range }),
  })
  return await rawRequest(
    url,
    method,
    '/files/table.ldb',
    range === undefined ? headers : { ...headers, range },
  )
}

describe('range requests', () => {
  it('answers each single-range form, and 416 past the end', async () => {
    const { server } = await startServer({ handler: serveFiles })
    const whole = await rangeRequest(server.url, undefined)
    expect(whole.status).toBe(200)
    expect(whole.headers['content-length']).toBe(String(SIZE))
    expect(whole.headers['accept-ranges']).toBe('bytes')
    expect(whole.headers['x-ghostfleet-content-sha256']).toBe('UNSIGNED-PAYLOAD')

    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, SIZE - 1],
      ['bytes=-10', SIZE - 10, SIZE - 1],
      [`bytes=5-${SIZE + 100}`, 5, SIZE - 1],
    ]
    for (const [range, start, end] of cases) {
      const reply = await rangeRequest(server.url, range)
      expect(reply.status, range).toBe(206)
      expect(reply.headers['content-range']).toBe(`bytes ${start}-${end}/${SIZE}`)
      expect(reply.headers['content-length']).toBe(String(end - start + 1))
    }
    const past = await rangeRequest(server.url, `bytes=${SIZE}-`)
    expect(past.status).toBe(416)
    expect(past.headers['content-range']).toBe(`bytes */${SIZE}`)
    // Several ranges are not supported: the whole file, as RFC 9110 allows.
    expect((await rangeRequest(server.url, 'bytes=0-1,5-6')).status).toBe(200)
    const head = await rangeRequest(server.url, 'bytes=0-99', 'HEAD')
    expect(head.status).toBe(206)
    expect(head.body).toBe('')
  })

  it('download() streams a range with a verified head, and the bytes match the file', async () => {
    const { server } = await startServer({ handler: serveFiles })
    const peer = client()
    const part = await peer.download(server.url, {
      path: '/files/table.ldb',
      range: { start: 1_000_000, end: 1_999_999 },
      expectChainId: 'osmosis-1',
    })
    expect(part).toMatchObject({ status: 206, start: 1_000_000, length: 1_000_000, totalSize: SIZE })
    expect((await buffer(part.stream)).equals(content.subarray(1_000_000, 2_000_000))).toBe(true)
    const whole = await peer.download(server.url, { path: '/files/table.ldb' })
    expect(whole).toMatchObject({ status: 200, start: 0, length: SIZE, totalSize: SIZE })
    expect((await buffer(whole.stream)).equals(content)).toBe(true)
    const empty = await peer.download(server.url, { path: '/files/empty' })
    expect(empty.length).toBe(0)
    expect((await buffer(empty.stream)).length).toBe(0)
  })

  it('download() reports a missing file and a range past the end as signed statuses', async () => {
    const { server } = await startServer({ handler: serveFiles })
    const peer = client()
    const missing = await peer.download(server.url, { path: '/files/nope' }).catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(PeerStatusError)
    expect(missing).toMatchObject({ status: 404 })
    const past = await peer
      .download(server.url, { path: '/files/table.ldb', range: { start: SIZE } })
      .catch((error: unknown) => error)
    expect(past).toMatchObject({ status: 416 })
  })

  it('downloadToFile() resumes after the bytes already on disk, and knows when the file is complete', async () => {
    const { server, events } = await startServer({ handler: serveFiles })
    const peer = client()
    const target = path.join(dir.path, 'copy.ldb')
    await writeFile(target, content.subarray(0, 123_457))
    const resumed = await peer.downloadToFile(server.url, { path: '/files/table.ldb', file: target })
    expect(resumed).toEqual({
      resumedFrom: 123_457,
      bytesWritten: SIZE - 123_457,
      totalSize: SIZE,
      sha256: null,
    })
    expect((await readFile(target)).equals(content)).toBe(true)
    const again = await peer.downloadToFile(server.url, { path: '/files/table.ldb', file: target })
    expect(again).toEqual({ resumedFrom: SIZE, bytesWritten: 0, totalSize: SIZE, sha256: null })
    const fresh = path.join(dir.path, 'fresh.ldb')
    expect(await peer.downloadToFile(server.url, { path: '/files/table.ldb', file: fresh })).toEqual({
      resumedFrom: 0,
      bytesWritten: SIZE,
      totalSize: SIZE,
      sha256: null,
    })
    expect((await readFile(fresh)).equals(content)).toBe(true)
    expect(events.every((event) => event.outcome === 'ok')).toBe(true)
  })

  it('downloadToFile() with sha256 hashes the whole file: fresh, resumed (its kept part read once), complete, restarted', async () => {
    const { server } = await startServer({ handler: serveFiles })
    const peer = client()
    const whole = createHash('sha256').update(content).digest('hex')
    const call = (file: string) =>
      peer.downloadToFile(server.url, { path: '/files/table.ldb', file, sha256: true })
    const fresh = path.join(dir.path, 'hashed-fresh.ldb')
    expect(await call(fresh)).toEqual({ resumedFrom: 0, bytesWritten: SIZE, totalSize: SIZE, sha256: whole })
    expect((await readFile(fresh)).equals(content)).toBe(true)

    // A kept prefix of several read buffers, not a multiple of any of them.
    const resumed = path.join(dir.path, 'hashed-resumed.ldb')
    await writeFile(resumed, content.subarray(0, 2_500_001))
    expect(await call(resumed)).toMatchObject({ resumedFrom: 2_500_001, sha256: whole })
    expect((await readFile(resumed)).equals(content)).toBe(true)
    expect(await call(resumed)).toEqual({
      resumedFrom: SIZE,
      bytesWritten: 0,
      totalSize: SIZE,
      sha256: whole,
    })

    // The hash is of what the file holds: a corrupt kept prefix gives another hash, for the caller to refuse.
    const corrupt = path.join(dir.path, 'hashed-corrupt.ldb')
    await writeFile(corrupt, Buffer.alloc(1_000, 7))
    const got = await call(corrupt)
    expect(got.resumedFrom).toBe(1_000)
    expect(got.sha256).toBe(
      createHash('sha256')
        .update(await readFile(corrupt))
        .digest('hex'),
    )
    expect(got.sha256).not.toBe(whole)
  })

  it('downloadToFile() restarts from the first byte when the peer ignores the range, hashing only the new bytes', async () => {
    // The peer answers every request with the whole file (200), as one that does not do ranges would.
    const { server } = await startServer({
      handler: (request) =>
        fileResponse(
          { ...request, headers: { ...request.headers, range: undefined } },
          path.join(dir.path, 'table.ldb'),
        ),
    })
    const target = path.join(dir.path, 'restarted.ldb')
    await writeFile(target, Buffer.alloc(5_000, 1))
    const got = await client().downloadToFile(server.url, {
      path: '/files/table.ldb',
      file: target,
      sha256: true,
    })
    expect(got).toEqual({
      resumedFrom: 0,
      bytesWritten: SIZE,
      totalSize: SIZE,
      sha256: createHash('sha256').update(content).digest('hex'),
    })
    expect((await readFile(target)).equals(content)).toBe(true)
  })

  it('downloadToFile() keeps the bytes it received when the transfer is cut, for the next try to resume', async () => {
    // Less than one write batch, then the peer falls silent (the client's idle deadline cuts it): the bytes received
    // must still reach the file.
    const { server } = await startServer({
      handler: () => ({
        status: 200,
        length: SIZE,
        stream: () => {
          const stalled = new Readable({ read() {} })
          stalled.push(content.subarray(0, 300_000))
          return stalled
        },
      }),
    })
    const target = path.join(dir.path, 'cut.ldb')
    await expect(
      client().downloadToFile(server.url, { path: '/cut', file: target, sha256: true, timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(PeerUnreachableError)
    expect((await readFile(target)).equals(content.subarray(0, 300_000))).toBe(true)
  })

  it('destroying a download stream closes its connection, so the peer ends the transfer at once', async () => {
    let sourceClosed = false
    const { server } = await startServer({
      // An idle timeout far beyond the test's deadline: only the closed connection can end the transfer in time.
      limits: { idleTimeoutMs: 600_000 },
      handler: () => ({
        status: 200,
        length: 1 << 30,
        stream: () => {
          const endless = new Readable({
            read() {
              this.push(Buffer.alloc(64 * 1024))
            },
          })
          endless.once('close', () => {
            sourceClosed = true
          })
          return endless
        },
      }),
    })
    const download = await client().download(server.url, { path: '/endless' })
    await new Promise<void>((resolve) => download.stream.once('data', () => resolve()))
    download.stream.destroy()
    await eventually(
      () => {
        expect(sourceClosed).toBe(true)
        expect(server.stats().inFlight).toBe(0)
      },
      { timeoutMs: 3_000 },
    )
  })

  it('a stream that ends short of its announced length fails on the client instead of yielding a short file', async () => {
    const { server, events } = await startServer({
      handler: () => ({
        status: 200,
        length: 100_000,
        stream: () => Readable.from([Buffer.alloc(50_000, 1)]),
      }),
    })
    const download = await client().download(server.url, { path: '/short' })
    const result = await buffer(download.stream).catch((error: unknown) => error)
    expect(result).toBeInstanceOf(PeerUnreachableError)
    await eventually(() => expect(events.map((event) => event.outcome)).toEqual(['handler-error']))
  })

  it('a Content-Length altered on the way fails the head signature', async () => {
    const { server } = await startServer({ handler: serveFiles })
    // The proxy forwards half the body with a Content-Length to match: no longer the signed one.
    const proxy = await startTamperProxy(server.url, (response) => ({
      ...response,
      body: response.body.subarray(0, response.body.length / 2),
    }))
    const result = await client()
      .download(proxy, { path: '/files/table.ldb' })
      .catch((error: unknown) => error)
    expect(result).toMatchObject({ name: 'PeerResponseError', problem: 'bad-signature' })
  })

  it('an abandoned download whose connection dies does not raise an unhandled error', async () => {
    // One chunk of a longer body, then nothing: the response cannot be complete when the server goes away.
    const { server } = await startServer({
      handler: () => ({
        status: 200,
        length: 1_000_000,
        stream: () => {
          const stalled = new Readable({ read() {} })
          stalled.push(Buffer.alloc(1_000))
          return stalled
        },
      }),
    })
    const download = await client().download(server.url, { path: '/stalled' })
    await server.close({ graceMs: 0 })
    await eventually(() => expect(download.stream.destroyed).toBe(true), { timeoutMs: 3_000 })
  })

  it('a download that outlasts the timeouts goes on while data keeps flowing', async () => {
    const chunks = 12
    const { server } = await startServer({
      limits: { requestTimeoutMs: 150, handlerTimeoutMs: 150 },
      handler: () => ({
        status: 200,
        length: chunks * 1_000,
        stream: () => {
          let sent = 0
          // A slow producer: one chunk every 40 ms, 480 ms in all, well past every deadline above.
          const slow = new Readable({ read() {} })
          const interval = setInterval(() => {
            slow.push(Buffer.alloc(1_000, sent))
            if (++sent === chunks) {
              clearInterval(interval)
              slow.push(null)
            }
          }, 40)
          return slow
        },
      }),
    })
    const download = await client({ timeoutMs: 150 }).download(server.url, { path: '/slow' })
    expect((await buffer(download.stream)).length).toBe(chunks * 1_000)
  })
})

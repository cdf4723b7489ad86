import { once } from 'node:events'
import { type FileHandle, open, stat } from 'node:fs/promises'
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http'
import https from 'node:https'
import { type Readable, Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseContentRange } from './byte-range.js'
import {
  type PeerCallOptions,
  type PeerClientOptions,
  type PeerDownloadOptions,
  type PeerDownloadToFileOptions,
  peerCallOptionsSchema,
  peerClientOptionsSchema,
  peerDownloadOptionsSchema,
  peerDownloadToFileOptionsSchema,
} from './client-options.js'
import { InvalidPeerOptionsError } from './errors/invalid-peer-options-error.js'
import { PeerResponseError } from './errors/peer-response-error.js'
import { PeerStatusError } from './errors/peer-status-error.js'
import { PeerUnreachableError } from './errors/peer-unreachable-error.js'
import { FileSink, hashPrefix } from './file-sink.js'
import { parseOptions } from './option-fields.js'
import { signPeerRequest } from './request-signing.js'
import { isUnsignedRefusal, refusal, type VerifiedHead, verifyHead } from './response-verify.js'
import { sha256Hex, UNSIGNED_PAYLOAD } from './wire.js'

/** A verified answer: its signature, its body hash and (when asked) its chain id checked. */
export interface PeerReply {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The chain id the answering sidecar signed. */
  chainId: string
  /** The answering sidecar's id. */
  responder: string
  /** The body as UTF-8. */
  text(): string
  /** The body parsed as JSON (throws a SyntaxError when it is not JSON). */
  json(): unknown
}

/** A download in progress: the head is verified; the bytes are not signed, check them against the manifest. */
export interface PeerDownload {
  /** 200 (whole file) or 206 (the range asked for). */
  status: 200 | 206
  headers: IncomingHttpHeaders
  chainId: string
  responder: string
  /** Offset in the file of the first byte of `stream`. */
  start: number
  /** Bytes `stream` will yield; a stream that ends short or long errors instead. */
  length: number
  /** Size of the whole file, when the peer said (always, for a 206 from {@link fileResponse}). */
  totalSize: number | null
  stream: Readable
}

/** What {@link PeerClient.downloadToFile} did. */
export interface DownloadToFileResult {
  /** Bytes already in the file before (the resume point; 0 for a fresh download or a restart from 0). */
  resumedFrom: number
  bytesWritten: number
  /** Size of the file on the peer, when known. */
  totalSize: number | null
  /**
   * With `sha256: true`, the hex sha256 of the whole file as written: its kept prefix read once from disk, the rest
   * hashed as it was written. Null otherwise.
   */
  sha256: string | null
}

/** A client of peer listeners; keeps connections alive per peer. */
export interface PeerClient {
  /**
   * Sends a signed request and returns the verified answer. Any status the peer's handler chose (200, 404, 500…)
   * is returned; refusals by the peer layer and untrustworthy answers throw.
   * @throws PeerRejectedError, PeerResponseError, PeerUnreachableError, InvalidPeerOptionsError
   */
  request(baseUrl: string, options: PeerCallOptions): Promise<PeerReply>
  /**
   * GETs a file (or a byte range of it) as a stream. Only 200 and 206 resolve.
   * @throws PeerStatusError (404, 416…), PeerRejectedError, PeerResponseError, PeerUnreachableError
   */
  download(baseUrl: string, options: PeerDownloadOptions): Promise<PeerDownload>
  /** Downloads to `file`, resuming after the bytes it already holds (restarting when the peer ignores the range). */
  downloadToFile(baseUrl: string, options: PeerDownloadToFileOptions): Promise<DownloadToFileResult>
  /** Closes idle kept-alive connections; calls in flight finish. */
  close(): void
}

/** Refusals' bodies are small JSON; read no more of an unsigned answer than this. */
const MAX_REFUSAL_BYTES = 64 * 1024

interface Exchange {
  response: IncomingMessage
  nonce: string
  url: string
}

/**
 * Creates a client that signs every request with the fleet key and checks every answer's signature.
 *
 * @example
 * const client = createPeerClient({ key, sender: 'osmosis-a' })
 * const reply = await client.request('http://10.0.0.2:26671', { path: '/rpc/status', expectChainId: 'osmosis-1' })
 * @throws InvalidPeerOptionsError when the options are unusable.
 */
export function createPeerClient(options: PeerClientOptions): PeerClient {
  const settings = parseOptions('createPeerClient', peerClientOptionsSchema, options)
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: settings.maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: settings.maxSockets }),
  }

  function send(
    baseUrl: string,
    method: string,
    path: string,
    body: Buffer,
    extra: Record<string, string>,
    range: string | undefined,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const base = parseBaseUrl(baseUrl)
    const target = base.pathname.replace(/\/$/, '') + path
    const url = `${base.origin}${target}`
    const attempt = (retry: boolean): Promise<Exchange> => {
      const signed = signPeerRequest({
        key: settings.key,
        sender: settings.sender,
        method,
        target,
        body,
        range,
      })
      const headers: Record<string, string> = {
        ...extra,
        ...signed.headers,
        'content-length': String(body.length),
      }
      if (range !== undefined) headers.range = range
      return new Promise<Exchange>((resolve, reject) => {
        const protocol = base.protocol === 'https:' ? https : http
        const request = protocol.request(
          {
            protocol: base.protocol,
            hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: base.port === '' ? undefined : Number(base.port),
            method,
            path: target,
            headers,
            agent: agents[base.protocol],
            signal,
          },
          (response) => resolve({ response, nonce: signed.nonce, url }),
        )
        request.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive socket the peer closed meanwhile fails before any answer; a fresh one is worth one try,
          // with a new nonce (the first request may have arrived and been remembered).
          if (retry && request.reusedSocket && !signal.aborted && error.code === 'ECONNRESET') {
            attempt(false).then(resolve, reject)
            return
          }
          reject(unreachable(url, error, signal))
        })
        request.end(body)
      })
    }
    return attempt(true)
  }

  /**
   * The signed head of an answer, or the refusal it is: unsigned refusals are read (small) and thrown, heads
   * that fail verification drop the connection.
   */
  async function verifiedHead(
    { response, nonce, url }: Exchange,
    expectChainId: string | undefined,
    signal: AbortSignal,
  ): Promise<VerifiedHead> {
    const status = response.statusCode ?? 0
    if (isUnsignedRefusal(response.headers)) {
      const body = await readAll(response, MAX_REFUSAL_BYTES, url, signal)
      throw refusal(url, status, response.headers, body, false)
    }
    try {
      return verifyHead(settings.key, url, nonce, status, response.headers, expectChainId)
    } catch (error) {
      response.destroy()
      throw error
    }
  }

  async function request(baseUrl: string, callOptions: PeerCallOptions): Promise<PeerReply> {
    const call = parseOptions('PeerClient.request', peerCallOptionsSchema, callOptions)
    const timeoutMs = call.timeoutMs ?? settings.timeoutMs
    const signal = withTimeout(call.signal, timeoutMs)
    const body = toBuffer(call.body)
    const method = call.method.toUpperCase()
    const { response, nonce, url } = await send(
      baseUrl,
      method,
      call.path,
      body,
      call.headers ?? {},
      undefined,
      signal,
    )
    const status = response.statusCode ?? 0
    const head = await verifiedHead({ response, nonce, url }, call.expectChainId, signal)
    if (head.contentSha256 === UNSIGNED_PAYLOAD && method !== 'HEAD') {
      response.destroy()
      throw new PeerResponseError(
        url,
        'unsigned',
        'a streamed body has no signed hash: use download() for files',
      )
    }
    const data = await readAll(response, settings.maxResponseBytes, url, signal)
    if (method !== 'HEAD' && sha256Hex(data) !== head.contentSha256) {
      throw new PeerResponseError(
        url,
        'body-hash',
        `the ${data.length}-byte body does not match its signed sha256`,
      )
    }
    if (head.errorCode !== undefined) throw refusal(url, status, response.headers, data, true)
    return {
      status,
      headers: response.headers,
      body: data,
      chainId: head.chainId,
      responder: head.responder,
      text: () => data.toString('utf8'),
      json: () => JSON.parse(data.toString('utf8')) as unknown,
    }
  }

  async function download(baseUrl: string, downloadOptions: PeerDownloadOptions): Promise<PeerDownload> {
    const call = parseOptions('PeerClient.download', peerDownloadOptionsSchema, downloadOptions)
    const timeoutMs = call.timeoutMs ?? settings.timeoutMs
    // The deadline covers the head only (a large file takes long; only silence is a failure, see below), so
    // it is a timer cleared once the head is in, not AbortSignal.timeout, which would cut the body too.
    const headDeadline = new AbortController()
    const timer = setTimeout(
      () => headDeadline.abort(new DOMException(`no answer in ${timeoutMs} ms`, 'TimeoutError')),
      timeoutMs,
    )
    const headSignal =
      call.signal === undefined ? headDeadline.signal : AbortSignal.any([call.signal, headDeadline.signal])
    try {
      return await downloadHead(baseUrl, call, timeoutMs, headSignal)
    } finally {
      clearTimeout(timer)
    }
  }

  async function downloadHead(
    baseUrl: string,
    call: ReturnType<typeof peerDownloadOptionsSchema.parse>,
    timeoutMs: number,
    headSignal: AbortSignal,
  ): Promise<PeerDownload> {
    const range = call.range === undefined ? undefined : `bytes=${call.range.start}-${call.range.end ?? ''}`
    const { response, nonce, url } = await send(
      baseUrl,
      'GET',
      call.path,
      Buffer.alloc(0),
      {},
      range,
      headSignal,
    )
    const status = response.statusCode ?? 0
    const head = await verifiedHead({ response, nonce, url }, call.expectChainId, headSignal)
    if (status !== 200 && status !== 206) {
      const data = await readAll(response, MAX_REFUSAL_BYTES, url, headSignal)
      if (head.contentSha256 !== UNSIGNED_PAYLOAD && sha256Hex(data) !== head.contentSha256) {
        throw new PeerResponseError(
          url,
          'body-hash',
          `the ${data.length}-byte body does not match its signed sha256`,
        )
      }
      if (head.errorCode !== undefined) throw refusal(url, status, response.headers, data, true)
      throw new PeerStatusError(url, status, response.headers, data.toString('utf8').slice(0, 300))
    }
    const length = Number(response.headers['content-length'])
    const contentRange = parseContentRange(response.headers['content-range'])
    const start = status === 206 ? (contentRange?.start ?? -1) : 0
    const wanted = call.range
    const fits =
      Number.isSafeInteger(length) &&
      (status === 200 ||
        (contentRange !== null &&
          wanted !== undefined &&
          contentRange.start === wanted.start &&
          (wanted.end === undefined || contentRange.end <= wanted.end) &&
          contentRange.end - contentRange.start + 1 === length))
    if (!fits) {
      response.destroy()
      throw new PeerResponseError(
        url,
        'malformed',
        'the Content-Range or Content-Length does not match the range asked for',
      )
    }
    // The caller's signal still aborts the body (it is the request's signal); a silent peer is cut here.
    response.setTimeout(timeoutMs, () => response.destroy(new Error(`no data for ${timeoutMs} ms`)))
    return {
      status,
      headers: response.headers,
      chainId: head.chainId,
      responder: head.responder,
      start,
      length,
      totalSize: status === 206 ? (contentRange?.size ?? null) : length,
      stream: exactly(response, length, url),
    }
  }

  async function downloadToFile(
    baseUrl: string,
    fileOptions: PeerDownloadToFileOptions,
  ): Promise<DownloadToFileResult> {
    const call = parseOptions('PeerClient.downloadToFile', peerDownloadToFileOptionsSchema, fileOptions)
    const have = await fileSize(call.file)
    let started: PeerDownload
    try {
      started = await download(baseUrl, {
        path: call.path,
        ...(have > 0 ? { range: { start: have } } : {}),
        ...(call.expectChainId === undefined ? {} : { expectChainId: call.expectChainId }),
        ...(call.signal === undefined ? {} : { signal: call.signal }),
        ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
      })
    } catch (error) {
      // 416 with the size we already hold: the file was complete.
      if (error instanceof PeerStatusError && error.status === 416) {
        const total = /^bytes \*\/(\d+)$/.exec(String(error.headers['content-range'] ?? ''))
        if (total !== null && Number(total[1]) === have)
          return {
            resumedFrom: have,
            bytesWritten: 0,
            totalSize: have,
            sha256: call.sha256 ? await hashWholeFile(call.file, have) : null,
          }
      }
      throw error
    }
    const resumedFrom = started.status === 206 ? started.start : 0
    let handle: FileHandle
    try {
      // 'w' when the peer sent the whole file (it ignored the range): the bytes we held are replaced.
      handle = await open(call.file, resumedFrom > 0 ? 'r+' : 'w')
    } catch (error) {
      started.stream.destroy()
      throw error
    }
    let sink: FileSink | null = null
    try {
      const hash = call.sha256 ? await hashPrefix(handle, resumedFrom) : null
      sink = new FileSink({ handle, position: resumedFrom, hash })
      await pipeline(started.stream, sink)
      return {
        resumedFrom,
        bytesWritten: sink.bytesWritten,
        totalSize: started.totalSize,
        sha256: sink.digest(),
      }
    } catch (error) {
      started.stream.destroy()
      // The sink writes what it received before it closes: the handle stays open until then.
      if (sink !== null) {
        sink.destroy()
        if (!sink.closed) await once(sink, 'close').catch(() => undefined)
      }
      throw error
    } finally {
      await handle.close()
    }
  }

  return {
    request,
    download,
    downloadToFile,
    close: () => {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  }
}

function parseBaseUrl(text: string): URL & { protocol: 'http:' | 'https:' } {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new InvalidPeerOptionsError('PeerClient', [
      `base url ${JSON.stringify(text)} is not a URL; expected http://host:port`,
    ])
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.search !== '' ||
    url.hash !== '' ||
    url.username !== ''
  ) {
    throw new InvalidPeerOptionsError('PeerClient', [
      `base url ${JSON.stringify(url.origin)} must be http(s)://host:port[/prefix], without query, fragment or credentials`,
    ])
  }
  return url as URL & { protocol: 'http:' | 'https:' }
}

function toBuffer(body: Uint8Array | string | undefined): Buffer {
  if (body === undefined) return Buffer.alloc(0)
  return typeof body === 'string'
    ? Buffer.from(body)
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
}

function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

function unreachable(url: string, error: unknown, signal: AbortSignal): PeerUnreachableError {
  if (signal.aborted) {
    const reason: unknown = signal.reason
    const timedOut = reason instanceof DOMException && reason.name === 'TimeoutError'
    return new PeerUnreachableError(
      url,
      timedOut ? 'no complete answer before the deadline' : 'aborted by the caller',
      {
        cause: error,
      },
    )
  }
  return new PeerUnreachableError(url, error instanceof Error ? error.message : String(error), {
    cause: error,
  })
}

/** Reads the whole body, at most `max` bytes (more is an error, not a truncation). */
async function readAll(
  response: IncomingMessage,
  max: number,
  url: string,
  signal: AbortSignal,
): Promise<Buffer> {
  const declared = Number(response.headers['content-length'])
  if (Number.isFinite(declared) && declared > max) {
    response.destroy()
    throw new PeerResponseError(
      url,
      'too-large',
      `the body is ${declared} bytes, above the ${max}-byte limit`,
    )
  }
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > max) {
        response.destroy()
        throw new PeerResponseError(url, 'too-large', `the body is above the ${max}-byte limit`)
      }
      chunks.push(chunk)
    }
  } catch (error) {
    if (error instanceof PeerResponseError) throw error
    throw unreachable(url, error, signal)
  }
  if (!response.complete) throw unreachable(url, new Error('the connection closed mid-answer'), signal)
  return Buffer.concat(chunks, size)
}

/** Passes `response` through, failing when it ends before or after `length` bytes. */
function exactly(response: IncomingMessage, length: number, url: string): Readable {
  let seen = 0
  const check = new Transform({
    // Room for a few socket reads: a 16 KiB default paused the response (and its socket) after every chunk.
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length
      if (seen > length)
        done(new PeerResponseError(url, 'malformed', `more than the ${length} bytes announced`))
      else done(null, chunk)
    },
    flush(done: TransformCallback) {
      if (seen !== length || !response.complete) {
        done(new PeerUnreachableError(url, `the download ended after ${seen} of ${length} bytes`))
      } else done()
    },
  })
  response.pipe(check)
  // pipe() listens for errors on `check` itself; only listeners beyond these are a reader's. With no reader,
  // end the stream quietly rather than crash the process with an unhandled 'error'; a reader that comes later
  // sees a premature close.
  const ownListeners = check.listenerCount('error')
  const fail = (error: Error): void => {
    check.destroy(check.listenerCount('error') > ownListeners ? error : undefined)
  }
  response.on('error', (error) => fail(new PeerUnreachableError(url, error.message, { cause: error })))
  response.on('aborted', () =>
    fail(new PeerUnreachableError(url, `the download ended after ${seen} of ${length} bytes`)),
  )
  // A reader that destroys the stream before its end (gave up, failed to write) is done with the connection: drop
  // it, or the peer keeps the transfer (and its slot) open until its idle timeout.
  check.once('close', () => {
    if (!response.complete) response.destroy()
  })
  return check
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

/** The sha256 of a file of `length` bytes held whole already. */
async function hashWholeFile(file: string, length: number): Promise<string> {
  const handle = await open(file, 'r')
  try {
    return (await hashPrefix(handle, length)).digest('hex')
  } finally {
    await handle.close()
  }
}

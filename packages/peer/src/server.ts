import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { isIPv6 } from 'node:net'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { errorFields, type ListenAddress, silentLogger } from '@ghostfleet/core'
import { readBody } from './body-reader.js'
import { PeerListenError } from './errors/peer-listen-error.js'
import type { PeerErrorCode } from './errors/peer-rejected-error.js'
import { isStreamResponse, type PeerResponse } from './handler.js'
import type { PeerLimits } from './limits.js'
import { parseOptions } from './option-fields.js'
import { type PeerOutcome, type PeerServerStats, zeroOutcomes } from './outcomes.js'
import { ReplayCache } from './replay-cache.js'
import { readAuthHeaders, requestIsSigned } from './request-auth.js'
import {
  errorBody,
  errorHeaders,
  handlerHeaders,
  type ResponseSigner,
  rawRefusal,
  signedHead,
  writeSigned,
  writeUnsigned,
} from './response-writer.js'
import { SenderRateLimiter } from './sender-rate-limiter.js'
import { type PeerServerOptions, peerServerOptionsSchema } from './server-options.js'
import { WarnThrottle } from './warn-throttle.js'
import { UNSIGNED_PAYLOAD } from './wire.js'

/** A running peer listener. */
export interface PeerServer {
  /** `http://host:port` as bound (the real port when 0 was asked). */
  readonly url: string
  readonly address: ListenAddress
  /** The limits in force, defaults filled in. */
  readonly limits: PeerLimits
  /** Counts by outcome since the start, and requests in flight. */
  stats(): PeerServerStats
  /**
   * Stops accepting, lets requests in flight finish for `graceMs` (default 5000), then cuts the remaining
   * connections (their handlers' signals abort). Resolves when the listener is closed.
   */
  close(options?: { graceMs?: number }): Promise<void>
}

/** Log one warning per kind per this interval at most. */
const WARN_INTERVAL_MS = 10_000
/** What a busy listener asks callers to wait, in milliseconds: a slot frees up as soon as one request ends. */
const BUSY_RETRY_MS = 1_000

/**
 * Starts the authenticated peer listener. Every request goes through, in this order: the global concurrency
 * cap, the body cap, the signature (constant time), the validity window, the replay cache and the sender's
 * token bucket; only then does `handler` see it. Checking the signature before the clock and the nonce means
 * that someone without the fleet key learns nothing but "unauthorized" and cannot fill the replay cache.
 *
 * @throws InvalidPeerOptionsError when the options are unusable (nothing is bound).
 * @throws PeerListenError when the address cannot be bound.
 */
export async function startPeerServer(options: PeerServerOptions): Promise<PeerServer> {
  const settings = parseOptions('startPeerServer', peerServerOptionsSchema, options)
  const { limits, key, handler } = settings
  const logger = settings.logger ?? silentLogger
  const warnings = new WarnThrottle(logger, WARN_INTERVAL_MS)
  const nonces = new ReplayCache(limits.maxNonces)
  const buckets = new SenderRateLimiter(
    limits.perSender.ratePerSecond,
    limits.perSender.burst,
    limits.maxSenders,
  )
  const outcomes = zeroOutcomes()
  const busySockets = new WeakSet<Socket>()
  let inFlight = 0

  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.requestTimeoutMs,
    // Our own deadline answers a slow body with a JSON 408; node's is the backstop for a socket we lost track of.
    requestTimeout: limits.requestTimeoutMs + 1_000,
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(limits.requestTimeoutMs / 4))),
    keepAliveTimeout: 5_000,
  })
  server.maxHeadersCount = 100

  function report(
    outcome: PeerOutcome,
    status: number,
    sender: string | null,
    method: string,
    path: string | null,
    startedAt: number,
  ): void {
    outcomes[outcome]++
    if (settings.onRequest === undefined) return
    try {
      settings.onRequest({ outcome, status, sender, method, path, durationMs: performance.now() - startedAt })
    } catch (error) {
      logger.error({ ...errorFields(error) }, 'peer onRequest hook threw; metrics for this request are lost')
    }
  }

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A request in progress on this socket answers for itself (its own 408/413); write only on an idle socket.
    if (!socket.writable || busySockets.has(socket) || error.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    const startedAt = performance.now()
    if (error.code === 'HPE_HEADER_OVERFLOW') {
      socket.end(
        rawRefusal(
          431,
          'Request Header Fields Too Large',
          'too-large',
          `request head above ${limits.maxHeaderBytes} bytes`,
        ),
      )
      report('too-large', 431, null, '', null, startedAt)
    } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.end(
        rawRefusal(
          408,
          'Request Timeout',
          'timeout',
          `request not received within ${limits.requestTimeoutMs} ms`,
        ),
      )
      report('timeout', 408, null, '', null, startedAt)
    } else {
      socket.end(rawRefusal(400, 'Bad Request', 'bad-request', 'not a readable HTTP/1.1 request'))
      report('bad-request', 400, null, '', null, startedAt)
    }
  })

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    serve(request, response).catch((error: unknown) => {
      logger.error({ ...errorFields(error) }, 'peer request failed unexpectedly; connection cut')
      response.destroy()
    })
  })

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now()
    const deadlineMs = Date.now() + limits.requestTimeoutMs
    const method = (request.method ?? '').toUpperCase()
    const target = request.url ?? ''
    const path = target.startsWith('/') ? (target.split('?', 1)[0] ?? target) : null
    let outcome: PeerOutcome = 'ok'
    let sender: string | null = null
    const socket = request.socket
    busySockets.add(socket)
    inFlight++
    response.once('close', () => {
      inFlight--
      busySockets.delete(socket)
      report(outcome, response.headersSent ? response.statusCode : 0, sender, method, path, startedAt)
    })
    const refuse = (
      status: number,
      code: PeerErrorCode,
      result: PeerOutcome,
      message: string,
      extra: { retryAfterMs?: number; close?: boolean } = {},
    ): void => {
      outcome = result
      writeUnsigned(response, status, code, message, extra)
    }

    if (inFlight > limits.maxConcurrent) {
      refuse(429, 'busy', 'busy', `more than ${limits.maxConcurrent} peer requests in flight`, {
        retryAfterMs: BUSY_RETRY_MS,
        close: true,
      })
      return
    }
    if (path === null) {
      refuse(400, 'bad-request', 'bad-request', 'the request target must be a path starting with /', {
        close: true,
      })
      return
    }
    const headers = readAuthHeaders(request.headers)
    if (!headers.ok) {
      warnings.warn(
        'unauthorized',
        { remote: socket.remoteAddress, problem: headers.problem },
        'peer request refused: unauthenticated',
      )
      refuse(401, 'unauthorized', 'unauthorized', headers.problem, { close: true })
      return
    }
    const auth = headers.auth
    const body = await readBody(request, limits.maxBodyBytes, deadlineMs)
    if (body.kind === 'gone') {
      outcome = 'bad-request'
      return
    }
    if (body.kind === 'too-large') {
      refuse(413, 'too-large', 'too-large', `request body above ${limits.maxBodyBytes} bytes`, {
        close: true,
      })
      return
    }
    if (body.kind === 'timeout') {
      refuse(408, 'timeout', 'timeout', `request body not received within ${limits.requestTimeoutMs} ms`, {
        close: true,
      })
      return
    }
    const range = typeof request.headers.range === 'string' ? request.headers.range : undefined
    if (!requestIsSigned(key, auth, method, target, body.body, range)) {
      warnings.warn(
        'unauthorized',
        { remote: socket.remoteAddress, claimedSender: auth.sender },
        'peer request refused: signature does not match (another fleet key, or the request was altered)',
      )
      refuse(
        401,
        'unauthorized',
        'unauthorized',
        'signature does not match: another fleet key, or the request was altered',
      )
      return
    }
    const nowMs = Date.now()
    const skewMs = nowMs - auth.timestampMs
    if (Math.abs(skewMs) > limits.windowMs) {
      const seconds = Math.round(Math.abs(skewMs) / 1000)
      const side = skewMs > 0 ? 'behind' : 'ahead of'
      const message =
        `request timestamp is ${seconds} s ${side} this sidecar's clock, outside the ±${limits.windowMs / 1000} s ` +
        'window: a late replay, or clocks out of sync (check NTP on both hosts)'
      warnings.warn(
        'expired',
        { sender: auth.sender, skewMs },
        'peer request refused: timestamp outside the window',
      )
      refuse(401, 'expired', 'expired', message)
      return
    }
    const verdict = nonces.check(auth.nonce, auth.timestampMs + limits.windowMs, nowMs)
    if (verdict === 'replayed') {
      warnings.warn(
        'replayed',
        { sender: auth.sender },
        'peer request refused: nonce already used (a replay)',
      )
      refuse(401, 'replayed', 'replayed', 'this nonce was already used: the request is a replay')
      return
    }
    if (verdict === 'full') {
      warnings.warn('busy', { size: nonces.size }, 'peer request refused: replay cache full')
      refuse(503, 'busy', 'busy', 'too many requests inside the validity window', {
        retryAfterMs: BUSY_RETRY_MS,
      })
      return
    }
    sender = auth.sender
    const signer: ResponseSigner = {
      key,
      chainId: settings.chainId,
      responder: settings.sidecarId,
      nonce: auth.nonce,
    }
    const refuseSigned = (
      status: number,
      code: PeerErrorCode,
      result: PeerOutcome,
      message: string,
      retryAfterMs?: number,
    ) => {
      outcome = result
      writeSigned(
        response,
        signer,
        status,
        errorHeaders(code, retryAfterMs),
        errorBody(code, message),
        method === 'HEAD',
      )
    }
    const rate = buckets.take(auth.sender, nowMs)
    if (!rate.allowed) {
      refuseSigned(
        429,
        'rate-limited',
        'rate-limited',
        `sender ${auth.sender} is over its peer rate limit`,
        rate.retryAfterMs,
      )
      return
    }

    const controller = new AbortController()
    response.once('close', () => {
      if (!response.writableFinished) controller.abort(new Error('the caller closed the connection'))
    })
    const answer = await runHandler(controller, {
      method,
      target,
      path,
      query: new URLSearchParams(target.slice(path.length + 1)),
      headers: request.headers,
      body: body.body,
      sender: auth.sender,
      signal: controller.signal,
    })
    if (response.destroyed) {
      if (answer.kind === 'response') await release(answer.response)
      return
    }
    if (answer.kind === 'timeout') {
      refuseSigned(
        504,
        'timeout',
        'timeout',
        `the handler did not answer within ${limits.handlerTimeoutMs} ms`,
      )
      return
    }
    if (answer.kind === 'error') {
      logger.error({ ...errorFields(answer.error), sender: auth.sender, path }, 'peer handler failed')
      refuseSigned(500, 'internal', 'handler-error', 'the handler failed; see the serving sidecar log')
      return
    }
    await send(response, signer, method, answer.response, (failed) => {
      outcome = failed ? 'handler-error' : 'ok'
    })
  }

  type HandlerAnswer =
    | { kind: 'response'; response: PeerResponse }
    | { kind: 'timeout' }
    | { kind: 'error'; error: unknown }

  async function runHandler(
    controller: AbortController,
    peerRequest: Parameters<typeof handler>[0],
  ): Promise<HandlerAnswer> {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<HandlerAnswer>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error(`peer handler timeout after ${limits.handlerTimeoutMs} ms`))
        resolve({ kind: 'timeout' })
      }, limits.handlerTimeoutMs)
    })
    const handled = Promise.resolve()
      .then(() => handler(peerRequest))
      .then(
        (response): HandlerAnswer => ({ kind: 'response', response }),
        (error: unknown): HandlerAnswer => ({ kind: 'error', error }),
      )
    const first = await Promise.race([handled, timedOut])
    clearTimeout(timer)
    if (first.kind === 'timeout') {
      // The handler may still answer later; whatever it opened must be released.
      void handled.then((late) => (late.kind === 'response' ? release(late.response) : undefined))
    }
    return first
  }

  async function send(
    response: ServerResponse,
    signer: ResponseSigner,
    method: string,
    answer: PeerResponse,
    settle: (failed: boolean) => void,
  ): Promise<void> {
    const isHead = method === 'HEAD'
    try {
      if (!isStreamResponse(answer)) {
        const body =
          typeof answer.body === 'string' ? Buffer.from(answer.body) : Buffer.from(answer.body ?? [])
        writeSigned(response, signer, answer.status, handlerHeaders(answer.headers), body, isHead)
        settle(false)
        return
      }
      response.writeHead(
        answer.status,
        signedHead(signer, answer.status, handlerHeaders(answer.headers), answer.length, UNSIGNED_PAYLOAD),
      )
    } catch (error) {
      // Invalid status or header value from the handler: nothing has been sent yet.
      await (isStreamResponse(answer) ? release(answer) : undefined)
      logger.error({ ...errorFields(error) }, 'peer handler returned an unusable response')
      settle(true)
      writeSigned(
        response,
        signer,
        500,
        errorHeaders('internal'),
        errorBody('internal', 'the handler failed'),
        isHead,
      )
      return
    }
    settle(false)
    if (isHead || answer.length === 0) {
      await release(answer)
      response.end()
      return
    }
    response.setTimeout(limits.idleTimeoutMs, () => response.destroy(new Error('peer stream idle')))
    try {
      await pipeline(answer.stream(), exactLength(answer.length), response)
    } catch (error) {
      settle(true)
      response.destroy()
      logger.warn({ ...errorFields(error) }, 'peer stream ended early; the caller sees a short body')
    }
  }

  async function release(answer: PeerResponse): Promise<void> {
    if (!isStreamResponse(answer) || answer.close === undefined) return
    try {
      await answer.close()
    } catch (error) {
      logger.warn({ ...errorFields(error) }, 'peer response could not release what it held')
    }
  }

  const listen = settings.listen
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(new PeerListenError(hostPort(listen.host, listen.port), error.message, { cause: error }))
    }
    server.once('error', onError)
    server.listen(listen.port, listen.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  const address: ListenAddress = { host: listen.host, port: bound.port }
  const url = `http://${hostPort(address.host, address.port)}`
  logger.info({ url, chainId: settings.chainId }, 'peer listener started')

  let closing: Promise<void> | undefined
  return {
    url,
    address,
    limits,
    stats: () => ({ inFlight, outcomes: { ...outcomes } }),
    close: (closeOptions = {}) => {
      closing ??= new Promise<void>((resolve) => {
        const graceMs = closeOptions.graceMs ?? 5_000
        const cut = setTimeout(() => server.closeAllConnections(), graceMs)
        server.close(() => {
          clearTimeout(cut)
          resolve()
        })
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * Passes a handler's stream through, failing it when it yields more or fewer bytes than the Content-Length it
 * announced: the connection is then cut, so the caller sees a short body instead of a wrong one.
 */
function exactLength(length: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      seen += chunk.length
      if (seen > length) done(new Error(`the stream yielded more than the ${length} bytes announced`))
      else done(null, chunk)
    },
    flush(done: TransformCallback) {
      if (seen === length) done()
      else done(new Error(`the stream ended after ${seen} of the ${length} bytes announced`))
    },
  })
}

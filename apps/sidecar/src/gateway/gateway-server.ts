import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseListenAddress } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import { failedAnswer, type GatewayAnswer, type GatewayRouter } from './gateway-router.js'
import { errorEnvelope } from './rpc-envelope.js'
import { ROUTED_METHODS } from './rpc-methods.js'
import { type CallProblem, isProblem, jsonRpcCall, uriCall } from './rpc-request.js'

/** CometBFT's default `[rpc] max_body_bytes`. */
const MAX_BODY_BYTES = 1_000_000
const JSON_TYPE = 'application/json'

export interface GatewayServer {
  /** `http://host:port`: what the protocol node is given as its RPC. */
  url: string
  close(): Promise<void>
}

/** The listen address was refused (in use, not an address of this host). */
export class GatewayListenError extends Error {
  override readonly name = 'GatewayListenError'
}

/**
 * The CometBFT-RPC-compatible endpoint for the local protocol node: URI requests (`GET /block?height=5`) and
 * JSON-RPC (`POST /`, single or batch). Routed methods (rpc-methods.ts) go through the router; anything else
 * is passed to the local node as it came. Every answer says where it came from in `x-ghostfleet-route`
 * (`local`, `sibling`, `failed`) and, from a sibling, `x-ghostfleet-served-by`.
 */
export async function startGatewayServer(options: {
  listen: string
  router: GatewayRouter
  log: Logger
}): Promise<GatewayServer> {
  const { router, log } = options
  const address = parseListenAddress(options.listen)
  if (address === null) throw new GatewayListenError(`not a listen address: ${options.listen}`)

  const passThrough = (req: http.IncomingMessage, body: Buffer | undefined): Promise<GatewayAnswer> =>
    router.passThrough(
      {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        body,
        contentType: req.headers['content-type'],
      },
      req.method === 'POST' && (req.url ?? '/') === '/' ? null : undefined,
    )

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://gateway')
    const method = url.pathname.slice(1)
    if (req.method === 'POST' && url.pathname === '/') {
      const body = await readBody(req)
      if (body === null)
        return send(res, failedAnswer(null, `the request body is larger than ${MAX_BODY_BYTES} bytes`))
      if (body.length === 0) return send(res, await passThrough(req, body))
      let parsed: unknown
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch (error) {
        const data = `error unmarshaling request: ${(error as Error).message}`
        return send(res, {
          ...problemAnswer({ id: null, code: -32700, message: 'Parse error. Invalid JSON', data }),
          status: 500,
        })
      }
      if (!Array.isArray(parsed)) {
        const call = jsonRpcCall(parsed)
        if (call === null) return send(res, await passThrough(req, body))
        return send(res, isProblem(call) ? problemAnswer(call) : await router.call(call))
      }
      return send(res, await batch(parsed, req))
    }
    if (ROUTED_METHODS.has(method) && (req.method === 'GET' || req.method === 'POST')) {
      return send(res, await router.call(uriCall(method, url.searchParams, url.search.slice(1))))
    }
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req)
    if (body === null)
      return send(res, failedAnswer(undefined, `the request body is larger than ${MAX_BODY_BYTES} bytes`))
    return send(res, await passThrough(req, body))
  }

  /** Each element routed on its own; the answers in one array, as CometBFT answers a batch. */
  const batch = async (requests: unknown[], req: http.IncomingMessage): Promise<GatewayAnswer> => {
    const answers = await Promise.all(
      requests.map(async (request): Promise<GatewayAnswer | null> => {
        // A notification (no id) gets no answer, as from CometBFT; a read-only call as one means nothing.
        if (typeof request === 'object' && request !== null && !('id' in request)) return null
        const call = jsonRpcCall(request)
        if (call === null) return await passThrough(req, Buffer.from(JSON.stringify(request)))
        return isProblem(call) ? problemAnswer(call) : await router.call(call)
      }),
    )
    const answered = answers.filter((answer): answer is GatewayAnswer => answer !== null)
    const body = Buffer.from(`[${answered.map((answer) => answer.body.toString('utf8')).join(',')}]`)
    // The header names the worst route of the batch's calls.
    const route = answered.some((a) => a.route === 'failed')
      ? 'failed'
      : answered.some((a) => a.route === 'sibling')
        ? 'sibling'
        : 'local'
    return { status: 200, body, contentType: JSON_TYPE, cacheControl: undefined, route, servedBy: null }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: error }, 'gateway: request failed')
      if (!res.headersSent) send(res, failedAnswer(undefined, `gateway error: ${(error as Error).message}`))
      else res.destroy()
    })
  })
  // The protocol node keeps its connections open; so does the gateway (Node's 5 s default closes them under it).
  server.keepAliveTimeout = 65_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new GatewayListenError(`cannot listen on ${options.listen}: ${error.message}`)),
    )
    server.listen(address.port, address.host, () => resolve())
  })
  const bound = server.address() as AddressInfo
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  return {
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function send(res: http.ServerResponse, answer: GatewayAnswer): void {
  const headers: http.OutgoingHttpHeaders = {
    'content-type': answer.contentType ?? JSON_TYPE,
    'content-length': answer.body.length,
    'x-ghostfleet-route': answer.route,
  }
  if (answer.cacheControl !== undefined) headers['cache-control'] = answer.cacheControl
  if (answer.servedBy !== null && answer.servedBy !== 'local')
    headers['x-ghostfleet-served-by'] = answer.servedBy
  res.writeHead(answer.status, headers).end(answer.body)
}

function problemAnswer(problem: CallProblem): GatewayAnswer {
  return {
    status: 200,
    body: Buffer.from(errorEnvelope(problem.id, problem.data, problem.code, problem.message)),
    contentType: JSON_TYPE,
    cacheControl: undefined,
    route: 'failed',
    servedBy: null,
  }
}

/** The whole body, or null when it exceeds the cap. */
function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) over = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

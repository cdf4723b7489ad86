import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express'
import type { Registry } from 'prom-client'
import { createLogger, type Logger } from './logger.js'
import { formatHostPort, parseListen } from './parse-listen.js'

/** What a readiness check answers: 200 ready, 422 up but not ready (catching up), 503 cannot serve. */
export interface ReadinessResult {
  status: 200 | 422 | 503
  /** Sent as JSON; say why, so `curl /readyz` is enough to diagnose. */
  body: unknown
}

/** Options for {@link createHttpServer}. */
export interface HttpServerOptions {
  /** Served as `GET /metrics`. Without it there is no `/metrics` route. */
  registry?: Registry
  /** Is the process able to make progress at all? Defaults to always true. */
  livez?: () => boolean | Promise<boolean>
  /** Is the service ready for its users? Defaults to always 200. */
  readyz?: () => ReadinessResult | Promise<ReadinessResult>
  /** Adds the service's own routes, after the built-in ones and before the JSON 404. */
  routes?: (app: Express) => void
  /** Receives failed requests. Defaults to a logger named `ghostfleet-http`. */
  logger?: Logger
}

const READINESS_STATUSES: ReadonlySet<number> = new Set([200, 422, 503])

/**
 * Builds the express app with `/livez`, `/readyz`, `/metrics`, the service's routes, a JSON 404 and a JSON
 * error handler. It does not listen: tests and {@link startHttpServer} decide where it runs.
 *
 * Every failure is answered: a throwing or rejecting route becomes a logged JSON 500 (or the 4xx an express
 * middleware attached to the error), so no request can take the process down or hang.
 */
export function createHttpServer(options: HttpServerOptions = {}): Express {
  const logger = options.logger ?? createLogger({ name: 'ghostfleet-http' })
  const app = express()
  app.disable('x-powered-by')

  app.get('/livez', async (_req, res) => {
    noStore(res)
    let alive: boolean
    try {
      alive = options.livez === undefined ? true : await options.livez()
    } catch (error) {
      logger.warn({ err: error }, 'liveness check threw')
      res.status(503).json({ status: 'error', error: messageOf(error) })
      return
    }
    if (alive === true) res.status(200).json({ status: 'ok' })
    else res.status(503).json({ status: 'unavailable' })
  })

  app.get('/readyz', async (_req, res) => {
    noStore(res)
    if (options.readyz === undefined) {
      res.status(200).json({ status: 'ok' })
      return
    }
    let result: ReadinessResult
    try {
      result = await options.readyz()
    } catch (error) {
      logger.warn({ err: error }, 'readiness check threw')
      res.status(503).json({ status: 'error', error: messageOf(error) })
      return
    }
    // A malformed answer is a bug in the caller, not a verdict on readiness: let the error handler say so.
    if (typeof result !== 'object' || result === null || !READINESS_STATUSES.has(result.status)) {
      throw new TypeError(
        `readyz returned ${JSON.stringify(result)}; expected { status: 200 | 422 | 503, body }`,
      )
    }
    res.status(result.status).json(result.body === undefined ? null : result.body)
  })

  const registry = options.registry
  if (registry !== undefined) {
    app.get('/metrics', async (_req, res) => {
      const text = await registry.metrics()
      noStore(res)
      res.status(200).type(registry.contentType).send(text)
    })
  }

  options.routes?.(app)

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: 'not found', method: req.method, path: req.path })
  })

  const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const status = clientErrorStatus(error) ?? 500
    const fields = { err: error, method: req.method, path: req.path, status }
    if (status >= 500) logger.error(fields, 'request failed')
    else logger.warn(fields, 'request rejected')
    if (res.headersSent) {
      // The status line is gone; cutting the connection is the only way left to tell the client.
      res.destroy()
      return
    }
    res.status(status).json({ error: messageOf(error) })
  }
  app.use(errorHandler)

  return app
}

/** Options for {@link startHttpServer}. */
export interface StartHttpServerOptions {
  /**
   * How long `close()` lets requests already in progress finish before cutting their connections.
   * Idle keep-alive connections are closed at once. @default 2000
   */
  shutdownGraceMs?: number
}

/** A listening server, from {@link startHttpServer}. */
export interface StartedHttpServer {
  /** `http://host:port` with the port actually bound. */
  url: string
  host: string
  port: number
  /**
   * Stops accepting connections, closes idle keep-alive connections, lets running requests finish (their
   * responses carry `Connection: close`) and cuts whatever is left after the grace period. Idempotent.
   */
  close(): Promise<void>
}

/** The server could not bind (address in use, not available on this host, no permission). */
export class ListenError extends Error {
  override readonly name = 'ListenError'
}

/**
 * Listens on `listen` (`host:port`, `[ipv6]:port`, or a bare port on 127.0.0.1; port 0 picks a free one) and
 * resolves once the server accepts connections.
 */
export async function startHttpServer(
  app: http.RequestListener,
  listen: string,
  options: StartHttpServerOptions = {},
): Promise<StartedHttpServer> {
  const { host, port: requestedPort } = parseListen(listen)
  const graceMs = options.shutdownGraceMs ?? 2000

  const inFlight = new Set<http.ServerResponse>()
  let closing: Promise<void> | undefined
  const server = http.createServer((req, res) => {
    inFlight.add(res)
    res.once('close', () => inFlight.delete(res))
    if (closing !== undefined) res.setHeader('Connection', 'close')
    app(req, res)
  })

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      const detail = error.code === undefined ? error.message : `${error.code} (${error.message})`
      reject(
        new ListenError(`cannot listen on ${formatHostPort(host, requestedPort)}: ${detail}`, {
          cause: error,
        }),
      )
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(requestedPort, host)
  })

  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${formatHostPort(host, port)}`,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // Without this a keep-alive client that just got its answer would hold the server open for
        // keepAliveTimeout; with it the connection ends as soon as the response does.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close')
        const deadline = setTimeout(() => server.closeAllConnections(), graceMs)
        server.close((error) => {
          clearTimeout(deadline)
          if (error === undefined) resolve()
          else reject(error)
        })
        server.closeIdleConnections()
      })
      return closing
    },
  }
}

function noStore(res: Response): void {
  res.set('Cache-Control', 'no-store')
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The 4xx status an express middleware (body parser, router) put on its error, if any. */
function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const status: unknown = Reflect.get(error, 'status') ?? Reflect.get(error, 'statusCode')
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500
    ? status
    : undefined
}

import http from 'node:http'
import type { z } from 'zod'
import { describeFirstIssue, PeerProtocolError, SimnodeError } from './errors.js'

/** The peer could not be reached (refused, reset, timed out): the connection is gone. */
export class PeerUnreachableError extends SimnodeError {}

/** The peer answered with a non-2xx status; `body` holds its `{"error": …}` reason when it sent one. */
export class PeerRejectedError extends PeerProtocolError {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`peer answered HTTP ${status}: ${reason}`)
  }
}

export interface PeerRequest<T> {
  method: 'GET' | 'POST'
  ip: string
  port: number
  path: string
  body?: unknown
  headers?: Record<string, string>
  timeoutMs: number
  schema: z.ZodType<T>
  /** Largest response body accepted. */
  maxBytes?: number
}

/**
 * JSON over HTTP to another simulated node's p2p listener, with a hard deadline per request and zod
 * validation of the answer. One keep-alive agent per node, destroyed at stop.
 */
export class P2pClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

  async request<T>(req: PeerRequest<T>): Promise<T> {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body))
    const maxBytes = req.maxBytes ?? 64 * 1024 * 1024
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(
        {
          host: req.ip,
          port: req.port,
          path: req.path,
          method: req.method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
              : {}),
            ...req.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size > maxBytes) {
              request.destroy(new PeerProtocolError(`response larger than ${maxBytes} bytes`))
              return
            }
            chunks.push(c)
          })
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          )
          res.on('error', reject)
        },
      )
      request.setTimeout(req.timeoutMs, () =>
        request.destroy(new PeerUnreachableError(`timed out after ${req.timeoutMs} ms`)),
      )
      request.on('error', (error) => {
        reject(
          error instanceof SimnodeError ? error : new PeerUnreachableError(error.message, { cause: error }),
        )
      })
      request.end(payload)
    })
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      if (status < 200 || status >= 300) throw new PeerRejectedError(status, text.slice(0, 200))
      throw new PeerProtocolError(`${req.path}: answer is not JSON`)
    }
    if (status < 200 || status >= 300) {
      const reason =
        typeof json === 'object' && json !== null && typeof (json as { error?: unknown }).error === 'string'
          ? (json as { error: string }).error
          : text.slice(0, 200)
      throw new PeerRejectedError(status, reason)
    }
    const parsed = req.schema.safeParse(json)
    if (!parsed.success) throw new PeerProtocolError(`${req.path}: ${describeFirstIssue(parsed.error)}`)
    return parsed.data
  }

  close(): void {
    this.agent.destroy()
  }
}

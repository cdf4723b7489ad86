import http from 'node:http'
import https from 'node:https'

/** A whole answer of the node: buffered, so a node that dies half-way through is a failure that can be retried. */
export interface NodeAnswer {
  status: number
  contentType: string | undefined
  cacheControl: string | undefined
  body: Buffer
}

/** The node did not answer (refused, reset, timed out, or cut off half-way). */
export class NodeUnavailableError extends Error {
  override readonly name = 'NodeUnavailableError'
}

class StaleSocketError extends NodeUnavailableError {}

/** Answers above this are not a CometBFT RPC answer this gateway should hold in memory. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024

/**
 * Asks the local node's RPC, over keep-alive connections (a new TCP connection per request would cost more than
 * the gateway's whole latency budget). Used by the gateway and by the peer listener for siblings.
 */
export class NodeForwarder {
  private readonly base: URL
  private readonly agent: http.Agent
  private readonly transport: typeof http | typeof https

  constructor(
    endpoint: string,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(endpoint.endsWith('/') ? endpoint : `${endpoint}/`)
    this.transport = this.base.protocol === 'https:' ? https : http
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 })
  }

  /** `GET /<method>?<query>`: the URI form of a call. */
  call(method: string, query: string, signal?: AbortSignal): Promise<NodeAnswer> {
    const path = `${this.base.pathname}${method}${query === '' ? '' : `?${query}`}`
    return this.request('GET', path, undefined, undefined, signal)
  }

  /** Any request as the caller sent it (a method the gateway does not route). */
  passThrough(
    method: string,
    target: string,
    body: Buffer | undefined,
    contentType: string | undefined,
    signal?: AbortSignal,
  ): Promise<NodeAnswer> {
    const path = `${this.base.pathname.replace(/\/$/, '')}${target}`
    return this.request(method, path, body, contentType, signal)
  }

  close(): void {
    this.agent.destroy()
  }

  /**
   * A kept-alive connection the node closed meanwhile (it restarted) fails before any answer: that is not the node
   * being down, so it is tried once more on a fresh connection.
   */
  private async request(
    method: string,
    path: string,
    body: Buffer | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<NodeAnswer> {
    try {
      return await this.once(method, path, body, contentType, signal)
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error
      return await this.once(method, path, body, contentType, signal)
    }
  }

  private once(
    method: string,
    path: string,
    body: Buffer | undefined,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<NodeAnswer> {
    return new Promise((resolve, reject) => {
      let answered = false
      const headers: http.OutgoingHttpHeaders = {}
      if (body !== undefined) headers['content-length'] = body.length
      if (contentType !== undefined) headers['content-type'] = contentType
      const req = this.transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent: this.agent,
          headers,
          timeout: this.timeoutMs,
          signal,
        },
        (res) => {
          answered = true
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_ANSWER_BYTES) {
              req.destroy(new NodeUnavailableError(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`))
              return
            }
            chunks.push(chunk)
          })
          res.on('end', () => {
            if (!res.complete) {
              reject(new NodeUnavailableError('the node cut its answer off'))
              return
            }
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              cacheControl: res.headers['cache-control'],
              body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
            })
          })
          // A connection closed half-way through: settles the promise if nothing else did (later calls are no-ops).
          res.on('close', () => reject(new NodeUnavailableError('the node cut its answer off')))
          res.on('error', (error) => reject(new NodeUnavailableError(error.message)))
        },
      )
      req.on('timeout', () => req.destroy(new NodeUnavailableError(`no answer within ${this.timeoutMs} ms`)))
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof NodeUnavailableError) reject(error)
        else if (!answered && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE'))
          reject(new StaleSocketError(error.message))
        else reject(new NodeUnavailableError(error.message))
      })
      req.end(body)
    })
  }
}

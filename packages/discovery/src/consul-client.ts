/**
 * The one place this package talks to the `consul` npm client (the product's chosen Consul client), adding
 * what every call needs and the client leaves to its caller: a timeout, the ACL token, cancellation from an
 * `AbortSignal`, the response headers, and errors that say which call failed and why.
 */
import { EventEmitter } from 'node:events'
import http, { type IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import Consul from 'consul'
import type { ConsulEndpoint } from './consul-url.js'
import { ConsulRequestError } from './errors/consul-request-error.js'

/**
 * Options every call passes to a `consul` method on top of its own. `timeout` and `ctx` are honoured by the
 * client (it hands them to its HTTP layer, papi) but are missing from its type definitions, hence this type.
 */
export interface RequestControls {
  token?: string
  /** Milliseconds for the whole request. */
  timeout: number
  /** papi's request context: emitting `cancel` aborts the request. */
  ctx: EventEmitter
}

/** What the agent answered. */
export interface ConsulAnswer {
  status: number
  headers: IncomingHttpHeaders
  /** The decoded JSON body (or `undefined` for empty answers); validate before use. */
  body: unknown
}

/** The papi request context; `includeResponse` makes calls resolve `[response, body]`, for the headers. */
class RequestContext extends EventEmitter {
  readonly includeResponse = true
  canceled = false
}

const MAX_REASON = 300

/** A `consul` client for one agent, with a per-request timeout and an optional ACL token. */
export class ConsulTransport {
  readonly client: Consul
  readonly endpoint: ConsulEndpoint
  readonly #token: string | undefined
  readonly #timeoutMs: number

  constructor(endpoint: ConsulEndpoint, token: string | undefined, timeoutMs: number) {
    this.endpoint = endpoint
    this.#token = token
    this.#timeoutMs = timeoutMs
    // No keep-alive (the client's default is on): calls are seconds apart, and a pooled connection the agent
    // has closed (idle timeout, agent restart) fails the next call with "socket hang up" although the agent is
    // up. A fresh connection to the local agent costs next to nothing.
    const agent = endpoint.secure
      ? new https.Agent({ keepAlive: false })
      : new http.Agent({ keepAlive: false })
    this.client = new Consul({ host: endpoint.host, port: endpoint.port, secure: endpoint.secure, agent })
  }

  /**
   * Runs one `consul` call. `send` receives the controls to spread into the method's options.
   *
   * @param operation what is attempted, for the error message (`register service x`).
   * @param path the API path, for the error message (`/v1/agent/service/register`).
   * @throws ConsulRequestError when no answer arrived or the agent answered an error status;
   *   `signal.reason` when the signal aborted the call.
   */
  async call(
    operation: string,
    path: string,
    send: (controls: RequestControls) => Promise<unknown>,
    signal?: AbortSignal,
  ): Promise<ConsulAnswer> {
    signal?.throwIfAborted()
    const ctx = new RequestContext()
    const abort = () => {
      ctx.canceled = true
      ctx.emit('cancel')
    }
    signal?.addEventListener('abort', abort, { once: true })
    const controls: RequestControls = { timeout: this.#timeoutMs, ctx }
    if (this.#token !== undefined) controls.token = this.#token
    try {
      return toAnswer(await send(controls))
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw this.#failure(operation, path, error)
    } finally {
      signal?.removeEventListener('abort', abort)
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy()
  }

  #failure(operation: string, path: string, error: unknown): ConsulRequestError {
    const url = `${this.endpoint.origin}${path}`
    const response = responseOf(error)
    if (response !== undefined)
      return new ConsulRequestError(operation, url, response.status, response.reason)
    if (isFlag(error, 'isTimeout')) {
      return new ConsulRequestError(operation, url, undefined, `timed out after ${this.#timeoutMs} ms`)
    }
    const message = error instanceof Error ? error.message : String(error)
    // The client prefixes "consul: agent.service.register: "; the operation already says that.
    return new ConsulRequestError(operation, url, undefined, message.replace(/^consul: [\w.]+: /, ''))
  }
}

function toAnswer(result: unknown): ConsulAnswer {
  if (!Array.isArray(result) || typeof result[0] !== 'object' || result[0] === null) {
    throw new Error('the consul client did not return the response (is includeResponse still supported?)')
  }
  const response = result[0] as { statusCode?: unknown; headers?: unknown }
  return {
    status: typeof response.statusCode === 'number' ? response.statusCode : 0,
    headers: (typeof response.headers === 'object' && response.headers !== null
      ? response.headers
      : {}) as IncomingHttpHeaders,
    body: result[1],
  }
}

/** The status and error text of an error status answer, from papi's `ResponseError`. */
function responseOf(error: unknown): { status: number; reason: string } | undefined {
  if (typeof error !== 'object' || error === null || !('response' in error)) return undefined
  const response = (error as { response?: unknown }).response
  if (typeof response !== 'object' || response === null) return undefined
  const { statusCode, body } = response as { statusCode?: unknown; body?: unknown }
  if (typeof statusCode !== 'number') return undefined
  let reason: string
  if (typeof body === 'string') reason = body
  else if (Buffer.isBuffer(body)) reason = body.toString('utf8')
  else if (body === undefined || body === null) reason = ''
  else reason = JSON.stringify(body)
  reason = reason.trim().replace(/\s+/g, ' ')
  if (reason.length > MAX_REASON) reason = `${reason.slice(0, MAX_REASON - 1)}…`
  return { status: statusCode, reason: reason === '' ? '(empty answer)' : reason }
}

function isFlag(error: unknown, flag: string): boolean {
  return typeof error === 'object' && error !== null && (error as Record<string, unknown>)[flag] === true
}

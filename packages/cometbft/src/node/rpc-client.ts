import http from 'node:http'
import https from 'node:https'
import axios, { type AxiosInstance } from 'axios'
import { z } from 'zod'
import { errorCode } from './atomic-file.js'
import {
  InvalidNodeEndpointError,
  InvalidNodeResponseError,
  NodeRpcError,
  NodeUnreachableError,
} from './errors.js'

/*
 * A client for the two CometBFT RPC calls the sidecar lives on (`/status` and `/abci_info`).
 *
 * Every request has a hard deadline and every answer is validated; nothing is ever defaulted to 0 except the
 * one documented case (`last_block_height` is omitted by the node when it is 0). supervysor logged parse
 * errors and returned height 0, which let it pick a mode or skip a prune on a number it never received;
 * here a bad answer is an error the caller has to handle.
 */

/** Options for {@link createNodeRpcClient}. */
export interface NodeRpcClientOptions {
  /** Base URL of the node's RPC, e.g. `http://127.0.0.1:26657` (see `rpcEndpointFromLaddr`). */
  endpoint: string
  /**
   * Deadline for one request, from sending it to the last byte of the answer.
   * @default 5000
   */
  timeoutMs?: number
}

/** `/abci_info`: what the application reports about its committed state. */
export interface AbciInfo {
  /** The application's last committed height (`last_block_height`; the node omits it when 0). */
  lastBlockHeight: number
  /** Application protocol version (`app_version`, 0 when omitted). */
  appVersion: number
  /** Application software version, e.g. `25.0.0` (empty when omitted). */
  version: string
  /** Free-form application data, usually the app name, e.g. `OsmosisApp` (empty when omitted). */
  data: string
}

/** `/status`: the node's identity and block-store view. */
export interface NodeStatus {
  /** `node_info`. */
  nodeInfo: {
    /** Node ID (40 lowercase hex characters). */
    id: string
    /** P2P listen address the node announces, e.g. `tcp://0.0.0.0:26656`. */
    listenAddr: string
    /** Chain ID, e.g. `osmosis-1`. */
    network: string
    /** CometBFT version, e.g. `0.38.12`. */
    version: string
    moniker: string
  }
  /** `sync_info`. */
  syncInfo: {
    /** Block-store height (may run ahead of the app height from `/abci_info`). */
    latestBlockHeight: number
    latestBlockTime: Date
    /** Block-store base: the lowest height still stored (after pruning, the prune height). */
    earliestBlockHeight: number
    earliestBlockTime: Date
    /** True while the node block-syncs or state-syncs. */
    catchingUp: boolean
  }
}

/** A client for one node's RPC endpoint. Every method rejects with a `NodeRequestError` subclass. */
export interface NodeRpcClient {
  /** The normalised endpoint (no trailing slash). */
  readonly endpoint: string
  /**
   * `GET /abci_info`.
   * @throws {@link NodeUnreachableError} | {@link NodeRpcError} | {@link InvalidNodeResponseError}
   */
  abciInfo(): Promise<AbciInfo>
  /**
   * `GET /status`.
   * @throws {@link NodeUnreachableError} | {@link NodeRpcError} | {@link InvalidNodeResponseError}
   */
  status(): Promise<NodeStatus>
}

const DECIMAL = /^\d+$/

/** int64/uint64 as cmtjson writes them: a decimal string. Must fit a JS number exactly. */
const int64String = z
  .string('expected an integer as a decimal string')
  .regex(DECIMAL, 'expected a non-negative integer as a decimal string')
  // zod runs this even when the regex failed, so it must not assume a decimal.
  .refine((value) => !DECIMAL.test(value) || Number.isSafeInteger(Number(value)), 'exceeds 2^53-1')
  .transform(Number)

/** time.Time as cmtjson writes it: RFC 3339 with up to nanoseconds. */
const timestamp = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 timestamp' })
  .transform((value) => new Date(value))

const rpcErrorSchema = z.object({
  code: z.int('expected an integer code'),
  message: z.string('expected a string'),
  data: z.string('expected a string').optional(),
})

const envelopeSchema = z.object({
  jsonrpc: z.literal('2.0', 'expected "2.0"'),
  // URI (GET) requests are always answered with id -1; a proxy in front of the node may rewrite it, so any
  // JSON-RPC id type is accepted. The id carries no meaning for GET requests.
  id: z.union([z.number(), z.string(), z.null()], 'expected a JSON-RPC id'),
  result: z.unknown().optional(),
  error: z.unknown().optional(),
})

const abciInfoResultSchema = z.object({
  response: z.object(
    {
      data: z.string('expected a string').optional(),
      version: z.string('expected a string').optional(),
      app_version: int64String.optional(),
      last_block_height: int64String.optional(),
    },
    'expected an object',
  ),
})

const statusResultSchema = z.object({
  node_info: z.object(
    {
      id: z
        .string('expected a string')
        .regex(/^[0-9a-f]{40}$/, 'expected a node ID (40 lowercase hex characters)'),
      listen_addr: z.string('expected a string'),
      network: z.string('expected a string').min(1, 'expected a non-empty chain ID'),
      version: z.string('expected a string'),
      moniker: z.string('expected a string'),
    },
    'expected an object',
  ),
  sync_info: z.object(
    {
      latest_block_height: int64String,
      latest_block_time: timestamp,
      earliest_block_height: int64String,
      earliest_block_time: timestamp,
      catching_up: z.boolean('expected true or false'),
    },
    'expected an object',
  ),
})

/** Cap on an answer's size: `/status` and `/abci_info` are a few kB; anything huge is not a CometBFT node. */
const MAX_RESPONSE_BYTES = 1024 * 1024

function formatIssue(prefix: string, error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'invalid'
  const where = [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.')
  return `${where === '' ? '' : `${where}: `}${issue.message}`
}

function normaliseEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new InvalidNodeEndpointError(endpoint, 'not a URL (expected e.g. http://127.0.0.1:26657)')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidNodeEndpointError(
      endpoint,
      `unsupported protocol "${url.protocol}" (expected http or https)`,
    )
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidNodeEndpointError(endpoint, 'must not contain a query or fragment')
  }
  return url.toString().replace(/\/+$/, '')
}

/**
 * Creates a client for a CometBFT node's RPC.
 *
 * @example
 * ```ts
 * const node = createNodeRpcClient({ endpoint: 'http://127.0.0.1:26657' })
 * const { lastBlockHeight } = await node.abciInfo()
 * ```
 * @throws {@link InvalidNodeEndpointError} when `endpoint` is not an http(s) URL.
 */
export function createNodeRpcClient(options: NodeRpcClientOptions): NodeRpcClient {
  const endpoint = normaliseEndpoint(options.endpoint)
  const timeoutMs = options.timeoutMs ?? 5000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`)
  }
  const client: AxiosInstance = axios.create({
    timeout: timeoutMs,
    // No keep-alive: the sidecar restarts the node, and a pooled socket from before the restart would turn
    // the first request after it into a spurious ECONNRESET. One request every few seconds needs no pool.
    httpAgent: new http.Agent({ keepAlive: false }),
    httpsAgent: new https.Agent({ keepAlive: false }),
    // The node is local: an HTTP(S)_PROXY from the environment must not reroute (or break) these calls.
    proxy: false,
    maxRedirects: 0,
    maxContentLength: MAX_RESPONSE_BYTES,
    responseType: 'text',
    // Parse JSON ourselves so that garbage becomes a precise InvalidNodeResponseError.
    transformResponse: [(data: unknown) => data],
    // CometBFT answers RPC errors with HTTP 500 and a JSON-RPC body: the body decides, not the status.
    validateStatus: () => true,
    headers: { Accept: 'application/json' },
  })

  async function call<T>(method: string, schema: z.ZodType<T>): Promise<T> {
    let status: number
    let body: unknown
    try {
      // axios' `timeout` is an idle timeout on the socket; the signal bounds the whole exchange, so a node
      // that trickles bytes cannot hold the caller past the deadline either.
      const response = await client.get<unknown>(`${endpoint}/${method}`, {
        signal: AbortSignal.timeout(timeoutMs),
      })
      status = response.status
      body = response.data
    } catch (error) {
      throw classifyTransportError(endpoint, method, timeoutMs, error)
    }
    if (typeof body !== 'string') {
      throw new InvalidNodeResponseError(endpoint, method, 'the body is not text', status)
    }
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      const start = body.slice(0, 80).replace(/\s+/g, ' ')
      throw new InvalidNodeResponseError(
        endpoint,
        method,
        body === '' ? 'empty body' : `the body is not JSON (starts with ${JSON.stringify(start)})`,
        status,
      )
    }
    const envelope = envelopeSchema.safeParse(json)
    if (!envelope.success) {
      throw new InvalidNodeResponseError(
        endpoint,
        method,
        `not a JSON-RPC 2.0 response: ${formatIssue('', envelope.error)}`,
        status,
      )
    }
    const hasError = envelope.data.error !== undefined && envelope.data.error !== null
    const hasResult = envelope.data.result !== undefined && envelope.data.result !== null
    if (hasError) {
      const rpcError = rpcErrorSchema.safeParse(envelope.data.error)
      if (!rpcError.success) {
        throw new InvalidNodeResponseError(endpoint, method, formatIssue('error', rpcError.error), status)
      }
      throw new NodeRpcError(endpoint, method, rpcError.data, status)
    }
    if (!hasResult) {
      throw new InvalidNodeResponseError(
        endpoint,
        method,
        'the response has neither "result" nor "error"',
        status,
      )
    }
    if (status < 200 || status > 299) {
      throw new InvalidNodeResponseError(endpoint, method, 'a "result" with a non-2xx HTTP status', status)
    }
    const result = schema.safeParse(envelope.data.result)
    if (!result.success) {
      throw new InvalidNodeResponseError(endpoint, method, formatIssue('result', result.error), status)
    }
    return result.data
  }

  return {
    endpoint,
    async abciInfo() {
      const { response } = await call('abci_info', abciInfoResultSchema)
      return {
        // Documented omitempty: a fresh node omits the height (and app_version) when they are 0.
        lastBlockHeight: response.last_block_height ?? 0,
        appVersion: response.app_version ?? 0,
        version: response.version ?? '',
        data: response.data ?? '',
      }
    },
    async status() {
      const result = await call('status', statusResultSchema)
      return {
        nodeInfo: {
          id: result.node_info.id,
          listenAddr: result.node_info.listen_addr,
          network: result.node_info.network,
          version: result.node_info.version,
          moniker: result.node_info.moniker,
        },
        syncInfo: {
          latestBlockHeight: result.sync_info.latest_block_height,
          latestBlockTime: result.sync_info.latest_block_time,
          earliestBlockHeight: result.sync_info.earliest_block_height,
          earliestBlockTime: result.sync_info.earliest_block_time,
          catchingUp: result.sync_info.catching_up,
        },
      }
    },
  }
}

function classifyTransportError(endpoint: string, method: string, timeoutMs: number, error: unknown): Error {
  if (!axios.isAxiosError(error)) {
    return new NodeUnreachableError(endpoint, method, 'ERROR', String(error), { cause: error })
  }
  const code = error.code ?? errorCode(error.cause) ?? 'ERROR'
  // Our AbortSignal fired (ERR_CANCELED) or axios' own timeout did (ECONNABORTED / ETIMEDOUT).
  if (code === 'ERR_CANCELED' || (code === 'ECONNABORTED' && /timeout/i.test(error.message))) {
    return new NodeUnreachableError(
      endpoint,
      method,
      'TIMEOUT',
      `no complete answer within ${timeoutMs} ms`,
      {
        cause: error,
      },
    )
  }
  if (code === 'ERR_BAD_RESPONSE' && /maxContentLength/i.test(error.message)) {
    return new InvalidNodeResponseError(
      endpoint,
      method,
      `the body is larger than ${MAX_RESPONSE_BYTES} bytes`,
      error.response?.status ?? 0,
    )
  }
  // Everything else happened before a complete answer arrived (ECONNREFUSED, ECONNRESET, EHOSTUNREACH, …).
  return new NodeUnreachableError(endpoint, method, code, error.message || code, { cause: error })
}

import http from 'node:http'
import type { SimChain } from './chain.js'
import { RpcError } from './errors.js'
import { rfc3339Nano } from './go-format.js'
import { readBody, sendJson, sendText } from './http-util.js'
import type { Ed25519Key } from './keys.js'
import type { NodeInfo } from './node-info.js'
import {
  b64,
  blockIdJson,
  blockResultsJson,
  headerJson,
  hexUpper,
  type Json,
  resultBlockJson,
} from './rpc-encode.js'
import type { Peer } from './switch.js'

/** What the RPC handlers read from the running node. */
export interface RpcNodeView {
  chain: SimChain
  nodeInfo(): NodeInfo
  catchingUp(): boolean
  privValidator: Ed25519Key
  peers(): Peer[]
  /** genesis.json as parsed JSON (served by /genesis). */
  genesisDoc: Json
  /** ABCI `Info` of the simulated app. */
  appName: string
  appVersion: string
}

const EMPTY_TIME = '1970-01-01T00:00:00Z'
const CACHEABLE = { 'cache-control': 'public, max-age=86400' }

type Params = Record<string, unknown>
interface Route {
  args: string[]
  /** Cacheable as CometBFT marks it: always (no args) or only when the listed arg is set. */
  cache?: 'always' | 'height'
  run(params: Params): Promise<Json>
}

/** An invalid parameter: answered as JSON-RPC -32602 "Invalid params". */
class InvalidParams extends RpcError {
  constructor(message: string) {
    super(`error converting http params to arguments: ${message}`, -32602, 'Invalid params')
  }
}

/**
 * Decodes an int64 parameter as CometBFT's URI handler does: `5` and `"5"` are the number, an empty value is
 * "not given" (nil pointer); anything else fails JSON decoding.
 */
function heightParam(raw: unknown): bigint | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined
  if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw)
  const s = String(raw)
  const m = /^"?(-?\d+)"?$/.exec(s)
  if (!m || s.startsWith('"') !== s.endsWith('"')) {
    throw new InvalidParams(`invalid character '${s[0] ?? ''}' looking for beginning of value`)
  }
  const v = BigInt(m[1]!)
  if (v > 9223372036854775807n || v < -9223372036854775808n) {
    throw new InvalidParams(`strconv.ParseInt: parsing "${m[1]}": value out of range`)
  }
  return v
}

/** `getHeight` of rpc/core/env.go, with its exact error messages. */
function resolveHeight(chain: SimChain, raw: unknown): number {
  const latest = chain.height()
  const h = heightParam(raw)
  if (h === undefined) return latest
  if (h <= 0n) throw new RpcError(`height must be greater than 0, but got ${h}`)
  if (h > BigInt(latest)) {
    throw new RpcError(`height ${h} must be less than or equal to the current blockchain height ${latest}`)
  }
  const base = chain.base()
  if (h < BigInt(base)) throw new RpcError(`height ${h} is not available, lowest height is ${base}`)
  return Number(h)
}

function makeRoutes(node: RpcNodeView): Map<string, Route> {
  const { chain } = node
  const routes = new Map<string, Route>()

  routes.set('health', { args: [], run: async () => ({}) })

  routes.set('status', {
    args: [],
    run: async () => {
      const store = chain.store
      const latestHeight = store.height()
      const latest = latestHeight > 0 ? await store.loadBlockMeta(latestHeight) : null
      const earliest = store.height() > 0 ? await store.loadBlockMeta(store.base()) : null
      return {
        node_info: node.nodeInfo() as unknown as Json,
        sync_info: {
          latest_block_hash: latest ? hexUpper(latest.blockId.hash) : '',
          latest_app_hash: latest ? hexUpper(latest.header.appHash) : '',
          latest_block_height: String(latestHeight),
          latest_block_time: latest
            ? rfc3339Nano(latest.header.time.seconds, latest.header.time.nanos)
            : EMPTY_TIME,
          earliest_block_hash: earliest ? hexUpper(earliest.blockId.hash) : '',
          earliest_app_hash: earliest ? hexUpper(earliest.header.appHash) : '',
          earliest_block_height: String(earliest ? earliest.header.height : 0),
          earliest_block_time: earliest
            ? rfc3339Nano(earliest.header.time.seconds, earliest.header.time.nanos)
            : EMPTY_TIME,
          catching_up: node.catchingUp(),
        },
        validator_info: {
          address: hexUpper(node.privValidator.address),
          pub_key: {
            type: 'tendermint/PubKeyEd25519',
            value: node.privValidator.publicKey.toString('base64'),
          },
          // Our key is not in the simulated validator set: a full node's voting power is 0.
          voting_power: '0',
        },
      }
    },
  })

  routes.set('abci_info', {
    args: [],
    cache: 'always',
    run: async () => {
      const state = await chain.store.loadState()
      const response: Record<string, Json> = { data: node.appName, version: node.appVersion }
      // ResponseInfo fields are omitempty: a fresh app has no last_block_height and no app hash.
      if (state && state.version.consensus.app !== 0)
        response['app_version'] = String(state.version.consensus.app)
      if (state && state.lastBlockHeight > 0) response['last_block_height'] = String(state.lastBlockHeight)
      if (state && state.appHash.length > 0) response['last_block_app_hash'] = b64(state.appHash)
      return { response }
    },
  })

  routes.set('block', {
    args: ['height'],
    cache: 'height',
    run: async (p) => {
      const height = resolveHeight(chain, p['height'])
      const loaded = height > 0 ? await chain.store.loadBlock(height) : null
      if (!loaded)
        return {
          block_id: blockIdJson({
            hash: new Uint8Array(0),
            partSetHeader: { total: 0, hash: new Uint8Array(0) },
          }),
          block: null,
        }
      return resultBlockJson(loaded.meta, loaded.block)
    },
  })

  routes.set('block_results', {
    args: ['height'],
    cache: 'height',
    run: async (p) => {
      const height = resolveHeight(chain, p['height'])
      const results = height > 0 ? await chain.store.loadBlockResults(height) : null
      if (!results) throw new RpcError(`could not find results for height #${height}`)
      return blockResultsJson(height, results)
    },
  })

  routes.set('header', {
    args: ['height'],
    cache: 'height',
    run: async (p) => {
      const height = resolveHeight(chain, p['height'])
      const meta = height > 0 ? await chain.store.loadBlockMeta(height) : null
      return { header: meta ? headerJson(meta.header) : null }
    },
  })

  routes.set('genesis', { args: [], cache: 'always', run: async () => ({ genesis: node.genesisDoc }) })

  routes.set('net_info', {
    args: [],
    run: async () => {
      const peers = node.peers()
      const info = node.nodeInfo()
      return {
        listening: true,
        listeners: [`Listener(@${info.listen_addr.replace(/^tcp:\/\//, '')})`],
        n_peers: String(peers.length),
        peers: peers.map((p) => ({
          node_info: p.nodeInfo as unknown as Json,
          is_outbound: p.outbound,
          connection_status: {
            Duration: String(BigInt(Date.now() - p.connectedAtMs) * 1_000_000n),
            SendMonitor: idleMonitor(p.connectedAtMs),
            RecvMonitor: idleMonitor(p.connectedAtMs),
            Channels: [],
          },
          remote_ip: p.addr.ip,
        })),
      }
    },
  })

  return routes
}

function idleMonitor(startMs: number): Json {
  return {
    Start: new Date(startMs).toISOString(),
    Bytes: '0',
    Samples: '0',
    InstRate: '0',
    CurRate: '0',
    AvgRate: '0',
    PeakRate: '0',
    BytesRem: '0',
    Duration: '0',
    Idle: '0',
    TimeRem: '0',
    Progress: 0,
    Active: false,
  }
}

type Id = string | number | null

function envelope(id: Id, result: Json): string {
  return JSON.stringify({ jsonrpc: '2.0', id, result })
}

function errorEnvelope(id: Id, code: number, message: string, data?: string): string {
  const error: Record<string, Json> = { code, message }
  if (data) error['data'] = data
  return JSON.stringify({ jsonrpc: '2.0', id, error })
}

function toRpcError(error: unknown): RpcError {
  return error instanceof RpcError ? error : new RpcError((error as Error).message ?? String(error))
}

/**
 * CometBFT's RPC server over node:http: URI (GET) requests answer with id -1, errors with HTTP 500; JSON-RPC
 * POSTs to `/` echo the id and answer errors with HTTP 200; unknown paths get Go's "404 page not found".
 */
export function createRpcServer(node: RpcNodeView): http.Server {
  const routes = makeRoutes(node)

  const listing = () =>
    `<html><body><br>Available endpoints:<br>${[...routes.keys()]
      .sort()
      .map((r) => `<a href="//${r}">//${r}</a></br>`)
      .join('')}</body></html>`

  async function handleUri(name: string, url: URL, res: http.ServerResponse): Promise<void> {
    const route = routes.get(name)!
    const params: Params = {}
    for (const arg of route.args) params[arg] = url.searchParams.get(arg) ?? undefined
    try {
      const result = await route.run(params)
      const cacheable =
        route.cache === 'always' || (route.cache === 'height' && heightParam(params['height']) !== undefined)
      sendJson(res, 200, envelope(-1, result), cacheable ? CACHEABLE : {})
    } catch (error) {
      const e = toRpcError(error)
      sendJson(res, 500, errorEnvelope(-1, e.code, e.rpcMessage, e.message))
    }
  }

  async function runOne(request: unknown, path: string): Promise<string | undefined> {
    if (typeof request !== 'object' || request === null) {
      return errorEnvelope(null, -32600, 'Invalid Request', 'request is not an object')
    }
    const r = request as { id?: unknown; method?: unknown; params?: unknown }
    if (r.id === undefined) return undefined // a notification: no answer
    const id: Id = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null
    if (path !== '/') return errorEnvelope(id, -32600, 'Invalid Request', `path ${path} is invalid`)
    const route = typeof r.method === 'string' ? routes.get(r.method) : undefined
    if (!route) return errorEnvelope(id, -32601, 'Method not found')
    const params: Params = {}
    if (Array.isArray(r.params)) {
      const list: unknown[] = r.params
      for (const [i, arg] of route.args.entries()) params[arg] = list[i]
    } else if (typeof r.params === 'object' && r.params !== null) Object.assign(params, r.params)
    try {
      return envelope(id, await route.run(params))
    } catch (error) {
      const e = toRpcError(error)
      return errorEnvelope(id, e.code, e.rpcMessage, e.message)
    }
  }

  async function handleJsonRpc(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
  ): Promise<void> {
    const body = await readBody(req, 1_000_000)
    if (body.length === 0) {
      sendText(res, 200, listing(), 'text/html')
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch (error) {
      sendJson(
        res,
        500,
        errorEnvelope(
          null,
          -32700,
          'Parse error. Invalid JSON',
          `error unmarshaling request: ${(error as Error).message}`,
        ),
      )
      return
    }
    const requests: unknown[] = Array.isArray(parsed) ? parsed : [parsed]
    const batch = Array.isArray(parsed)
    const answers = (await Promise.all(requests.map((r) => runOne(r, path)))).filter(
      (a): a is string => a !== undefined,
    )
    if (answers.length === 0) {
      res.writeHead(200).end()
      return
    }
    sendJson(res, 200, batch ? `[${answers.join(',')}]` : answers[0]!)
  }

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://rpc')
    const name = url.pathname.slice(1)
    const work =
      req.method === 'POST' && url.pathname === '/'
        ? handleJsonRpc(req, res, url.pathname)
        : url.pathname === '/'
          ? Promise.resolve(sendText(res, 200, listing(), 'text/html'))
          : routes.has(name) && (req.method === 'GET' || req.method === 'POST' || req.method === 'HEAD')
            ? handleUri(name, url, res)
            : Promise.resolve(sendText(res, 404, '404 page not found\n'))
    work.catch((error: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, errorEnvelope(-1, -32603, 'Internal error', (error as Error).message))
      else res.destroy()
    })
  })
}

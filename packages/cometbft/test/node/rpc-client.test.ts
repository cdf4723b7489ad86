import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createNodeRpcClient,
  InvalidNodeEndpointError,
  InvalidNodeResponseError,
  NodeRequestError,
  NodeRpcError,
  NodeUnreachableError,
} from '../../src/node/index.js'

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'rpc')
const fixture = (name: string): string => readFileSync(path.join(fixtures, name), 'utf8')
type Json = Record<string, unknown>
const fixtureJson = (name: string): Json => JSON.parse(fixture(name)) as Json

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** A local HTTP server standing in for a CometBFT RPC; each test sets the handler per path. */
const routes = new Map<string, Handler>()
const openSockets = new Set<import('node:net').Socket>()
let server: http.Server
let endpoint: string

function reply(status: number, body: string, contentType = 'application/json'): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType })
    res.end(body)
  }
}

/** Replaces one field deep inside a fixture: `withField(json, ['result','sync_info','catching_up'], 'no')`. */
function withField(json: Json, keyPath: string[], value: unknown): string {
  const copy = structuredClone(json)
  let node: Json = copy
  for (const key of keyPath.slice(0, -1)) node = node[key] as Json
  const last = keyPath[keyPath.length - 1] as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return JSON.stringify(copy)
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const handler = routes.get(req.url ?? '')
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('404 page not found')
      return
    }
    handler(req, res)
  })
  server.on('connection', (socket) => {
    openSockets.add(socket)
    socket.on('close', () => openSockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(() => {
  routes.clear()
  // Handlers that never answer leave sockets open; close them so one test cannot affect the next.
  for (const socket of openSockets) socket.destroy()
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to reject')
}

describe('createNodeRpcClient: well-formed answers', () => {
  it('parses a real-shaped /status (int64 strings, RFC 3339 nanosecond times)', async () => {
    routes.set('/status', reply(200, fixture('status-osmosis.json')))
    const status = await createNodeRpcClient({ endpoint }).status()
    expect(status).toEqual({
      nodeInfo: {
        id: '7f3a1c5e9b2d4f6a8c0e1b3d5f7a9c2e4b6d8f01',
        listenAddr: 'tcp://0.0.0.0:26656',
        network: 'osmosis-1',
        version: '0.38.12',
        moniker: 'kyve-ds-osmosis-01',
      },
      syncInfo: {
        latestBlockHeight: 22_183_520,
        latestBlockTime: new Date('2024-09-30T13:58:41.552Z'),
        earliestBlockHeight: 22_000_001,
        earliestBlockTime: new Date('2024-09-19T08:12:03.118Z'),
        catchingUp: false,
      },
    })
  })

  it('parses the /status of an empty store (heights "0", zero times)', async () => {
    routes.set('/status', reply(200, fixture('status-empty-store.json')))
    const status = await createNodeRpcClient({ endpoint }).status()
    expect(status.syncInfo).toEqual({
      latestBlockHeight: 0,
      latestBlockTime: new Date(0),
      earliestBlockHeight: 0,
      earliestBlockTime: new Date(0),
      catchingUp: true,
    })
  })

  it('parses a real-shaped /abci_info', async () => {
    routes.set('/abci_info', reply(200, fixture('abci-info-osmosis.json')))
    const info = await createNodeRpcClient({ endpoint }).abciInfo()
    expect(info).toEqual({
      lastBlockHeight: 22_183_519,
      appVersion: 1,
      version: '26.0.1',
      data: 'OsmosisApp',
    })
  })

  it('reads an omitted last_block_height (fresh node, omitempty) as 0', async () => {
    routes.set('/abci_info', reply(200, fixture('abci-info-fresh.json')))
    const info = await createNodeRpcClient({ endpoint }).abciInfo()
    expect(info).toEqual({ lastBlockHeight: 0, appVersion: 0, version: '26.0.1', data: 'OsmosisApp' })
  })

  it('accepts an endpoint with a trailing slash or a path prefix (reverse proxy)', async () => {
    routes.set('/rpc/abci_info', reply(200, fixture('abci-info-osmosis.json')))
    routes.set('/abci_info', reply(200, fixture('abci-info-osmosis.json')))
    const viaPrefix = createNodeRpcClient({ endpoint: `${endpoint}/rpc/` })
    expect(viaPrefix.endpoint).toBe(`${endpoint}/rpc`)
    expect((await viaPrefix.abciInfo()).lastBlockHeight).toBe(22_183_519)
    expect((await createNodeRpcClient({ endpoint: `${endpoint}/` }).abciInfo()).lastBlockHeight).toBe(
      22_183_519,
    )
  })

  it('keeps working across a node restart that closes its connections', async () => {
    routes.set('/abci_info', reply(200, fixture('abci-info-osmosis.json')))
    const client = createNodeRpcClient({ endpoint })
    for (let round = 0; round < 5; round++) {
      expect((await client.abciInfo()).lastBlockHeight).toBe(22_183_519)
      // What a restarting node does to every open connection.
      for (const socket of openSockets) socket.destroy()
    }
  })

  it('ignores HTTP proxy settings from the environment (the node is local)', async () => {
    routes.set('/abci_info', reply(200, fixture('abci-info-osmosis.json')))
    const deadProxy = `http://127.0.0.1:${await freePort()}`
    const saved = { http: process.env['HTTP_PROXY'], lower: process.env['http_proxy'] }
    process.env['HTTP_PROXY'] = deadProxy
    process.env['http_proxy'] = deadProxy
    try {
      expect((await createNodeRpcClient({ endpoint }).abciInfo()).lastBlockHeight).toBe(22_183_519)
    } finally {
      if (saved.http === undefined) delete process.env['HTTP_PROXY']
      else process.env['HTTP_PROXY'] = saved.http
      if (saved.lower === undefined) delete process.env['http_proxy']
      else process.env['http_proxy'] = saved.lower
    }
  })
})

describe('createNodeRpcClient: JSON-RPC errors', () => {
  it('turns a JSON-RPC error (HTTP 500, as CometBFT sends it) into a NodeRpcError with code, message and data', async () => {
    routes.set('/abci_info', reply(500, fixture('error-internal.json')))
    const error = await rejection(createNodeRpcClient({ endpoint }).abciInfo())
    expect(error).toBeInstanceOf(NodeRpcError)
    expect(error).toBeInstanceOf(NodeRequestError)
    const rpcError = error as NodeRpcError
    expect(rpcError.code).toBe(-32603)
    expect(rpcError.rpcMessage).toBe('Internal error')
    expect(rpcError.data).toBe('failed to query application: connection refused')
    expect(rpcError.httpStatus).toBe(500)
    expect(rpcError.method).toBe('abci_info')
    expect(rpcError.message).toContain(endpoint)
    expect(rpcError.message).toContain('-32603')
  })

  it('also treats a JSON-RPC error with HTTP 200 as an error, not as an empty result', async () => {
    routes.set('/status', reply(200, fixture('error-internal.json')))
    await expect(createNodeRpcClient({ endpoint }).status()).rejects.toBeInstanceOf(NodeRpcError)
  })
})

describe('createNodeRpcClient: garbage is an error, never a silent 0', () => {
  const abci = fixtureJson('abci-info-osmosis.json')
  const status = fixtureJson('status-osmosis.json')
  const cases: Array<{
    name: string
    method: 'abci_info' | 'status'
    status?: number
    body: string
    reason: RegExp
  }> = [
    {
      name: 'an HTML page',
      method: 'status',
      body: '<html><body>502 Bad Gateway</body></html>',
      reason: /not JSON/,
    },
    { name: 'an empty body', method: 'abci_info', body: '', reason: /empty body/ },
    { name: 'a JSON object that is no envelope', method: 'abci_info', body: '{}', reason: /jsonrpc/ },
    {
      name: 'the wrong JSON-RPC version',
      method: 'abci_info',
      body: withField(abci, ['jsonrpc'], '1.0'),
      reason: /jsonrpc/,
    },
    {
      name: 'neither result nor error',
      method: 'abci_info',
      body: '{"jsonrpc":"2.0","id":-1}',
      reason: /neither "result" nor "error"/,
    },
    {
      name: 'a height as a JSON number instead of an int64 string',
      method: 'abci_info',
      body: withField(abci, ['result', 'response', 'last_block_height'], 22_183_519),
      reason: /result\.response\.last_block_height/,
    },
    {
      name: 'an empty height string',
      method: 'abci_info',
      body: withField(abci, ['result', 'response', 'last_block_height'], ''),
      reason: /result\.response\.last_block_height/,
    },
    {
      name: 'a null height',
      method: 'abci_info',
      body: withField(abci, ['result', 'response', 'last_block_height'], null),
      reason: /result\.response\.last_block_height/,
    },
    {
      name: 'a negative height',
      method: 'abci_info',
      body: withField(abci, ['result', 'response', 'last_block_height'], '-5'),
      reason: /last_block_height/,
    },
    {
      name: 'a height beyond 2^53',
      method: 'abci_info',
      body: withField(abci, ['result', 'response', 'last_block_height'], '9007199254740993'),
      reason: /exceeds 2\^53-1/,
    },
    {
      name: 'a result without response',
      method: 'abci_info',
      body: '{"jsonrpc":"2.0","id":-1,"result":{}}',
      reason: /result\.response/,
    },
    {
      name: 'a status without sync_info.latest_block_height',
      method: 'status',
      body: withField(status, ['result', 'sync_info', 'latest_block_height'], undefined),
      reason: /result\.sync_info\.latest_block_height/,
    },
    {
      name: 'a status with a non-boolean catching_up',
      method: 'status',
      body: withField(status, ['result', 'sync_info', 'catching_up'], 'false'),
      reason: /result\.sync_info\.catching_up/,
    },
    {
      name: 'a status with an invalid time',
      method: 'status',
      body: withField(status, ['result', 'sync_info', 'latest_block_time'], 'yesterday'),
      reason: /result\.sync_info\.latest_block_time/,
    },
    {
      name: 'a status with a malformed node id',
      method: 'status',
      body: withField(status, ['result', 'node_info', 'id'], 'not-an-id'),
      reason: /result\.node_info\.id/,
    },
    {
      name: 'a malformed error object',
      method: 'status',
      status: 500,
      body: '{"jsonrpc":"2.0","id":-1,"error":{"code":"bad"}}',
      reason: /error\.code/,
    },
    {
      name: 'a result with HTTP 503',
      method: 'status',
      status: 503,
      body: fixture('status-osmosis.json'),
      reason: /non-2xx/,
    },
  ]

  for (const testCase of cases) {
    it(`rejects ${testCase.name} with InvalidNodeResponseError naming the endpoint and the problem`, async () => {
      routes.set(`/${testCase.method}`, reply(testCase.status ?? 200, testCase.body))
      const client = createNodeRpcClient({ endpoint })
      const error = await rejection(testCase.method === 'status' ? client.status() : client.abciInfo())
      expect(error).toBeInstanceOf(InvalidNodeResponseError)
      const invalid = error as InvalidNodeResponseError
      expect(invalid.message).toContain(`${endpoint}/${testCase.method}`)
      expect(invalid.reason).toMatch(testCase.reason)
    })
  }

  it('rejects an oversized body instead of buffering it', async () => {
    routes.set('/status', reply(200, `{"jsonrpc":"2.0","id":-1,"result":"${'x'.repeat(2 * 1024 * 1024)}"}`))
    const error = await rejection(createNodeRpcClient({ endpoint }).status())
    expect(error).toBeInstanceOf(InvalidNodeResponseError)
    expect((error as InvalidNodeResponseError).reason).toMatch(/larger than/)
  })
})

describe('createNodeRpcClient: unreachable nodes', () => {
  it('reports connection refused as NodeUnreachableError', async () => {
    const port = await freePort()
    const error = await rejection(createNodeRpcClient({ endpoint: `http://127.0.0.1:${port}` }).abciInfo())
    expect(error).toBeInstanceOf(NodeUnreachableError)
    expect((error as NodeUnreachableError).code).toBe('ECONNREFUSED')
    expect((error as Error).message).toContain(`127.0.0.1:${port}/abci_info`)
  })

  it('gives up on a node that accepts the request and never answers', async () => {
    routes.set('/status', () => {
      // never respond
    })
    const error = await rejection(createNodeRpcClient({ endpoint, timeoutMs: 300 }).status())
    expect(error).toBeInstanceOf(NodeUnreachableError)
    expect((error as NodeUnreachableError).code).toBe('TIMEOUT')
  })

  it('gives up on a node that trickles its answer byte by byte past the deadline', async () => {
    const timers: NodeJS.Timeout[] = []
    routes.set('/status', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      // Keeps the socket busy (so an idle timeout never fires) without ever completing the body.
      timers.push(setInterval(() => res.write(' '), 20))
    })
    try {
      const error = await rejection(createNodeRpcClient({ endpoint, timeoutMs: 400 }).status())
      expect(error).toBeInstanceOf(NodeUnreachableError)
      expect((error as NodeUnreachableError).code).toBe('TIMEOUT')
    } finally {
      for (const timer of timers) clearInterval(timer)
    }
  })
})

describe('createNodeRpcClient: options', () => {
  it('rejects an endpoint that is not an http(s) URL', () => {
    expect(() => createNodeRpcClient({ endpoint: 'tcp://127.0.0.1:26657' })).toThrow(InvalidNodeEndpointError)
    expect(() => createNodeRpcClient({ endpoint: '127.0.0.1:26657' })).toThrow(InvalidNodeEndpointError)
    expect(() => createNodeRpcClient({ endpoint: 'not a url' })).toThrow(/invalid node RPC endpoint/)
  })

  it('rejects a non-positive timeout', () => {
    expect(() => createNodeRpcClient({ endpoint, timeoutMs: 0 })).toThrow(RangeError)
  })
})

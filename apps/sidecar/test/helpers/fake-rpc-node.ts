import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A CometBFT RPC over real HTTP holding blocks [base, height] of one chain, for the gateway's routing tests:
 * `/status`, `/abci_info`, `/health`, `/block`, `/block_results` as URI GETs (id -1, errors with HTTP 500 and
 * CometBFT's own height messages, rpc/core/env.go `getHeight`). It can stop and start again on the same port
 * (a node restarting), and counts what it was asked.
 */
export class FakeRpcNode {
  base: number
  height: number
  chainId: string
  /** Calls answered, by method. */
  readonly calls = new Map<string, number>()
  private server: http.Server | null = null
  private port = 0

  constructor(options: { chainId: string; base: number; height: number }) {
    this.chainId = options.chainId
    this.base = options.base
    this.height = options.height
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  called(method: string): number {
    return this.calls.get(method) ?? 0
  }

  /** Listens (again, on the same port after a stop); a no-op while it listens. */
  async start(): Promise<this> {
    if (this.server !== null) return this
    const server = http.createServer((req, res) => this.answer(req, res))
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
    return this
  }

  /** Stops listening and cuts open connections: the next request is refused, as by a stopped node. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): unknown {
    const url = new URL(req.url ?? '/', 'http://node')
    const method = url.pathname.slice(1)
    this.calls.set(method, this.called(method) + 1)
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }
    const ok = (result: unknown) => send(200, { jsonrpc: '2.0', id: -1, result })
    const fail = (data: string) =>
      send(500, { jsonrpc: '2.0', id: -1, error: { code: -32603, message: 'Internal error', data } })
    const height = (): number | null => {
      const raw = url.searchParams.get('height')
      if (raw === null || raw === '') return this.height
      const h = Number(raw.replaceAll('"', ''))
      if (!Number.isInteger(h) || h <= 0) {
        fail(`height must be greater than 0, but got ${raw}`)
        return null
      }
      if (h > this.height) {
        fail(`height ${h} must be less than or equal to the current blockchain height ${this.height}`)
        return null
      }
      if (h < this.base) {
        fail(`height ${h} is not available, lowest height is ${this.base}`)
        return null
      }
      return h
    }
    switch (method) {
      case 'health':
        return ok({})
      case 'status':
        return ok({
          node_info: { network: this.chainId, id: 'ab'.repeat(20), moniker: 'fake' },
          sync_info: {
            latest_block_height: String(this.height),
            earliest_block_height: String(this.base),
            catching_up: false,
          },
        })
      case 'abci_info':
        return ok({ response: { data: 'fake', last_block_height: String(this.height) } })
      case 'block': {
        const h = height()
        if (h === null) return
        return ok({
          block_id: { hash: `HASH${h}` },
          block: { header: { chain_id: this.chainId, height: String(h) } },
        })
      }
      case 'block_results': {
        const h = height()
        if (h === null) return
        return ok({ height: String(h), txs_results: null })
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n')
    }
  }
}

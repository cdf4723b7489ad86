import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A stand-in for a sidecar's HTTP server: `/readyz` answers the status the test sets. */
export interface ReadyzServer {
  port: number
  /** `http://127.0.0.1:<port>/readyz`, what the Consul check points at. */
  readyzUrl: string
  /** Status `/readyz` answers from now on (200 ready, 422 catching up, 503 node unreachable). */
  setStatus(status: number): void
  /** Requests `/readyz` has served. */
  hits(): number
  close(): Promise<void>
}

export async function startReadyzServer(initialStatus = 200): Promise<ReadyzServer> {
  let status = initialStatus
  let hits = 0
  const server = http.createServer((req, res) => {
    if (req.url === '/readyz') {
      hits += 1
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status }))
      return
    }
    res.writeHead(404).end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    port,
    readyzUrl: `http://127.0.0.1:${port}/readyz`,
    setStatus: (next) => {
      status = next
    },
    hits: () => hits,
    async close() {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

import http, { type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onCleanup } from './fixtures.js'

/** A response as the proxy got it from the server, to be altered before it goes on to the client. */
export interface ProxiedResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/**
 * A man in the middle: forwards each request to `upstream` unchanged and passes the answer through `alter`
 * before returning it. Closed after the test.
 */
export async function startTamperProxy(
  upstream: string,
  alter: (response: ProxiedResponse) => ProxiedResponse,
): Promise<string> {
  const target = new URL(upstream)
  const proxy = http.createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const forward = http.request(
        {
          host: target.hostname,
          port: Number(target.port),
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent: false,
        },
        (answer) => {
          const body: Buffer[] = []
          answer.on('data', (chunk: Buffer) => body.push(chunk))
          answer.on('end', () => {
            const altered = alter({
              status: answer.statusCode ?? 0,
              headers: answer.headers,
              body: Buffer.concat(body),
            })
            const headers: IncomingHttpHeaders = {
              ...altered.headers,
              'content-length': String(altered.body.length),
            }
            delete headers.connection
            delete headers['keep-alive']
            response.writeHead(altered.status, headers)
            response.end(altered.body)
          })
        },
      )
      forward.on('error', () => response.destroy())
      forward.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        proxy.closeAllConnections()
        proxy.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
}

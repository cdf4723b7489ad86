import type http from 'node:http'
import { SimnodeError } from './errors.js'

/** A request body over its size limit. */
export class BodyTooLargeError extends SimnodeError {}

export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  })
  res.end(payload)
}

export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) })
  res.end(text)
}

export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) throw new BodyTooLargeError(`request body larger than ${limit} bytes`)
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}

/** The peer's IP as a plain address (IPv4-mapped IPv6 unwrapped). */
export function remoteIp(req: http.IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? ''
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip
}

/**
 * Starts `server` on host:port; rejects with the listen error (port in use, bad address) instead of emitting it.
 */
export async function listen(server: http.Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening)
      reject(error)
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
  const address = server.address()
  return typeof address === 'object' && address !== null ? address.port : port
}

/** Stops accepting connections and closes idle keep-alive sockets; resolves when the server is closed. */
export async function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  // Connections still busy get a short grace period from their own request handling; then they go.
  const force = setTimeout(() => server.closeAllConnections(), 2000)
  await closed
  clearTimeout(force)
}

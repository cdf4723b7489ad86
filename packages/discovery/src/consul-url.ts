/**
 * The Consul agent address as operators write it: `http(s)://host:port`. The port is required (Consul listens
 * on 8500/8501, not 80/443, so a URL without one is almost always a mistake) and nothing may follow it: the
 * `consul` client builds its own `/v1/...` paths and takes no path prefix, query or credentials (the ACL token
 * has its own option and never belongs in a URL). IPv6 literals (`http://[::1]:8500`) are refused: the client
 * hands the bracketed host to the resolver and never connects; a hostname that resolves to the address works.
 */

/** Where the `consul` client connects. */
export interface ConsulEndpoint {
  /** Hostname or IPv4 address. */
  host: string
  port: number
  secure: boolean
  /** `http://host:port`, for messages. */
  origin: string
}

const CONSUL_URL = /^(https?):\/\/([A-Za-z0-9.-]+):(\d{1,5})\/?$/

/** True for `http(s)://[v6]:port`, which {@link parseConsulUrl} refuses for a reason worth telling. */
export function isIpv6ConsulUrl(text: string): boolean {
  return typeof text === 'string' && /^https?:\/\/\[/.test(text)
}

/** The endpoint in `text`, or `undefined` when it is not `http(s)://host:port`. */
export function parseConsulUrl(text: string): ConsulEndpoint | undefined {
  if (typeof text !== 'string') return undefined
  const match = CONSUL_URL.exec(text)
  if (match === null) return undefined
  const [, scheme, host, rawPort] = match
  const port = Number(rawPort)
  if (scheme === undefined || host === undefined || !(port >= 1 && port <= 65535)) return undefined
  try {
    // Rejects hosts the loose pattern lets through (`a..b`, a leading dot).
    const url = new URL(`${scheme}://${host}:${port}`)
    if (url.hostname === '' || host.startsWith('.') || host.endsWith('.') || host.includes('..')) {
      return undefined
    }
  } catch {
    return undefined
  }
  return { host, port, secure: scheme === 'https', origin: `${scheme}://${host}:${port}` }
}

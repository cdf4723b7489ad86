/**
 * `host:port` listen addresses for the sidecar and tracker HTTP servers. The host is explicit (no bare
 * `:26670`), so exposing a server beyond loopback is always a visible choice in the config file.
 */
import { z } from 'zod'

export interface ListenAddress {
  /** IPv4 address, hostname, or IPv6 address without its brackets. */
  host: string
  /** 0–65535; 0 lets the OS pick a free port (useful in tests). */
  port: number
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const DOTTED_NUMBERS = /^[0-9.]+$/
const PORT = /^(?:0|[1-9][0-9]{0,4})$/
const ipv4 = z.ipv4()
const ipv6 = z.ipv6()

/**
 * Split `127.0.0.1:26670`, `localhost:26670` or `[::1]:26670`; `null` when the text is not such an address.
 *
 * @example
 * parseListenAddress('[::1]:26670') // → { host: '::1', port: 26670 }
 */
export function parseListenAddress(text: string): ListenAddress | null {
  if (typeof text !== 'string') return null
  const colon = text.lastIndexOf(':')
  if (colon === -1) return null
  const rawHost = text.slice(0, colon)
  const rawPort = text.slice(colon + 1)
  if (!PORT.test(rawPort)) return null
  const port = Number(rawPort)
  if (port > 65535) return null
  if (rawHost.startsWith('[') && rawHost.endsWith(']')) {
    const host = rawHost.slice(1, -1)
    return ipv6.safeParse(host).success ? { host, port } : null
  }
  if (DOTTED_NUMBERS.test(rawHost)) return ipv4.safeParse(rawHost).success ? { host: rawHost, port } : null
  return HOSTNAME.test(rawHost) ? { host: rawHost, port } : null
}

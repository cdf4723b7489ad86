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

/** The outcome of {@link checkListenAddress}: the address, or what is wrong with the text in words. */
export type ListenAddressCheck = { ok: true; address: ListenAddress } | { ok: false; problem: string }

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const DOTTED_NUMBERS = /^[0-9.]+$/
// Decimal, no sign, no leading zeros.
const PORT = /^(?:0|[1-9][0-9]{0,4})$/
const ipv4 = z.ipv4()
const ipv6 = z.ipv6()

const problem = (text: string): ListenAddressCheck => ({ ok: false, problem: text })

/**
 * Splits `127.0.0.1:26670`, `localhost:26670` or `[::1]:26670`, or says why the text is not such an address
 * ("the port is missing", "an IPv6 address must be written in brackets, …"). No trimming: a listen string with
 * spaces is a config mistake worth showing.
 */
export function checkListenAddress(text: string): ListenAddressCheck {
  if (typeof text !== 'string') return problem('it is not a string')
  if (text === '') return problem('it is empty')
  if (text.includes('://')) return problem('it is a URL, not an address')
  if (text.startsWith('[')) {
    const match = /^\[([^\]]*)\]:([^:]*)$/.exec(text)
    if (match === null) return problem('a bracketed IPv6 address must be followed by :port')
    const host = match[1] ?? ''
    if (!ipv6.safeParse(host).success) return problem(`${JSON.stringify(host)} is not an IPv6 address`)
    return withPort(host, match[2] ?? '')
  }
  const colon = text.lastIndexOf(':')
  if (colon === -1) return problem('the port is missing')
  const host = text.slice(0, colon)
  if (host.includes(':')) return problem('an IPv6 address must be written in brackets, e.g. [::1]:9090')
  if (host === '') {
    const port = text.slice(1)
    return problem(
      `the host is missing; write 127.0.0.1:${port} for loopback only or 0.0.0.0:${port} for all interfaces`,
    )
  }
  if (DOTTED_NUMBERS.test(host) ? !ipv4.safeParse(host).success : !HOSTNAME.test(host)) {
    return problem(`${JSON.stringify(host)} is not an IPv4 address or host name`)
  }
  return withPort(host, text.slice(colon + 1))
}

function withPort(host: string, text: string): ListenAddressCheck {
  if (!PORT.test(text)) return problem(`port ${JSON.stringify(text)} is not a number from 0 to 65535`)
  const port = Number(text)
  if (port > 65_535) return problem(`port ${port} is above 65535`)
  return { ok: true, address: { host, port } }
}

/**
 * {@link checkListenAddress} without the reason: the address, or `null`.
 *
 * @example
 * parseListenAddress('[::1]:26670') // → { host: '::1', port: 26670 }
 */
export function parseListenAddress(text: string): ListenAddress | null {
  const check = checkListenAddress(text)
  return check.ok ? check.address : null
}

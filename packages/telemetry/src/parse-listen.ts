import net from 'node:net'

/** Where an HTTP server listens, as parsed by {@link parseListen}. */
export interface ListenAddress {
  /** IPv4 address, IPv6 address (without brackets) or host name. */
  host: string
  /** 0 asks the kernel for a free port. */
  port: number
}

/** A listen string that is not `host:port`, `[ipv6]:port` or `port`. Nothing was bound. */
export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError'
  readonly listen: string

  constructor(listen: string, reason: string) {
    super(
      `invalid listen address ${JSON.stringify(listen)}: ${reason}; ` +
        'expected host:port, [ipv6]:port or a bare port (e.g. 127.0.0.1:9090, [::1]:9090, 9090)',
    )
    this.listen = listen
  }
}

/** Health and metrics endpoints are for the local operator unless configured otherwise. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1'

// Same port rule as @ghostfleet/core's parseListenAddress: decimal, no leading zeros.
const PORT = /^(?:0|[1-9]\d{0,4})$/
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i
const DOTTED_NUMBERS = /^[\d.]+$/

/**
 * Parses `host:port`, `[ipv6]:port` or a bare `port` (bound to 127.0.0.1).
 *
 * `:port` is rejected on purpose: Go tools (CometBFT, Prometheus) read it as "all interfaces", so accepting
 * it as loopback would surprise those operators, and accepting it as all interfaces would silently expose
 * the endpoints to anyone who meant the default. Writing `0.0.0.0:9090` or `127.0.0.1:9090` is unambiguous.
 */
export function parseListen(listen: string): ListenAddress {
  // No trimming: a listen string with spaces is a config mistake worth showing, and @ghostfleet/core's
  // parseListenAddress (which validates config files) rejects it too.
  if (listen === '') throw new ListenAddressError(listen, 'it is empty')
  if (listen.includes('://')) throw new ListenAddressError(listen, 'it is a URL, not an address')

  if (PORT.test(listen)) return { host: DEFAULT_LISTEN_HOST, port: parsePort(listen, listen) }

  if (listen.startsWith('[')) {
    const match = /^\[([^\]]*)\]:([^:]*)$/.exec(listen)
    if (match === null) {
      throw new ListenAddressError(listen, 'a bracketed IPv6 address must be followed by :port')
    }
    const host = match[1] ?? ''
    if (!net.isIPv6(host)) {
      throw new ListenAddressError(listen, `${JSON.stringify(host)} is not an IPv6 address`)
    }
    return { host, port: parsePort(listen, match[2] ?? '') }
  }

  const colon = listen.lastIndexOf(':')
  if (colon === -1) throw new ListenAddressError(listen, 'the port is missing')
  const host = listen.slice(0, colon)
  if (host.includes(':')) {
    throw new ListenAddressError(listen, 'an IPv6 address must be written in brackets, e.g. [::1]:9090')
  }
  if (host === '') {
    const port = listen.slice(1)
    throw new ListenAddressError(
      listen,
      `the host is missing; write 127.0.0.1:${port} for loopback only or 0.0.0.0:${port} for all interfaces`,
    )
  }
  if (DOTTED_NUMBERS.test(host) ? !net.isIPv4(host) : !HOST_NAME.test(host)) {
    throw new ListenAddressError(listen, `${JSON.stringify(host)} is not an IPv4 address or host name`)
  }
  return { host, port: parsePort(listen, listen.slice(colon + 1)) }
}

/** `host:port` with IPv6 hosts in brackets, as URLs and listen strings write them. */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

function parsePort(listen: string, text: string): number {
  if (!PORT.test(text)) {
    throw new ListenAddressError(listen, `port ${JSON.stringify(text)} is not a number from 0 to 65535`)
  }
  const port = Number(text)
  if (port > 65_535) throw new ListenAddressError(listen, `port ${port} is above 65535`)
  return port
}

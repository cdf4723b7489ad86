import net from 'node:net'
import { checkListenAddress, type ListenAddress } from '@ghostfleet/core'

export type { ListenAddress }

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

const BARE_PORT = /^(?:0|[1-9]\d{0,4})$/

/**
 * Parses `host:port`, `[ipv6]:port` or a bare `port` (bound to 127.0.0.1).
 *
 * `:port` is rejected on purpose: Go tools (CometBFT, Prometheus) read it as "all interfaces", so accepting
 * it as loopback would surprise those operators, and accepting it as all interfaces would silently expose
 * the endpoints to anyone who meant the default. Writing `0.0.0.0:9090` or `127.0.0.1:9090` is unambiguous.
 */
export function parseListen(listen: string): ListenAddress {
  const check = checkListenAddress(BARE_PORT.test(listen) ? `${DEFAULT_LISTEN_HOST}:${listen}` : listen)
  if (!check.ok) throw new ListenAddressError(listen, check.problem)
  return check.address
}

/** `host:port` with IPv6 hosts in brackets, as URLs and listen strings write them. */
export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

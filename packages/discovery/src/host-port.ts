import { parseListenAddress } from '@ghostfleet/core'

/** `host:port`, with IPv6 hosts in brackets (`[::1]:26670`), as Prometheus and URLs expect. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/**
 * A `host:port` a client can connect to (port 1–65535; IPv4, hostname or bracketed IPv6), normalised with
 * {@link formatHostPort}; `undefined` when the text is not one.
 */
export function parseTargetAddress(text: string): string | undefined {
  const parsed = parseListenAddress(text)
  if (parsed === null || parsed.port === 0) return undefined
  return formatHostPort(parsed.host, parsed.port)
}

/** Where the simulator listens. */
export interface ListenAddress {
  host: string
  port: number
}

/**
 * Parses `--listen`: `host:port`, `[ipv6]:port`, or `:port` (every interface, as Go servers read it).
 * @returns null when `text` is none of these.
 */
export function parseListenAddress(text: string): ListenAddress | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(0|[1-9][0-9]{0,4})$/.exec(text)
  if (match === null) return null
  const port = Number(match[3])
  if (port > 65535) return null
  const host = match[1] ?? match[2] ?? ''
  return { host: host === '' ? '0.0.0.0' : host, port }
}

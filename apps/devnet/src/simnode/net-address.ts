import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { AddressError } from './errors.js'

/** CometBFT's `p2p.NetAddress`: a node id plus where to dial it. */
export interface NetAddress {
  id: string
  ip: string
  port: number
}

const NODE_ID = /^[0-9a-f]{40}$/

/** True for a well-formed CometBFT node id (20 bytes as lowercase hex). */
export function isNodeId(id: string): boolean {
  return NODE_ID.test(id)
}

/**
 * CometBFT's `splitAndTrimEmpty(s, ",", " ")`: split on commas, trim spaces, drop empties.
 * This is why `--p2p.seeds " "` means "no seeds".
 */
export function splitAndTrimEmpty(value: string, sep = ',', cutset = ' '): string[] {
  if (value === '') return []
  const trim = (s: string) => {
    let start = 0
    let end = s.length
    while (start < end && cutset.includes(s[start]!)) start++
    while (end > start && cutset.includes(s[end - 1]!)) end--
    return s.slice(start, end)
  }
  return value
    .split(sep)
    .map(trim)
    .filter((s) => s !== '')
}

/** `id@ip:port` (`NetAddress.String()`). */
export function formatNetAddress(addr: NetAddress): string {
  return `${addr.id}@${addr.ip.includes(':') ? `[${addr.ip}]` : addr.ip}:${addr.port}`
}

function splitHostPort(hostPort: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(hostPort)
  if (!m) throw new AddressError(`${what}: expected host:port, got "${hostPort}"`)
  const host = m[1] ?? m[2] ?? ''
  const port = Number(m[3])
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new AddressError(`${what}: invalid port in "${hostPort}"`)
  return { host, port }
}

/** Parses `id@host:port` and resolves the host to an IP, as `p2p.NewNetAddressString` does. */
export async function parsePeerAddress(value: string): Promise<NetAddress> {
  const at = value.indexOf('@')
  if (at < 0) throw new AddressError(`address (${value}) does not contain ID`)
  const id = value.slice(0, at)
  if (!isNodeId(id))
    throw new AddressError(`invalid address (${value}): invalid peer ID: ${id} (40 lowercase hex characters)`)
  const { host, port } = splitHostPort(value.slice(at + 1), `invalid address (${value})`)
  if (port === 0) throw new AddressError(`invalid address (${value}): invalid port 0`)
  if (host === '') throw new AddressError(`invalid address (${value}): empty host`)
  const ip = isIP(host) ? host : await resolveHost(host, value)
  return { id, ip, port }
}

async function resolveHost(host: string, whole: string): Promise<string> {
  try {
    return (await lookup(host, { family: 4 })).address
  } catch (error) {
    throw new AddressError(`error looking up host (${whole}): ${(error as Error).message}`, { cause: error })
  }
}

/** A listen address (`tcp://0.0.0.0:26656`; the protocol is optional, as in `cmtnet.ProtocolAndAddress`). */
export interface ListenAddress {
  protocol: string
  host: string
  port: number
}

export function parseListenAddress(value: string, what: string): ListenAddress {
  const m = /^([a-z]+):\/\/(.*)$/.exec(value)
  const protocol = m ? m[1]! : 'tcp'
  const rest = m ? m[2]! : value
  if (protocol !== 'tcp')
    throw new AddressError(`${what}: only tcp:// listen addresses are supported, got "${value}"`)
  const { host, port } = splitHostPort(rest, `${what} "${value}"`)
  return { protocol, host: host === '' ? '0.0.0.0' : host, port }
}

export function formatListenAddress(addr: ListenAddress): string {
  return `${addr.protocol}://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`
}

function ipv4Octets(ip: string): number[] | undefined {
  if (isIP(ip) !== 4) return undefined
  return ip.split('.').map(Number)
}

/**
 * `NetAddress.Routable()`: false for unspecified, loopback, private (RFC1918), link-local, CGNAT and
 * documentation ranges. With `addr_book_strict = true` (CometBFT's default) such addresses never enter
 * the address book; local networks therefore run with `addr_book_strict = false`, as `cometbft testnet` sets.
 */
export function isRoutable(ip: string): boolean {
  const o = ipv4Octets(ip)
  if (!o) {
    const lower = ip.toLowerCase()
    return !(
      lower === '::' ||
      lower === '::1' ||
      lower.startsWith('fe80:') ||
      lower.startsWith('fc') ||
      lower.startsWith('fd')
    )
  }
  const [a = 0, b = 0, c = 0] = o
  if (a === 0 || a === 127 || a === 10) return false
  if (a === 172 && b >= 16 && b <= 31) return false
  if (a === 192 && b === 168) return false
  if (a === 169 && b === 254) return false
  if (a === 100 && b >= 64 && b <= 127) return false
  if (a === 192 && b === 0 && c === 2) return false
  if (a === 198 && b === 51 && c === 100) return false
  if (a === 203 && b === 0 && c === 113) return false
  if (a >= 224) return false
  return true
}

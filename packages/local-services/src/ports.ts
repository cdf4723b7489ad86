import { readFileSync } from 'node:fs'
import net from 'node:net'

/**
 * Where {@link freePort} looks: below the kernel's ephemeral range, where no `listen(0)` and no outgoing connection
 * of any process can land.
 *
 * Why not bind to port 0: the kernel answers from its ephemeral range (Linux 32768–60999; odd ports for bind, even
 * ones first for connect), and so does every other process that binds to port 0: test servers, relays, a ghost-mode
 * node's P2P listener. A local fleet stops its processes all the time (a node for a prune or a mode switch,
 * redis-server in the soak). While one is stopped its port is free, and whoever binds to port 0 meanwhile may get it
 * and keep it. The process then cannot bind it again: its node crash-loops on EADDRINUSE for as long as the other
 * holds the port. Real nodes are safe from this for the same reason: CometBFT's 26656/26657 lie below the range.
 */
export const FREE_PORT_RANGE = portRangeBelowEphemeral()

const ATTEMPTS = 500
/** Ports handed out by this process, so two calls in a row never return the same one before either is bound. */
const handedOut = new Set<number>()
const HANDED_OUT_MAX = 4096

/**
 * A TCP port on 127.0.0.1 that is free now and lies below the ephemeral range (see {@link FREE_PORT_RANGE}; `range`
 * replaces it in tests): a random candidate is bound and released, up to 500 times. Falls back to the kernel's
 * choice (bind to 0) when the range holds fewer than 1000 ports, as on a host whose ephemeral range starts low.
 */
export async function freePort(range: { low: number; high: number } = FREE_PORT_RANGE): Promise<number> {
  const { low, high } = range
  if (high - low >= 1000) {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const candidate = low + Math.floor(Math.random() * (high - low + 1))
      if (handedOut.has(candidate)) continue
      if ((await tryListen(candidate)) !== null) return remember(candidate)
    }
  }
  const port = await tryListen(0)
  if (port === null) throw new Error('freePort: the kernel found no free TCP port on 127.0.0.1')
  return remember(port)
}

function remember(port: number): number {
  if (handedOut.size >= HANDED_OUT_MAX) handedOut.delete(handedOut.values().next().value as number)
  handedOut.add(port)
  return port
}

/** Binds 127.0.0.1:port exclusively and releases it; the port bound, or null when it is taken. */
async function tryListen(port: number): Promise<number | null> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(null)
      else reject(error)
    })
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('freePort: the server has no TCP address'))
        return
      }
      server.close(() => resolve(address.port))
    })
  })
}

/**
 * [16384, first ephemeral port − 1], capped at 32767. Linux says where its range starts in
 * /proc/sys/net/ipv4/ip_local_port_range; elsewhere (macOS: 49152) 32768 is assumed, which is below every default.
 */
function portRangeBelowEphemeral(): { low: number; high: number } {
  let firstEphemeral = 32_768
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    const parsed = Number(first)
    if (Number.isSafeInteger(parsed) && parsed > 1024) firstEphemeral = parsed
  } catch {
    // not Linux: keep the assumption above
  }
  return { low: 16_384, high: Math.min(32_767, firstEphemeral - 1) }
}

/** Resolves when a TCP connection to host:port succeeds, rejects otherwise. */
export async function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = net.connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

import net from 'node:net'

/*
 * A TCP relay: every accepted connection is piped to the target of the moment. Used for Redis behind Sentinel
 * (the target follows the primary) and for the Redis path through a network namespace (a fixed target).
 */

export interface Address {
  host: string
  port: number
}

export class TcpRelay {
  private readonly open = new Set<net.Socket>()
  private closed = false

  private constructor(
    private readonly server: net.Server,
    private readonly target: () => Address | null,
  ) {
    server.on('connection', (socket) => this.relay(socket))
  }

  static async listen(at: Address, target: () => Address | null): Promise<TcpRelay> {
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(at.port, at.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    return new TcpRelay(server, target)
  }

  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  get port(): number {
    const address = this.server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  /** Ends every relayed connection (their clients reconnect, to the target of the moment). */
  dropAll(): void {
    for (const socket of this.open) socket.destroy()
    this.open.clear()
  }

  async close(): Promise<void> {
    this.closed = true
    this.dropAll()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private relay(client: net.Socket): void {
    const target = this.target()
    if (target === null || this.closed) {
      client.destroy()
      return
    }
    const upstream = net.connect(target.port, target.host)
    const pair = [client, upstream]
    for (const socket of pair) {
      this.open.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.open.delete(socket)
        for (const other of pair) other.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  }
}

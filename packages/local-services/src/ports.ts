import net from 'node:net'

/** Asks the kernel for a free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('freePort: unexpected address'))
        return
      }
      server.close(() => resolve(address.port))
    })
  })
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

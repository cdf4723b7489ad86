import { readFileSync } from 'node:fs'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { FREE_PORT_RANGE, freePort } from '../src/ports.js'

function firstEphemeralPort(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
  } catch {
    return null
  }
}

async function listenOn(port: number): Promise<net.Server> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

describe('freePort', () => {
  it('hands out distinct, bindable ports below the kernel ephemeral range', async () => {
    const first = firstEphemeralPort()
    if (first !== null) expect(FREE_PORT_RANGE.high).toBeLessThan(first)
    const ports: number[] = []
    for (let i = 0; i < 50; i++) ports.push(await freePort())
    expect(new Set(ports).size).toBe(50)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(FREE_PORT_RANGE.low)
      expect(port).toBeLessThanOrEqual(FREE_PORT_RANGE.high)
    }
    // Handed out but not yet bound by anyone: each can be bound now.
    const servers = await Promise.all(ports.map((port) => listenOn(port)))
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  })

  it('never hands out a port that is in use', async () => {
    // Every other port of a 1001-port range is taken by a listener of this test, which freePort cannot know of.
    const range = { low: FREE_PORT_RANGE.low, high: FREE_PORT_RANGE.low + 1000 }
    const taken: net.Server[] = []
    for (let port = range.low; port <= range.high; port += 2) {
      try {
        taken.push(await listenOn(port))
      } catch {
        // in use by someone else already: just as good
      }
    }
    try {
      const inUse = new Set(taken.map((server) => (server.address() as net.AddressInfo).port))
      expect(inUse.size).toBeGreaterThan(400)
      for (let i = 0; i < 50; i++) {
        const port = await freePort(range)
        expect(inUse.has(port), String(port)).toBe(false)
        expect(port).toBeGreaterThanOrEqual(range.low)
        expect(port).toBeLessThanOrEqual(range.high)
      }
    } finally {
      await Promise.all(taken.map((server) => new Promise((resolve) => server.close(resolve))))
    }
  })
})

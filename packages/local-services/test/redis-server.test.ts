import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { canConnect, eventually, startRedis } from '../src/index.js'

async function ping(port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => socket.write('PING\r\n'))
    socket.once('data', (d) => {
      socket.destroy()
      resolve(d.toString().trim())
    })
    socket.once('error', reject)
  })
}

describe('startRedis', () => {
  it('starts a private server that can be killed and restarted on the same port', async () => {
    const redis = await startRedis()
    try {
      expect(await ping(redis.port)).toBe('+PONG')
      await redis.kill()
      expect(await canConnect(redis.port)).toBe(false)
      await redis.restart()
      expect(await ping(redis.port)).toBe('+PONG')
    } finally {
      await redis.stop()
    }
  })
})

describe('eventually', () => {
  it('returns once the check passes', async () => {
    let n = 0
    const value = await eventually(
      () => {
        n++
        if (n < 3) throw new Error('not yet')
        return n
      },
      { intervalMs: 1 },
    )
    expect(value).toBe(3)
  })
  it('fails with the description and the last error after the deadline', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('still broken')
        },
        { timeoutMs: 50, intervalMs: 10, description: 'the thing' },
      ),
    ).rejects.toThrow(/the thing: still broken/)
  })
})

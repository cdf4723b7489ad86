import http from 'node:http'
import express from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpServer, ListenError, type StartedHttpServer, startHttpServer } from '../src/http-server.js'
import { createLogger } from '../src/logger.js'
import { createCounter, createGauge, createMetricsRegistry } from '../src/metrics.js'
import { ListenAddressError } from '../src/parse-listen.js'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  json: unknown
}

/** One real HTTP request; `agent` lets a test hold a keep-alive connection open. */
function request(
  url: string,
  options: { method?: string; agent?: http.Agent; body?: string; headers?: http.OutgoingHttpHeaders } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', agent: options.agent ?? false, headers: options.headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          const isJson = res.headers['content-type']?.startsWith('application/json') === true
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: isJson ? JSON.parse(text) : undefined,
          })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** A logger whose lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger({
    name: 'test-http',
    level: 'debug',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  })
  return { logger, lines }
}

/** A promise the test resolves by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

const started: StartedHttpServer[] = []
async function serve(app: http.RequestListener, listen = '127.0.0.1:0', shutdownGraceMs?: number) {
  const server = await startHttpServer(app, listen, shutdownGraceMs === undefined ? {} : { shutdownGraceMs })
  started.push(server)
  return server
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()))
})

describe('GET /livez', () => {
  it('answers 200 {"status":"ok"} by default', async () => {
    const { url } = await serve(createHttpServer({ logger: capturedLogger().logger }))
    const reply = await request(`${url}/livez`)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(reply.json).toEqual({ status: 'ok' })
  })

  it('follows the callback, sync or async', async () => {
    let alive = true
    const { url } = await serve(
      createHttpServer({ livez: async () => alive, logger: capturedLogger().logger }),
    )
    expect((await request(`${url}/livez`)).status).toBe(200)
    alive = false
    const reply = await request(`${url}/livez`)
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ status: 'unavailable' })
  })

  it('answers 503 with the message when the callback throws', async () => {
    const { logger, lines } = capturedLogger()
    const livez = () => {
      throw new Error('event loop wedged')
    }
    const { url } = await serve(createHttpServer({ livez, logger }))
    const reply = await request(`${url}/livez`)
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ status: 'error', error: 'event loop wedged' })
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'liveness check threw', level: 40 }))
  })
})

describe('GET /readyz', () => {
  it('answers 200 {"status":"ok"} without a callback', async () => {
    const { url } = await serve(createHttpServer({ logger: capturedLogger().logger }))
    const reply = await request(`${url}/readyz`)
    expect(reply.status).toBe(200)
    expect(reply.json).toEqual({ status: 'ok' })
  })

  it.each([
    [200, { status: 'in sync', diff: 3 }],
    [422, { status: 'catching up', diff: 1200 }],
    [503, { status: 'node unreachable', error: 'connect ECONNREFUSED 127.0.0.1:26657' }],
  ] as const)('answers %i with the callback body', async (status, body) => {
    const { url } = await serve(
      createHttpServer({ readyz: async () => ({ status, body }), logger: capturedLogger().logger }),
    )
    const reply = await request(`${url}/readyz`)
    expect(reply.status).toBe(status)
    expect(reply.headers['content-type']).toMatch(/^application\/json/)
    expect(reply.headers['cache-control']).toBe('no-store')
    expect(reply.json).toEqual(body)
  })

  it('answers 503 with the message when the callback rejects, and logs it', async () => {
    const { logger, lines } = capturedLogger()
    const readyz = async (): Promise<never> => {
      throw new Error('redis: connection lost')
    }
    const { url } = await serve(createHttpServer({ readyz, logger }))
    const reply = await request(`${url}/readyz`)
    expect(reply.status).toBe(503)
    expect(reply.json).toEqual({ status: 'error', error: 'redis: connection lost' })
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'readiness check threw',
        err: expect.objectContaining({ message: 'redis: connection lost' }),
      }),
    )
  })

  it('answers 500 when the callback returns something that is not a readiness result', async () => {
    const readyz = (async () => ({ status: 204, body: {} })) as unknown as () => Promise<{
      status: 200
      body: unknown
    }>
    const { url } = await serve(createHttpServer({ readyz, logger: capturedLogger().logger }))
    const reply = await request(`${url}/readyz`)
    expect(reply.status).toBe(500)
    expect(reply.json).toEqual({ error: expect.stringMatching(/readyz returned \{"status":204/) })
  })
})

describe('GET /metrics', () => {
  it('serves the registry in the Prometheus text format', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { service: 'sidecar' } })
    const restarts = createCounter(registry, {
      name: 'ghostfleet_node_restarts_total',
      help: 'Node restarts by target mode.',
      labelNames: ['mode'],
    })
    restarts.inc({ mode: 'ghost' }, 3)
    const { url } = await serve(createHttpServer({ registry, logger: capturedLogger().logger }))
    const reply = await request(`${url}/metrics`)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(reply.text).toContain('# HELP ghostfleet_node_restarts_total Node restarts by target mode.')
    expect(reply.text).toContain('# TYPE ghostfleet_node_restarts_total counter')
    expect(reply.text).toContain('ghostfleet_node_restarts_total{mode="ghost",service="sidecar"} 3')
    expect(reply.text).toMatch(/^ghostfleet_process_cpu_seconds_total\{service="sidecar"\} [\d.e-]+$/m)
    expect(reply.text).toMatch(/^ghostfleet_process_resident_memory_bytes\{service="sidecar"\} \d+$/m)
  })

  it('answers 500 (and keeps serving) when a collect callback fails', async () => {
    const { logger, lines } = capturedLogger()
    const registry = createMetricsRegistry({ defaultMetrics: false })
    createCounter(registry, { name: 'ghostfleet_ok_total', help: 'x' })
    let broken = true
    createGauge(registry, {
      name: 'ghostfleet_data_dir_bytes',
      help: 'Size of the data directory in bytes.',
      collect() {
        if (broken) throw new Error('ENOENT: data dir missing')
        this.set(1)
      },
    })
    const { url } = await serve(createHttpServer({ registry, logger }))
    const failed = await request(`${url}/metrics`)
    expect(failed.status).toBe(500)
    expect(failed.json).toEqual({ error: 'ENOENT: data dir missing' })
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'request failed', path: '/metrics', level: 50 }),
    )
    broken = false
    expect((await request(`${url}/metrics`)).text).toContain('ghostfleet_data_dir_bytes 1')
  })

  it('is not served without a registry', async () => {
    const { url } = await serve(createHttpServer({ logger: capturedLogger().logger }))
    expect((await request(`${url}/metrics`)).status).toBe(404)
  })
})

describe('routes, 404 and errors', () => {
  it('serves the routes the service adds', async () => {
    const app = createHttpServer({
      logger: capturedLogger().logger,
      routes: (a) => {
        a.get('/status', (_req, res) => {
          res.json({ mode: 'ghost' })
        })
      },
    })
    const { url } = await serve(app)
    expect((await request(`${url}/status`)).json).toEqual({ mode: 'ghost' })
  })

  it('keeps the built-in routes ahead of the service routes', async () => {
    const app = createHttpServer({
      logger: capturedLogger().logger,
      routes: (a) => {
        a.get('/livez', (_req, res) => {
          res.status(418).json({ status: 'teapot' })
        })
      },
    })
    const { url } = await serve(app)
    expect((await request(`${url}/livez`)).status).toBe(200)
  })

  it('answers unknown routes with a JSON 404', async () => {
    const { url } = await serve(createHttpServer({ logger: capturedLogger().logger }))
    const reply = await request(`${url}/nope?x=1`)
    expect(reply.status).toBe(404)
    expect(reply.json).toEqual({ error: 'not found', method: 'GET', path: '/nope' })
    const post = await request(`${url}/livez`, { method: 'POST' })
    expect(post.status).toBe(404)
    expect(post.json).toEqual({ error: 'not found', method: 'POST', path: '/livez' })
  })

  it('turns a throwing route into a logged JSON 500 and keeps serving', async () => {
    const { logger, lines } = capturedLogger()
    const app = createHttpServer({
      logger,
      routes: (a) => {
        a.get('/sync-throw', () => {
          throw new Error('status file unreadable')
        })
        a.get('/async-throw', async () => {
          await Promise.resolve()
          throw new Error('redis timeout')
        })
      },
    })
    const { url } = await serve(app)
    const sync = await request(`${url}/sync-throw`)
    expect(sync.status).toBe(500)
    expect(sync.json).toEqual({ error: 'status file unreadable' })
    const async = await request(`${url}/async-throw`)
    expect(async.status).toBe(500)
    expect(async.json).toEqual({ error: 'redis timeout' })
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: 'request failed',
        method: 'GET',
        path: '/async-throw',
        status: 500,
        err: expect.objectContaining({ message: 'redis timeout' }),
      }),
    )
    expect((await request(`${url}/livez`)).status).toBe(200)
  })

  it('keeps the 4xx an express middleware gives a bad request', async () => {
    const { logger, lines } = capturedLogger()
    const app = createHttpServer({
      logger,
      routes: (a) => {
        a.post('/echo', express.json(), (req, res) => {
          res.json(req.body)
        })
      },
    })
    const { url } = await serve(app)
    const reply = await request(`${url}/echo`, {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    })
    expect(reply.status).toBe(400)
    expect(reply.json).toEqual({ error: expect.stringMatching(/JSON/) })
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, msg: 'request rejected', status: 400 }))
  })

  it('cuts the connection when a route fails after sending headers', async () => {
    const app = createHttpServer({
      logger: capturedLogger().logger,
      routes: (a) => {
        a.get('/half', (_req, res, next) => {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.write('partial')
          next(new Error('stream broke'))
        })
      },
    })
    const { url } = await serve(app)
    await expect(request(`${url}/half`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/)
  })
})

describe('startHttpServer', () => {
  const app = () => createHttpServer({ logger: capturedLogger().logger })

  it('binds a bare port on 127.0.0.1 and reports the port it got', async () => {
    const server = await serve(app(), '0')
    expect(server.host).toBe('127.0.0.1')
    expect(server.port).toBeGreaterThan(0)
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect((await request(`${server.url}/livez`)).status).toBe(200)
  })

  it('binds IPv6 loopback when the host has it', async (context) => {
    let server: StartedHttpServer
    try {
      server = await serve(app(), '[::1]:0')
    } catch (error) {
      if (error instanceof ListenError && /EADDRNOTAVAIL|EAFNOSUPPORT/.test(error.message)) context.skip()
      throw error
    }
    expect(server.url).toBe(`http://[::1]:${server.port}`)
    expect((await request(`${server.url}/livez`)).status).toBe(200)
  })

  it('rejects a malformed listen string before binding anything', async () => {
    await expect(startHttpServer(app(), '::1:9090')).rejects.toThrow(ListenAddressError)
    await expect(startHttpServer(app(), 'localhost')).rejects.toThrow(/invalid listen address "localhost"/)
  })

  it('rejects an address in use with a ListenError that names it', async () => {
    const first = await serve(app())
    const second = startHttpServer(app(), `127.0.0.1:${first.port}`)
    await expect(second).rejects.toThrow(ListenError)
    await expect(second).rejects.toThrow(`cannot listen on 127.0.0.1:${first.port}: EADDRINUSE`)
  })

  it('close() ends idle keep-alive connections and returns without waiting for them', async () => {
    // A grace period far beyond the test timeout: only closing idle connections at once lets close() return.
    const server = await startHttpServer(app(), '127.0.0.1:0', { shutdownGraceMs: 600_000 })
    const agent = new http.Agent({ keepAlive: true })
    try {
      const reply = await request(`${server.url}/livez`, { agent })
      expect(reply.headers.connection).toBe('keep-alive')
      const sockets = Object.values(agent.freeSockets).flat()
      expect(sockets).toHaveLength(1)
      const socketClosed = new Promise<void>((resolve) => sockets[0]?.once('close', () => resolve()))
      await server.close()
      await socketClosed
      await expect(request(`${server.url}/livez`)).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      agent.destroy()
    }
  }, 15_000)

  it('close() lets a running request finish and closes its keep-alive connection after it', async () => {
    const entered = deferred()
    const release = deferred()
    const app = createHttpServer({
      logger: capturedLogger().logger,
      routes: (a) => {
        a.get('/slow', async (_req, res) => {
          entered.resolve()
          await release.promise
          res.json({ done: true })
        })
      },
    })
    const server = await startHttpServer(app, '127.0.0.1:0', { shutdownGraceMs: 600_000 })
    const agent = new http.Agent({ keepAlive: true })
    try {
      const pending = request(`${server.url}/slow`, { agent })
      await entered.promise
      const closed = server.close()
      release.resolve()
      const reply = await pending
      expect(reply.json).toEqual({ done: true })
      expect(reply.headers.connection).toBe('close')
      await closed
    } finally {
      agent.destroy()
    }
  }, 15_000)

  it('close() cuts a request that outlives the grace period', async () => {
    const entered = deferred()
    const app = createHttpServer({
      logger: capturedLogger().logger,
      routes: (a) => {
        a.get('/hang', () => {
          entered.resolve()
        })
      },
    })
    const server = await startHttpServer(app, '127.0.0.1:0', { shutdownGraceMs: 50 })
    const pending = request(`${server.url}/hang`)
    await entered.promise
    await server.close()
    await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/)
  }, 15_000)

  it('close() is idempotent', async () => {
    const server = await startHttpServer(app(), '127.0.0.1:0')
    const first = server.close()
    expect(server.close()).toBe(first)
    await first
    await server.close()
  })
})

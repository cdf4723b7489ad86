import { afterEach, describe, expect, it } from 'vitest'
import {
  AllEndpointsFailedError,
  ClientClosedError,
  createKyveClient,
  DeadlineExceededError,
  EndpointHttpError,
  EndpointNetworkError,
  EndpointTimeoutError,
  EndpointTooOldError,
  InvalidOptionsError,
  InvalidPoolIdError,
  InvalidRequestError,
  InvalidResponseError,
  type KyveClient,
  type KyveClientOptions,
  PACKAGE_VERSION,
  PoolHeightRegressionError,
  PoolMismatchError,
  PoolNotFoundError,
  type RequestEvent,
  UnknownChainError,
} from '../src/index.js'
import {
  type FakeKyve,
  fixture,
  grpcError,
  KEY_NOT_FOUND,
  ok,
  osmosis,
  poolOf,
  type Reply,
  startFakeKyve,
} from './helpers/fake-kyve.js'

const servers: FakeKyve[] = []
const clients: KyveClient[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function serve(reply: Reply | ((poolId: string) => Reply) = 'hang'): Promise<FakeKyve> {
  const server = await startFakeKyve(reply)
  servers.push(server)
  return server
}

/** A client with tiny waits so that retry rounds finish fast; tests override what they exercise. */
function client(endpoints: FakeKyve[], options: Partial<KyveClientOptions> = {}): KyveClient {
  const created = createKyveClient({
    chainId: 'kyve-1',
    endpoints: endpoints.map((server) => server.url),
    requestTimeoutMs: 2_000,
    deadlineMs: 10_000,
    backoff: { initialMs: 1, maxMs: 4 },
    ...options,
  })
  clients.push(created)
  return created
}

/** Options that make a failing call end after exactly one round: the first backoff (30 s) exceeds the deadline. */
const ONE_ROUND: Partial<KyveClientOptions> = {
  deadlineMs: 10_000,
  backoff: { initialMs: 60_000, maxMs: 60_000 },
  random: () => 0.5,
}

/** Resolves with what `promise` rejected with; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(Error)
    return error as Error
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** A server answering the v1.5 Osmosis body at `height` (bundles follow the height, as on chain). */
function atHeight(height: number, extra: Record<string, unknown> = {}): Reply {
  return ok(
    osmosis({
      current_key: String(height),
      current_index: String(height),
      total_bundles: String(Math.floor(height / 100)),
      ...extra,
    }),
  )
}

describe('getPool: successful answers', () => {
  it('reads a chain v1.5 body (compact JSON)', async () => {
    const server = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const pool = await client([server]).getPool(1)
    expect(pool).toMatchObject({
      poolId: 1,
      chainId: 'kyve-1',
      poolHeightKey: '17240700',
      poolHeight: 17_240_700,
      keyIsInteger: true,
      maxBundleSize: 100,
      uploadInterval: 60,
      totalBundles: 172_407,
      status: 'POOL_STATUS_ACTIVE',
      runtime: '@kyvejs/tendermint',
      disabled: false,
      endpoint: server.url,
    })
    expect(pool.latencyMs).toBeGreaterThanOrEqual(0)
    expect(server.requests.map((request) => request.path)).toEqual(['/kyve/query/v1beta1/pool/1'])
  })

  it('reads a chain v1.4 body (2-space indented JSON)', async () => {
    const server = await serve(ok(fixture('pool-osmosis-kyve-1-v1.4'), 2))
    const pool = await client([server]).getPool(1)
    expect(pool).toMatchObject({ poolHeight: 12_484_700, totalBundles: 124_847, maxBundleSize: 100 })
  })

  it('sends the ghostfleet User-Agent and stamps fetchedAt with the injected clock', async () => {
    const server = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const pool = await client([server], { now: () => 1_700_000_000_000 }).getPool(1)
    expect(server.requests[0]?.headers['user-agent']).toBe(`ghostfleet/${PACKAGE_VERSION}`)
    expect(pool.fetchedAt).toBe(1_700_000_000_000)
  })

  it('falls back to start_key when current_key is empty', async () => {
    const server = await serve(ok(osmosis({ start_key: '1', current_key: '', total_bundles: '0' })))
    expect(await client([server]).getPool(1)).toMatchObject({
      poolHeightKey: '1',
      poolHeight: 1,
      currentKey: '',
    })
  })

  it('gives poolHeight null for a state-sync key "123/4"', async () => {
    const server = await serve(
      ok(osmosis({ runtime: '@kyvejs/tendermint-ssync', start_key: '0/0', current_key: '123/4' })),
    )
    expect(await client([server]).getPool(1)).toMatchObject({
      poolHeightKey: '123/4',
      poolHeight: null,
      keyIsInteger: false,
    })
  })

  it('tolerates unknown fields a newer chain may add', async () => {
    const body = osmosis()
    poolOf(body)['shiny_new_field'] = { nested: ['x'] }
    ;(poolOf(body)['data'] as Record<string, unknown>)['another_one'] = '42'
    const server = await serve(ok(body))
    expect((await client([server]).getPool(1)).poolHeight).toBe(17_240_700)
  })
})

describe('getPool: answers that are rejected', () => {
  it('rejects garbage and fails over to the next endpoint', async () => {
    const garbage = await serve({
      status: 200,
      body: '<html>502 Bad Gateway</html>',
      contentType: 'text/html',
    })
    const good = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const events: RequestEvent[] = []
    const pool = await client([garbage, good], { onRequest: (event) => events.push(event) }).getPool(1)
    expect(pool.endpoint).toBe(good.url)
    expect(events.map((event) => event.outcome)).toEqual(['invalid', 'ok'])
  })

  it('reports non-JSON bodies as InvalidResponseError', async () => {
    const garbage = await serve({
      status: 200,
      body: '{"pool": {"id": "1", ',
      contentType: 'application/json',
    })
    const error = await rejection(client([garbage], ONE_ROUND).getPool(1))
    const failure = (error as AllEndpointsFailedError).failures[0]?.error
    expect(failure).toBeInstanceOf(InvalidResponseError)
    expect(failure?.message).toMatch(/not JSON/)
  })

  it('refuses bodies far larger than any pool response', async () => {
    const huge = await serve({ status: 200, body: `{"pool":"${'x'.repeat(5 * 1024 * 1024)}"}` })
    const error = (await rejection(client([huge], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(InvalidResponseError)
    expect(error.failures[0]?.error.message).toMatch(/larger than/)
  })

  it('rejects a JSON number where the chain sends a string, naming the field', async () => {
    const server = await serve(ok(osmosis({ current_key: 17_240_700 })))
    const error = await rejection(client([server], ONE_ROUND).getPool(1))
    expect(error).toBeInstanceOf(AllEndpointsFailedError)
    const failure = (error as AllEndpointsFailedError).failures[0]?.error as InvalidResponseError
    expect(failure).toBeInstanceOf(InvalidResponseError)
    expect(failure.issues.join('\n')).toMatch(/^pool\.data\.current_key: /m)
    expect(failure.message).toContain('pool.data.current_key')
  })

  it('rejects an answer about another pool and uses the next endpoint', async () => {
    const wrong = await serve(ok(osmosis({ id: '2' })))
    const right = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const kyve = client([wrong, right])
    const pool = await kyve.getPool(1)
    expect(pool.endpoint).toBe(right.url)
    const wrongHealth = kyve.health().find((entry) => entry.url === wrong.url)
    expect(wrongHealth?.consecutiveFailures).toBe(1)
    expect(wrongHealth?.lastError).toMatch(/pool 2 when pool 1 was asked for/)
  })

  it('surfaces PoolMismatchError when no endpoint has the right pool', async () => {
    const wrong = await serve(ok(osmosis({ id: '7' })))
    const error = (await rejection(client([wrong], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(PoolMismatchError)
  })

  it('rejects a pool height that goes backwards and accepts a later endpoint that agrees', async () => {
    const stale = await serve(atHeight(17_240_700))
    const fresh = await serve(atHeight(17_240_600))
    const events: RequestEvent[] = []
    const kyve = client([stale, fresh], { onRequest: (event) => events.push(event) })
    expect((await kyve.getPool(1)).poolHeight).toBe(17_240_700)
    stale.answer(atHeight(17_240_500))
    fresh.answer(atHeight(17_240_700))
    const pool = await kyve.getPool(1)
    expect(pool).toMatchObject({ endpoint: fresh.url, poolHeight: 17_240_700 })
    expect(
      events.map((event) => `${event.endpoint === stale.url ? 'stale' : 'fresh'}:${event.outcome}`),
    ).toEqual(['stale:ok', 'stale:regressed', 'fresh:ok'])
    const message = kyve.health().find((entry) => entry.url === stale.url)?.lastError ?? ''
    expect(message).toContain(stale.url)
    expect(message).toContain('17240500')
    expect(message).toContain('17240700')
  })

  it('rejects a lower height even when the bundle count did not go back', async () => {
    const broken = await serve(atHeight(17_240_700))
    const good = await serve(atHeight(17_240_700))
    const kyve = client([broken, good])
    await kyve.getPool(1)
    broken.answer(ok(osmosis({ current_key: '17240000', total_bundles: '172407' })))
    const pool = await kyve.getPool(1)
    expect(pool.endpoint).toBe(good.url)
    expect(kyve.health().find((entry) => entry.url === broken.url)?.lastError).toMatch(
      /behind the previous height/,
    )
  })

  it('fails with PoolHeightRegressionError when the only endpoint keeps going backwards', async () => {
    const server = await serve(atHeight(500))
    const kyve = client([server], { deadlineMs: 300 })
    await kyve.getPool(1)
    server.answer(atHeight(400))
    const error = (await rejection(kyve.getPool(1))) as AllEndpointsFailedError
    const regression = error.failures[0]?.error as PoolHeightRegressionError
    expect(regression).toBeInstanceOf(PoolHeightRegressionError)
    expect(regression.previous.poolHeight).toBe(500)
    expect(regression.received.poolHeight).toBe(400)
    expect(server.requests.length).toBeGreaterThan(2)
  })

  it('guards non-integer keys by the bundle count', async () => {
    const ssync = (key: string, bundles: string) =>
      ok(osmosis({ runtime: '@kyvejs/tendermint-ssync', current_key: key, total_bundles: bundles }))
    const server = await serve(ssync('1000/3', '90'))
    const kyve = client([server], { deadlineMs: 300 })
    await kyve.getPool(1)
    server.answer(ssync('900/0', '80'))
    const error = (await rejection(kyve.getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(PoolHeightRegressionError)
    expect(error.failures[0]?.error.message).toContain('"900/0"')
  })

  it('keeps the regression floor per pool', async () => {
    const server = await serve((poolId) => (poolId === '1' ? atHeight(5000) : atHeight(10, { id: poolId })))
    const kyve = client([server])
    expect((await kyve.getPool(1)).poolHeight).toBe(5000)
    expect((await kyve.getPool(3)).poolHeight).toBe(10)
  })
})

describe('getPool: the real error bodies', () => {
  it('treats HTTP 500 "key not found" as final: one round, each endpoint asked once', async () => {
    const first = await serve(KEY_NOT_FOUND)
    const second = await serve(KEY_NOT_FOUND)
    const error = await rejection(client([first, second]).getPool(9999))
    expect(error).toBeInstanceOf(PoolNotFoundError)
    expect(error.message).toMatch(/pool 9999 does not exist on kyve-1/)
    expect(first.requests).toHaveLength(1)
    expect(second.requests).toHaveLength(1)
  })

  it('matches "key not found" in the ABCI fallback wording too', async () => {
    const server = await serve(grpcError(500, 2, 'key not found: unknown request'))
    expect(await rejection(client([server]).getPool(5))).toBeInstanceOf(PoolNotFoundError)
  })

  it('lets a later endpoint that knows the pool win over one that does not, and demotes the wrong one', async () => {
    const lagging = await serve(KEY_NOT_FOUND)
    const synced = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const kyve = client([lagging, synced])
    expect((await kyve.getPool(1)).endpoint).toBe(synced.url)
    expect(kyve.health().map((entry) => entry.url)).toEqual([synced.url, lagging.url])
    expect(kyve.health()[1]).toMatchObject({ consecutiveFailures: 1 })
    expect(kyve.health()[1]?.lastError).toMatch(/does not exist while .* served it/)
  })

  it('does not believe "not found" for a pool it has already read: retries other endpoints', async () => {
    const a = await serve(atHeight(300))
    const b = await serve(atHeight(300))
    const kyve = client([a, b], ONE_ROUND)
    await kyve.getPool(1)
    a.answer(KEY_NOT_FOUND)
    b.answer(atHeight(301))
    expect((await kyve.getPool(1)).endpoint).toBe(b.url)
    a.answer(KEY_NOT_FOUND)
    b.answer(KEY_NOT_FOUND)
    // A client that never read the pool takes "not found" as the answer…
    expect(await rejection(client([a, b], ONE_ROUND).getPool(1))).toBeInstanceOf(PoolNotFoundError)
    // …this one has read it before, so both endpoints are wrong, not the pool.
    const known = (await rejection(kyve.getPool(1))) as AllEndpointsFailedError
    expect(known).toBeInstanceOf(AllEndpointsFailedError)
    expect(known.failures.map((failure) => failure.error.constructor)).toEqual([
      PoolNotFoundError,
      PoolNotFoundError,
    ])
    expect(known.failures[0]?.error.message).toMatch(/served it before/)
    expect(kyve.health().every((entry) => entry.consecutiveFailures > 0)).toBe(true)
  })

  it('maps HTTP 501 / gRPC 12 to EndpointTooOldError and fails over', async () => {
    const old = await serve(grpcError(501, 12, 'Not Implemented'))
    const good = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const events: RequestEvent[] = []
    await client([old, good], { onRequest: (event) => events.push(event) }).getPool(1)
    expect(events.map((event) => event.outcome)).toEqual(['too-old', 'ok'])
    const error = (await rejection(client([old], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(EndpointTooOldError)
  })

  it('maps HTTP 400 / gRPC 3 to InvalidRequestError', async () => {
    const server = await serve(grpcError(400, 3, 'type mismatch, parameter: id'))
    const error = (await rejection(client([server], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(InvalidRequestError)
  })

  it('maps other HTTP errors to EndpointHttpError with a hint', async () => {
    const server = await serve({ status: 404, body: 'Not Found', contentType: 'text/plain' })
    const error = (await rejection(client([server], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(EndpointHttpError)
    expect(error.message).toMatch(/HTTP 404.*REST\/LCD/)
  })

  it('reports a refused connection as EndpointNetworkError', async () => {
    const server = await serve()
    await server.close()
    servers.splice(servers.indexOf(server), 1)
    const error = (await rejection(client([server], ONE_ROUND).getPool(1))) as AllEndpointsFailedError
    expect(error.failures[0]?.error).toBeInstanceOf(EndpointNetworkError)
    expect(error.failures[0]?.error.message).toMatch(/ECONNREFUSED/)
  })
})

describe('getPool: timeouts and the deadline', () => {
  it('times out a server that never answers and returns within the deadline', async () => {
    const silent = await serve('hang')
    const started = Date.now()
    const error = await rejection(client([silent], { requestTimeoutMs: 100, deadlineMs: 600 }).getPool(1))
    // A correctness bound (a request that is never answered must not hold the call), not a performance target.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect((error as DeadlineExceededError).failures[0]?.error).toBeInstanceOf(EndpointTimeoutError)
    expect(silent.requests.length).toBeGreaterThanOrEqual(1)
  })

  it('falls over from a silent endpoint to a healthy one after the request timeout', async () => {
    const silent = await serve('hang')
    const good = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const events: RequestEvent[] = []
    const pool = await client([silent, good], {
      requestTimeoutMs: 100,
      onRequest: (e) => events.push(e),
    }).getPool(1)
    expect(pool.endpoint).toBe(good.url)
    expect(events.map((event) => event.outcome)).toEqual(['timeout', 'ok'])
  })

  it('bounds the whole call by the deadline even when every request timeout is long', async () => {
    const silent = await serve('hang')
    const started = Date.now()
    const error = await rejection(client([silent], { requestTimeoutMs: 60_000, deadlineMs: 200 }).getPool(1))
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(error).toBeInstanceOf(DeadlineExceededError)
    const timeout = (error as DeadlineExceededError).failures[0]?.error as EndpointTimeoutError
    expect(timeout.limit).toBe('deadline')
  })

  it('ends the call by the deadline even when the injected clock stands still', async () => {
    const silent = await serve('hang')
    const frozen = () => 1_700_000_000_000
    const error = await rejection(
      client([silent], { now: frozen, requestTimeoutMs: 60_000, deadlineMs: 200 }).getPool(1),
    )
    expect(error).toBeInstanceOf(DeadlineExceededError)
  })

  it('bounds a request whose body trickles in forever (axios only times out an idle socket)', async () => {
    const trickling = await serve({ trickle: { everyMs: 20 } })
    const good = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const events: RequestEvent[] = []
    const kyve = client([trickling, good], {
      requestTimeoutMs: 150,
      onRequest: (event) => events.push(event),
    })
    expect((await kyve.getPool(1)).endpoint).toBe(good.url)
    expect(events.map((event) => event.outcome)).toEqual(['timeout', 'ok'])
  })

  it("keeps an endpoint's real error when its last request is cut by the deadline", async () => {
    let asked = 0
    const server = await serve(() => {
      asked += 1
      return asked === 1 ? { status: 503, body: 'unavailable', contentType: 'text/plain' } : 'hang'
    })
    const kyve = client([server], { requestTimeoutMs: 60_000, deadlineMs: 300 })
    const error = (await rejection(kyve.getPool(1))) as DeadlineExceededError
    expect(error).toBeInstanceOf(DeadlineExceededError)
    expect(asked).toBe(2)
    expect(error.failures[0]?.error).toBeInstanceOf(EndpointHttpError)
    expect(kyve.health()[0]?.consecutiveFailures).toBe(1)
  })

  it('respects the deadline with many slow endpoints: later ones are never asked', async () => {
    const slow = await Promise.all([1, 2, 3, 4, 5, 6].map(() => serve('hang')))
    const error = await rejection(client(slow, { requestTimeoutMs: 150, deadlineMs: 400 }).getPool(1))
    expect(error).toBeInstanceOf(DeadlineExceededError)
    const failures = (error as DeadlineExceededError).failures
    // Timers never fire early: at most ceil(400 / 150) = 3 requests fit before the deadline.
    expect(failures.length).toBeGreaterThanOrEqual(1)
    expect(failures.length).toBeLessThanOrEqual(3)
    expect(slow.slice(3).every((server) => server.requests.length === 0)).toBe(true)
  })

  it('gives up early with AllEndpointsFailedError when the next backoff would pass the deadline', async () => {
    const down = await serve({ status: 503, body: 'upstream unavailable', contentType: 'text/plain' })
    const started = Date.now()
    const error = await rejection(
      client([down], {
        deadlineMs: 8_000,
        backoff: { initialMs: 20_000, maxMs: 20_000 },
        random: () => 0.5,
      }).getPool(1),
    )
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(error).toBeInstanceOf(AllEndpointsFailedError)
    expect((error as AllEndpointsFailedError).rounds).toBe(1)
    expect(down.requests).toHaveLength(1)
  })

  it('retries rounds with jittered waits drawn from the injected random source', async () => {
    const down = await serve({ status: 503, body: 'upstream unavailable', contentType: 'text/plain' })
    let draws = 0
    const error = await rejection(
      client([down], {
        deadlineMs: 400,
        backoff: { initialMs: 5, maxMs: 20 },
        random: () => {
          draws += 1
          return 0.5
        },
      }).getPool(1),
    )
    // Which of the two ends the call depends on whether the deadline falls in a wait or in a request.
    expect(error instanceof AllEndpointsFailedError || error instanceof DeadlineExceededError).toBe(true)
    expect((error as AllEndpointsFailedError).failures[0]?.error).toBeInstanceOf(EndpointHttpError)
    expect(down.requests.length).toBeGreaterThanOrEqual(2)
    expect(draws).toBeGreaterThanOrEqual(down.requests.length - 1)
  })
})

describe('endpoint order and health', () => {
  it('demotes a failing first endpoint so the healthy one is asked first next time', async () => {
    const flaky = await serve({ status: 503, body: 'unavailable', contentType: 'text/plain' })
    const healthy = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const kyve = client([flaky, healthy])
    await kyve.getPool(1)
    expect([flaky.requests.length, healthy.requests.length]).toEqual([1, 1])
    await kyve.getPool(1)
    await kyve.getPool(1)
    expect([flaky.requests.length, healthy.requests.length]).toEqual([1, 3])

    // Roles swap: the formerly healthy endpoint fails, the other recovers.
    healthy.answer({ status: 503, body: 'unavailable', contentType: 'text/plain' })
    flaky.answer(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    expect((await kyve.getPool(1)).endpoint).toBe(flaky.url)
    expect([flaky.requests.length, healthy.requests.length]).toEqual([2, 4])
    await kyve.getPool(1)
    expect([flaky.requests.length, healthy.requests.length]).toEqual([3, 4])
  })

  it('reports health: failures, timestamps, last error, latency', async () => {
    const down = await serve({ status: 503, body: 'unavailable', contentType: 'text/plain' })
    const up = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    let clock = 1_000
    const kyve = client([down, up], { now: () => clock })
    clock = 2_000
    const pool = await kyve.getPool(1)
    const [first, second] = kyve.health()
    expect(first).toMatchObject({
      url: up.url,
      consecutiveFailures: 0,
      lastSuccessAt: 2_000,
      lastError: null,
    })
    // Latency is measured on the monotonic clock, not the injected wall clock that stood still.
    expect(first?.latencyMs).toBeGreaterThan(0)
    expect(first?.latencyMs).toBe(pool.latencyMs)
    expect(second).toMatchObject({
      url: down.url,
      consecutiveFailures: 1,
      lastFailureAt: 2_000,
      lastSuccessAt: null,
    })
    expect(second?.lastError).toMatch(/HTTP 503/)
  })
})

describe('client lifecycle and options', () => {
  it('close() aborts a call in flight with ClientClosedError', async () => {
    const silent = await serve('hang')
    const kyve = client([silent], { requestTimeoutMs: 60_000, deadlineMs: 60_000 })
    const call = kyve.getPool(1)
    await silent.nextRequest()
    kyve.close()
    expect(await rejection(call)).toBeInstanceOf(ClientClosedError)
    expect(await rejection(kyve.getPool(1))).toBeInstanceOf(ClientClosedError)
  })

  it('ignores an onRequest callback that throws', async () => {
    const server = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const kyve = client([server], {
      onRequest: () => {
        throw new Error('metrics broke')
      },
    })
    expect((await kyve.getPool(1)).poolHeight).toBe(17_240_700)
  })

  it('rejects invalid pool ids without a request', async () => {
    const server = await serve(ok(fixture('pool-osmosis-kyve-1-v1.5')))
    const kyve = client([server])
    for (const id of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(await rejection(kyve.getPool(id))).toBeInstanceOf(InvalidPoolIdError)
    }
    expect(server.requests).toHaveLength(0)
  })

  it('rejects unusable options with the field named', () => {
    expect(() => createKyveClient({ chainId: 'kyve-1', requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/)
    expect(() => createKyveClient({ chainId: 'kyve-1', deadlineMs: 1.5 })).toThrow(InvalidOptionsError)
    expect(() => createKyveClient({ chainId: 'kyve-1', backoff: { maxMs: 100 } })).toThrow(/maxMs/)
    expect(() => createKyveClient({ chainId: '' })).toThrow(/chainId/)
    expect(() => createKyveClient({ chainId: 'unknown-9' })).toThrow(UnknownChainError)
  })

  it('uses the chain presets when no endpoints are given', () => {
    const kyve = createKyveClient({ chainId: 'kaon-1' })
    clients.push(kyve)
    expect(kyve.endpoints).toEqual(['https://api.kaon.kyve.network'])
    expect(kyve.health().map((entry) => entry.url)).toEqual(['https://api.kaon.kyve.network'])
  })
})

describe('endpoints with credentials', () => {
  it.each([
    'http://kyve-user:p@ss/w%3Ard@127.0.0.1:1317',
    'https://kyve-user:p@ss/w%3Ard@api.example.com',
    'ftp://kyve-user:p@ss/w%3Ard@api.example.com',
    'https://kyve-user:p@ss/w%3Ard@api.example.com/?x=1',
  ])('refuses %s without repeating the password', (endpoint) => {
    let message = ''
    try {
      createKyveClient({ chainId: 'kyve-1', endpoints: [endpoint] })
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionsError)
      message = (error as Error).message
    }
    expect(message).toContain('kyve-user:***@')
    expect(message).not.toMatch(/p@ss|w%3Ard/)
  })
})

describe('timeouts stay within Node’s timer range', () => {
  it.each([
    [{ requestTimeoutMs: 3_000_000_000 }, 'requestTimeoutMs'],
    [{ deadlineMs: 2 ** 31 }, 'deadlineMs'],
    [{ backoff: { initialMs: 1, maxMs: 2 ** 31 } }, 'backoff.maxMs'],
  ])('refuses %j, naming the option', (options, name) => {
    expect(() => createKyveClient({ chainId: 'kyve-1', ...options })).toThrow(InvalidOptionsError)
    expect(() => createKyveClient({ chainId: 'kyve-1', ...options })).toThrow(name)
  })
})

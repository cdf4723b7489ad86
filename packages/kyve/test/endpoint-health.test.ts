import { describe, expect, it } from 'vitest'
import { EndpointHealthBook } from '../src/endpoint-health.js'
import { type EndpointHealth, LATENCY_EWMA_WEIGHT, rankEndpoints } from '../src/index.js'

function health(url: string, patch: Partial<EndpointHealth> = {}): EndpointHealth {
  return {
    url,
    consecutiveFailures: 0,
    lastSuccessAt: null,
    lastFailureAt: null,
    lastError: null,
    latencyMs: null,
    ...patch,
  }
}

const urls = (list: EndpointHealth[]) => rankEndpoints(list).map((entry) => entry.url)

describe('rankEndpoints', () => {
  it('keeps the configured order when nothing is known', () => {
    expect(urls([health('a'), health('b'), health('c')])).toEqual(['a', 'b', 'c'])
  })

  it('puts fewer consecutive failures first, before anything else', () => {
    const list = [
      health('a', { consecutiveFailures: 2, lastSuccessAt: 100, latencyMs: 1 }),
      health('b', { consecutiveFailures: 1 }),
      health('c', { consecutiveFailures: 0, latencyMs: 900 }),
    ]
    expect(urls(list)).toEqual(['c', 'b', 'a'])
  })

  it('then the most recent success (never succeeded last)', () => {
    const list = [health('a'), health('b', { lastSuccessAt: 100 }), health('c', { lastSuccessAt: 200 })]
    expect(urls(list)).toEqual(['c', 'b', 'a'])
  })

  it('then the lower latency (unknown last), then the configured order', () => {
    const list = [
      health('a', { lastSuccessAt: 5 }),
      health('b', { lastSuccessAt: 5, latencyMs: 80 }),
      health('c', { lastSuccessAt: 5, latencyMs: 20 }),
      health('d', { lastSuccessAt: 5, latencyMs: 20 }),
    ]
    expect(urls(list)).toEqual(['c', 'd', 'b', 'a'])
  })

  it('does not modify its input', () => {
    const list = [health('a', { consecutiveFailures: 1 }), health('b')]
    rankEndpoints(list)
    expect(list.map((entry) => entry.url)).toEqual(['a', 'b'])
  })
})

describe('EndpointHealthBook', () => {
  it('averages latency over successes (EWMA) and resets failures on success', () => {
    const book = new EndpointHealthBook(['a', 'b'])
    book.recordSuccess('a', 1_000, 100)
    book.recordSuccess('a', 2_000, 200)
    const a = book.snapshot().find((entry) => entry.url === 'a')
    expect(a?.latencyMs).toBeCloseTo(LATENCY_EWMA_WEIGHT * 200 + (1 - LATENCY_EWMA_WEIGHT) * 100)
    expect(a?.lastSuccessAt).toBe(2_000)

    book.recordFailure('a', 3_000, 'HTTP 503')
    book.recordFailure('a', 4_000, 'HTTP 502')
    expect(book.order()).toEqual(['b', 'a'])
    expect(book.snapshot()[1]).toMatchObject({
      consecutiveFailures: 2,
      lastFailureAt: 4_000,
      lastError: 'HTTP 502',
    })

    book.recordFailure('b', 5_000, 'refused')
    book.recordFailure('b', 5_001, 'refused')
    book.recordFailure('b', 5_002, 'refused')
    book.recordSuccess('a', 6_000, 50)
    expect(book.order()).toEqual(['a', 'b'])
    expect(book.snapshot()[0]).toMatchObject({ url: 'a', consecutiveFailures: 0, lastError: 'HTTP 502' })
  })

  it('hands out copies', () => {
    const book = new EndpointHealthBook(['a'])
    const [copy] = book.snapshot()
    if (copy) copy.consecutiveFailures = 99
    expect(book.snapshot()[0]?.consecutiveFailures).toBe(0)
  })
})

import { KyveError } from './errors.js'

/** What the client knows about one endpoint. Timestamps are epoch ms from the client's clock. */
export interface EndpointHealth {
  url: string
  /** Failures since the last success (0 for an endpoint never asked). */
  consecutiveFailures: number
  lastSuccessAt: number | null
  lastFailureAt: number | null
  /** Message of the last failure; kept after a success so operators can see what happened last. */
  lastError: string | null
  /** Exponentially weighted moving average of successful request durations; null before the first success. */
  latencyMs: number | null
}

/**
 * Weight of the newest sample in the latency average. 0.3 follows a change within a few requests without
 * letting one slow answer reorder the endpoints.
 */
export const LATENCY_EWMA_WEIGHT = 0.3

/**
 * Order in which to ask endpoints: fewest consecutive failures first, then the most recent success (never
 * succeeded sorts last), then the lowest latency (unknown sorts last); the configured order breaks ties.
 * Pure: returns a new array, `endpoints` must be in configured order.
 */
export function rankEndpoints(endpoints: readonly EndpointHealth[]): EndpointHealth[] {
  return endpoints
    .map((health, index) => ({ health, index }))
    .sort((a, b) => {
      const x = a.health
      const y = b.health
      if (x.consecutiveFailures !== y.consecutiveFailures)
        return x.consecutiveFailures - y.consecutiveFailures
      const xSuccess = x.lastSuccessAt ?? Number.NEGATIVE_INFINITY
      const ySuccess = y.lastSuccessAt ?? Number.NEGATIVE_INFINITY
      if (xSuccess !== ySuccess) return ySuccess > xSuccess ? 1 : -1
      const xLatency = x.latencyMs ?? Number.POSITIVE_INFINITY
      const yLatency = y.latencyMs ?? Number.POSITIVE_INFINITY
      if (xLatency !== yLatency) return xLatency < yLatency ? -1 : 1
      return a.index - b.index
    })
    .map((entry) => entry.health)
}

/** Mutable health book of a fixed set of endpoints. */
export class EndpointHealthBook {
  readonly #entries: EndpointHealth[]

  constructor(urls: readonly string[]) {
    this.#entries = urls.map((url) => ({
      url,
      consecutiveFailures: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      latencyMs: null,
    }))
  }

  recordSuccess(url: string, at: number, durationMs: number): void {
    const entry = this.#get(url)
    entry.consecutiveFailures = 0
    entry.lastSuccessAt = at
    entry.latencyMs =
      entry.latencyMs === null
        ? durationMs
        : LATENCY_EWMA_WEIGHT * durationMs + (1 - LATENCY_EWMA_WEIGHT) * entry.latencyMs
  }

  recordFailure(url: string, at: number, error: string): void {
    const entry = this.#get(url)
    entry.consecutiveFailures += 1
    entry.lastFailureAt = at
    entry.lastError = error
  }

  /** URLs in the order to ask them now (see {@link rankEndpoints}). */
  order(): string[] {
    return rankEndpoints(this.#entries).map((entry) => entry.url)
  }

  /** Copies of every entry, in the order to ask them now. */
  snapshot(): EndpointHealth[] {
    return rankEndpoints(this.#entries).map((entry) => ({ ...entry }))
  }

  #get(url: string): EndpointHealth {
    const entry = this.#entries.find((candidate) => candidate.url === url)
    if (entry === undefined)
      throw new KyveError(`endpoint-health: unknown endpoint ${url} (a bug in the client)`)
    return entry
  }
}

import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import { pause } from '@ghostfleet/core'
import axios, { type AxiosInstance } from 'axios'
import { z } from 'zod'
import { type BackoffOptions, backoffDelay, checkBackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
import { type EndpointHealth, EndpointHealthBook } from './endpoint-health.js'
import {
  type AcceptedPoolHeight,
  AllEndpointsFailedError,
  ClientClosedError,
  DeadlineExceededError,
  EndpointError,
  type EndpointFailure,
  EndpointNetworkError,
  EndpointTimeoutError,
  InvalidOptionsError,
  InvalidPoolIdError,
  InvalidResponseError,
  PoolHeightRegressionError,
  PoolNotFoundError,
} from './errors.js'
import { interpretPoolAnswer, poolRoute, summarizeIssues } from './pool-answer.js'
import { type PoolProgress, toPoolProgress } from './pool-progress.js'
import { resolveEndpoints } from './presets.js'
import type { RequestEvent } from './request-event.js'
import { DEFAULT_USER_AGENT } from './version.js'

/** Options of {@link createKyveClient}. */
export interface KyveClientOptions {
  /** KYVE chain id: `kyve-1`, `kaon-1`, `korellia-2`, or any other id when `endpoints` is given. */
  chainId: string
  /** REST (LCD) base URLs; replace the chain's presets when non-empty. */
  endpoints?: readonly string[]
  /** Upper bound of one request, connection to last byte, in ms. @default 5000 */
  requestTimeoutMs?: number
  /** Upper bound of one `getPool` call including retries, in ms. @default 30000 */
  deadlineMs?: number
  /** Wait between rounds over the endpoints; `initialMs` >= 1 so a dead fleet of endpoints is never hot-looped. */
  backoff?: Partial<BackoffOptions>
  /** Uniform random numbers in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number
  /**
   * Wall clock for the timestamps in answers and health (`fetchedAt`, `lastSuccessAt`…), epoch ms.
   * Durations and the deadline use the monotonic `performance.now()`, so a stepped wall clock cannot stretch
   * or cut a call. @default Date.now
   */
  now?: () => number
  /** @default `ghostfleet/<version>` */
  userAgent?: string
  /** Called once per request with its outcome, for metrics. Exceptions it throws are ignored. */
  onRequest?: (event: RequestEvent) => void
}

/** A KYVE REST client for one chain. */
export interface KyveClient {
  readonly chainId: string
  /** The endpoints in configured order, normalised. */
  readonly endpoints: readonly string[]
  /**
   * Reads a pool's validated progress and settings, asking endpoints in order of health and retrying rounds
   * with capped jittered backoff until `deadlineMs`.
   *
   * @throws InvalidPoolIdError before any request for an id that is not a non-negative safe integer.
   * @throws PoolNotFoundError when an endpoint says the pool does not exist and no endpoint asked in the same
   *   round knows it (and this client never accepted an answer for the pool): final, not retried.
   * @throws AllEndpointsFailedError when every endpoint failed and another round would not fit the deadline.
   * @throws DeadlineExceededError when the deadline passed with a request in flight.
   * @throws ClientClosedError after `close()`.
   */
  getPool(poolId: number): Promise<PoolProgress>
  /** Every endpoint's health, in the order the next call would ask them. */
  health(): EndpointHealth[]
  /** Aborts calls in flight (they reject with ClientClosedError) and releases kept-alive connections. */
  close(): void
}

/** Pool responses are a few kB; anything far larger is not a pool response and must not fill memory. */
const MAX_BODY_BYTES = 4 * 1024 * 1024

const optionsSchema = z.object({
  chainId: z.string().trim().min(1, 'required (e.g. "kyve-1")'),
  endpoints: z.array(z.string()).readonly().optional(),
  // Bounded far inside Node's 32-bit timer range (a larger delay would fire after 1 ms).
  requestTimeoutMs: z.int().min(1).max(600_000, 'at most 600000 ms (10 min)').default(5_000),
  deadlineMs: z.int().min(1).max(3_600_000, 'at most 3600000 ms (1 h)').default(30_000),
  backoff: z
    .object({
      initialMs: z.number().default(DEFAULT_BACKOFF.initialMs),
      maxMs: z.number().default(DEFAULT_BACKOFF.maxMs),
    })
    .prefault({}),
  random: z
    .custom<() => number>((value) => typeof value === 'function', 'expected a function')
    .default(() => Math.random),
  now: z
    .custom<() => number>((value) => typeof value === 'function', 'expected a function')
    .default(() => Date.now),
  userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
  onRequest: z
    .custom<(event: RequestEvent) => void>((value) => typeof value === 'function', 'expected a function')
    .optional(),
})

type Outcome =
  | { kind: 'ok'; progress: PoolProgress }
  | { kind: 'failed'; error: EndpointError }
  | { kind: 'closed' }

/** Milliseconds since `start`, a `performance.now()` reading. */
function elapsedSince(start: number): number {
  return Math.max(0, performance.now() - start)
}

/**
 * Creates a client for one KYVE chain.
 *
 * Not-found policy: a "key not found" answer is final for a call once a full round has been asked — every other
 * endpoint gets exactly one chance in that round (one lagging or wrong endpoint must not hide a pool that
 * exists), but no backoff rounds follow, so a wrong pool id costs one round, not the whole deadline. If this
 * client has accepted an answer for the pool before, "not found" contradicts it: the endpoint is treated as
 * failed (another chain, or not synced) and retries go on.
 *
 * @throws InvalidOptionsError for unusable options, UnknownChainError for an unknown chain without endpoints.
 */
export function createKyveClient(options: KyveClientOptions): KyveClient {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) {
    throw new InvalidOptionsError(`invalid KYVE client options: ${summarizeIssues(parsed.error).join('; ')}`)
  }
  const config = parsed.data
  const backoff: BackoffOptions = config.backoff
  checkBackoffOptions(backoff)
  const chainId = config.chainId
  const endpoints = resolveEndpoints(chainId, config.endpoints)
  const now = config.now
  const book = new EndpointHealthBook(endpoints)
  /** Last accepted answer per pool: the floor that later answers must not fall below. */
  const accepted = new Map<number, AcceptedPoolHeight>()
  const closing = new AbortController()
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  }
  const httpClient: AxiosInstance = axios.create({
    adapter: 'http',
    httpAgent: agents.http,
    httpsAgent: agents.https,
    headers: { 'User-Agent': config.userAgent, Accept: 'application/json' },
    responseType: 'text',
    // The raw text is parsed here so that "not JSON" and "wrong shape" are told apart.
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxContentLength: MAX_BODY_BYTES,
    maxRedirects: 3,
  })

  const emit = (event: RequestEvent) => {
    try {
      config.onRequest?.(event)
    } catch {
      // A metrics callback must not change what the client does.
    }
  }

  const fail = (endpoint: string, started: number, error: EndpointError): Outcome => {
    book.recordFailure(endpoint, now(), error.message)
    emit({ endpoint, outcome: error.outcome, durationMs: elapsedSince(started) })
    return { kind: 'failed', error }
  }

  /** Checks a valid answer against the last accepted one and accepts it. Synchronous, so calls cannot interleave. */
  const accept = (poolId: number, progress: PoolProgress): EndpointError | undefined => {
    const previous = accepted.get(poolId)
    if (previous !== undefined) {
      const heightWentBack =
        previous.poolHeight !== null &&
        progress.poolHeight !== null &&
        progress.poolHeight < previous.poolHeight
      // total_bundles only ever grows on chain; it also guards pools whose keys are not integers.
      if (heightWentBack || progress.totalBundles < previous.totalBundles) {
        return new PoolHeightRegressionError(progress.endpoint, poolId, previous, {
          poolHeightKey: progress.poolHeightKey,
          poolHeight: progress.poolHeight,
          totalBundles: progress.totalBundles,
        })
      }
    }
    accepted.set(poolId, {
      endpoint: progress.endpoint,
      poolHeightKey: progress.poolHeightKey,
      poolHeight: progress.poolHeight,
      totalBundles: progress.totalBundles,
    })
    return undefined
  }

  const ask = async (endpoint: string, poolId: number, deadline: AbortSignal): Promise<Outcome> => {
    const started = performance.now()
    const timeoutMs = config.requestTimeoutMs
    // axios' own `timeout` is a socket inactivity timer; this one bounds the whole request.
    const requestTimer = new AbortController()
    const timer = setTimeout(() => requestTimer.abort(), timeoutMs)
    let status: number
    let body: string
    try {
      const response = await httpClient.get<unknown>(`${endpoint}${poolRoute(poolId)}`, {
        timeout: timeoutMs,
        signal: AbortSignal.any([requestTimer.signal, deadline, closing.signal]),
      })
      status = response.status
      body = typeof response.data === 'string' ? response.data : String(response.data)
    } catch (error) {
      if (closing.signal.aborted) return { kind: 'closed' }
      if (deadline.aborted) {
        // Health is left to the caller, who knows whether the endpoint already failed earlier in the call.
        const cut = new EndpointTimeoutError(endpoint, config.deadlineMs, 'deadline')
        emit({ endpoint, outcome: cut.outcome, durationMs: elapsedSince(started) })
        return { kind: 'failed', error: cut }
      }
      if (requestTimer.signal.aborted) {
        return fail(endpoint, started, new EndpointTimeoutError(endpoint, timeoutMs, 'request'))
      }
      return fail(endpoint, started, transportError(endpoint, timeoutMs, error))
    } finally {
      clearTimeout(timer)
    }
    const fetchedAt = now()
    const latencyMs = elapsedSince(started)
    let progress: PoolProgress
    try {
      const response = interpretPoolAnswer({ status, body }, { endpoint, chainId, poolId })
      progress = toPoolProgress(response, { chainId, endpoint, fetchedAt, latencyMs })
    } catch (error) {
      if (!(error instanceof EndpointError)) throw error
      const endpointError = error
      if (endpointError instanceof PoolNotFoundError) {
        const knownFrom = accepted.get(poolId)
        if (knownFrom === undefined) {
          // Not counted against the endpoint: it answered, and the answer may well be right.
          emit({ endpoint, outcome: 'not-found', durationMs: latencyMs })
          return { kind: 'failed', error: endpointError }
        }
        return fail(
          endpoint,
          started,
          new PoolNotFoundError(endpoint, chainId, poolId, endpointError.serverMessage, knownFrom),
        )
      }
      return fail(endpoint, started, endpointError)
    }
    const rejection = accept(poolId, progress)
    if (rejection !== undefined) return fail(endpoint, started, rejection)
    book.recordSuccess(endpoint, fetchedAt, latencyMs)
    emit({ endpoint, outcome: 'ok', durationMs: latencyMs })
    return { kind: 'ok', progress }
  }

  const getPool = async (poolId: number): Promise<PoolProgress> => {
    if (!Number.isSafeInteger(poolId) || poolId < 0) throw new InvalidPoolIdError(poolId)
    if (closing.signal.aborted) throw new ClientClosedError()
    const deadlineAt = performance.now() + config.deadlineMs
    const deadline = new AbortController()
    // The hard stop: the call ends by this timer whatever is in flight.
    const deadlineTimer = setTimeout(() => deadline.abort(), config.deadlineMs)
    const lastErrors = new Map<string, EndpointError>()
    const failures = (): EndpointFailure[] =>
      endpoints.flatMap((endpoint) => {
        const error = lastErrors.get(endpoint)
        return error === undefined ? [] : [{ endpoint, error }]
      })
    const deadlineExceeded = () => new DeadlineExceededError(chainId, poolId, config.deadlineMs, failures())
    try {
      for (let round = 0; ; round++) {
        const notFound: PoolNotFoundError[] = []
        for (const endpoint of book.order()) {
          if (closing.signal.aborted) throw new ClientClosedError()
          // Defensive: the deadline timer and the backoff arithmetic below use the same monotonic clock, so a
          // round should never start after the deadline.
          if (deadline.signal.aborted || performance.now() >= deadlineAt) throw deadlineExceeded()
          // A request that would outlive the deadline is cut by the deadline signal, not by clipping its timeout.
          const outcome = await ask(endpoint, poolId, deadline.signal)
          if (outcome.kind === 'closed') throw new ClientClosedError()
          if (outcome.kind === 'ok') {
            for (const wrong of notFound) {
              book.recordFailure(
                wrong.endpoint,
                now(),
                `said pool ${poolId} does not exist while ${endpoint} served it: another chain or not synced`,
              )
            }
            return outcome.progress
          }
          const cutByDeadline =
            outcome.error instanceof EndpointTimeoutError && outcome.error.limit === 'deadline'
          // A request cut short by the deadline says less than the error the same endpoint gave earlier in this
          // call (a fast-failing endpoint asked once more just before the deadline is still failing the same way):
          // keep that error, and do not count the cut against it twice.
          if (!(cutByDeadline && lastErrors.has(endpoint))) {
            if (cutByDeadline) book.recordFailure(endpoint, now(), outcome.error.message)
            lastErrors.set(endpoint, outcome.error)
          }
          if (outcome.error instanceof PoolNotFoundError && outcome.error.knownFrom === undefined) {
            notFound.push(outcome.error)
          }
          if (deadline.signal.aborted) throw deadlineExceeded()
        }
        const [firstNotFound] = notFound
        if (firstNotFound !== undefined) throw firstNotFound
        const wait = backoffDelay(round, backoff, config.random)
        if (performance.now() + wait >= deadlineAt)
          throw new AllEndpointsFailedError(chainId, poolId, failures(), round + 1)
        await pause(wait, AbortSignal.any([deadline.signal, closing.signal]))
      }
    } finally {
      clearTimeout(deadlineTimer)
    }
  }

  return {
    chainId,
    endpoints: Object.freeze([...endpoints]),
    getPool,
    health: () => book.snapshot(),
    close: () => {
      if (closing.signal.aborted) return
      closing.abort()
      agents.http.destroy()
      agents.https.destroy()
    },
  }
}

/** Classifies a request that produced no HTTP answer. */
function transportError(endpoint: string, timeoutMs: number, error: unknown): EndpointError {
  if (axios.isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') {
      return new EndpointTimeoutError(endpoint, timeoutMs, 'request')
    }
    if (error.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(error.message)) {
      return new InvalidResponseError(endpoint, `the body is larger than ${MAX_BODY_BYTES} bytes`)
    }
    const code = error.code ?? (error.cause instanceof Error ? error.cause.name : 'error')
    return new EndpointNetworkError(endpoint, `${code}: ${error.message}`, { cause: error })
  }
  return new EndpointNetworkError(
    endpoint,
    error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    { cause: error },
  )
}

import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import type { Sibling } from '@ghostfleet/coordination'
import type { GatewayMetrics, GatewayRoute } from './gateway-metrics.js'
import { describeLocal, type LocalNodeView } from './local-node.js'
import { type NodeAnswer, type NodeForwarder, NodeUnavailableError } from './node-forwarder.js'
import { planRoute, type Upstream } from './route-plan.js'
import {
  errorEnvelope,
  errorText,
  isNotHeldError,
  parseEnvelope,
  type RpcId,
  withId,
} from './rpc-envelope.js'
import { chainIdInResult } from './rpc-methods.js'
import type { RpcCall } from './rpc-request.js'
import { SiblingBusyError, type SiblingTransport, siblingTarget } from './sibling-transport.js'

/** The answer to one call, with where it came from (the `x-ghostfleet-route` / `-served-by` headers). */
export interface GatewayAnswer {
  status: number
  body: Buffer
  contentType: string | undefined
  cacheControl: string | undefined
  route: GatewayRoute
  /** `local`, a sibling's id, or null when nothing answered. */
  servedBy: string | null
}

export interface GatewayRouterOptions {
  local: LocalNodeView
  forwarder: NodeForwarder
  /** The siblings as last read (`SiblingDirectory.list`); empty outside fleet mode. */
  siblings: () => readonly Sibling[]
  /** Null: no fleet key, siblings cannot be asked. */
  transport: SiblingTransport | null
  /** The local node's chain (its genesis): every sibling answer must be for it. */
  nodeChainId: string
  /** `kyve-1 pool 3`, for messages. */
  pool: string
  upstreamTimeoutMs: number
  metrics: GatewayMetrics
}

const JSON_TYPE = 'application/json'
/** The longest a call waits for a busy sibling (its Retry-After) before asking it once more. */
const BUSY_WAIT_CAP_MS = 1_000

/** CometBFT's error for a call nothing could answer (HTTP 500 for URI requests, 200 for JSON-RPC). */
export function failedAnswer(id: RpcId | undefined, data: string): GatewayAnswer {
  return {
    status: id === undefined ? 500 : 200,
    body: Buffer.from(errorEnvelope(id ?? -1, data)),
    contentType: JSON_TYPE,
    cacheControl: undefined,
    route: 'failed',
    servedBy: null,
  }
}

/**
 * Routes one call (route-plan.ts says in which order) and says what happened. An upstream's answer is taken
 * when it is a success, or an error that every node would give alike (bad parameters); it is passed over when the
 * upstream cannot be asked, or says it does not hold the height. A sibling's answer must also name the local
 * node's chain where CometBFT puts a chain id in it (the signed `x-ghostfleet-chain-id` covers the rest).
 * When nothing answers, the caller gets CometBFT's error shape with what each upstream said.
 *
 * Local answers are buffered but not parsed (a 200 is passed on as it came); only errors and sibling answers are.
 */
export class GatewayRouter {
  constructor(private readonly options: GatewayRouterOptions) {}

  async call(call: RpcCall): Promise<GatewayAnswer> {
    const started = performance.now()
    const { options } = this
    const local = options.local()
    const siblings = options.transport === null ? [] : options.siblings()
    const tried: string[] = []
    const busy: Array<{ upstream: Extract<Upstream, { kind: 'sibling' }>; retryAfterMs: number }> = []
    for (const upstream of planRoute(call.height, local, siblings)) {
      const upstreamStarted = performance.now()
      const answer =
        upstream.kind === 'local'
          ? await this.askLocal(call, tried)
          : await this.askSibling(call, upstream, tried, (retryAfterMs) =>
              busy.push({ upstream, retryAfterMs }),
            )
      if (answer === null) continue
      return this.finish(call, answer, started, performance.now() - upstreamStarted)
    }
    // Nobody answered, but a sibling only asked to slow down: a protocol node is better served a little later
    // than not at all, and the wait throttles it to what the sibling grants (its rate limit protects its node).
    const first = busy[0]
    if (first !== undefined) {
      await delay(Math.min(BUSY_WAIT_CAP_MS, first.retryAfterMs))
      const upstreamStarted = performance.now()
      const answer = await this.askSibling(call, first.upstream, tried, () => {})
      if (answer !== null) return this.finish(call, answer, started, performance.now() - upstreamStarted)
    }
    this.count('failed', started, null)
    return failedAnswer(call.id, this.failureMessage(call, local, siblings, tried))
  }

  /**
   * A request for a method the gateway does not route (rpc-methods.ts), sent to the local node as it came and
   * only to it. While the node does not answer, CometBFT's error shape says so (`id` as for a routed call).
   */
  async passThrough(
    request: { method: string; target: string; body: Buffer | undefined; contentType: string | undefined },
    id: RpcCall['id'],
  ): Promise<GatewayAnswer> {
    const started = performance.now()
    try {
      const answer = await this.options.forwarder.passThrough(
        request.method,
        request.target,
        request.body,
        request.contentType,
      )
      this.count('local', started, performance.now() - started)
      return { ...answer, route: 'local', servedBy: 'local' }
    } catch (error) {
      if (!(error instanceof NodeUnavailableError)) throw error
      this.count('failed', started, null)
      return failedAnswer(
        id,
        `the local node does not answer (${error.message}); ${request.target} is answered by it alone`,
      )
    }
  }

  /** An answer of the local node that is final, or null (with what it said in `tried`) to go on. */
  private async askLocal(call: RpcCall, tried: string[]): Promise<Omit<GatewayAnswer, 'route'> | null> {
    let answer: NodeAnswer
    try {
      answer = await this.options.forwarder.call(call.method, call.query)
    } catch (error) {
      if (!(error instanceof NodeUnavailableError)) throw error
      tried.push(`local node: ${error.message}`)
      return null
    }
    if (answer.status === 200) return { ...answer, servedBy: 'local' }
    if (answer.status >= 502) {
      tried.push(`local node: HTTP ${answer.status}`)
      return null
    }
    if (answer.status === 500) {
      const envelope = parseEnvelope(answer.body)
      const text = envelope === null ? '' : errorText(envelope)
      if (isNotHeldError(text)) {
        tried.push(`local node: ${text}`)
        return null
      }
    }
    return { ...answer, servedBy: 'local' }
  }

  private async askSibling(
    call: RpcCall,
    upstream: Extract<Upstream, { kind: 'sibling' }>,
    tried: string[],
    onBusy: (retryAfterMs: number) => void,
  ): Promise<Omit<GatewayAnswer, 'route'> | null> {
    const { sibling } = upstream
    const transport = this.options.transport
    if (transport === null) return null
    const name = `sibling ${sibling.sidecarId}`
    let reply: Awaited<ReturnType<SiblingTransport['get']>>
    try {
      reply = await transport.get(sibling.peerUrl, siblingTarget(call.method, call.query), {
        expectChainId: this.options.nodeChainId,
        timeoutMs: this.options.upstreamTimeoutMs,
      })
    } catch (error) {
      tried.push(`${name}: ${(error as Error).message}`)
      if (error instanceof SiblingBusyError) onBusy(error.retryAfterMs)
      return null
    }
    if (reply.chainId !== this.options.nodeChainId) {
      tried.push(`${name}: answers for chain ${reply.chainId}, not ${this.options.nodeChainId}`)
      return null
    }
    if (reply.status !== 200) {
      const envelope = parseEnvelope(reply.body)
      tried.push(`${name}: ${envelope === null ? `HTTP ${reply.status}` : errorText(envelope)}`)
      return null
    }
    const envelope = parseEnvelope(reply.body)
    if (envelope === null || envelope.result === undefined) {
      tried.push(`${name}: not a JSON-RPC answer`)
      return null
    }
    const chainId = chainIdInResult(call.method, envelope.result)
    if (chainId !== null && chainId !== this.options.nodeChainId) {
      tried.push(`${name}: the answer names chain ${String(chainId)}, not ${this.options.nodeChainId}`)
      return null
    }
    return {
      status: 200,
      body: reply.body,
      contentType: reply.contentType ?? JSON_TYPE,
      cacheControl: undefined,
      servedBy: sibling.sidecarId,
    }
  }

  private finish(
    call: RpcCall,
    answer: Omit<GatewayAnswer, 'route'>,
    started: number,
    upstreamMs: number,
  ): GatewayAnswer {
    const route: GatewayRoute = answer.servedBy === 'local' ? 'local' : 'sibling'
    // A JSON-RPC caller gets its own id and HTTP 200 for errors too, as CometBFT answers a POST.
    const result: GatewayAnswer =
      call.id === undefined
        ? { ...answer, route }
        : { ...answer, route, status: 200, body: withId(answer.body, call.id) }
    this.count(route, started, upstreamMs)
    return result
  }

  private count(route: GatewayRoute, started: number, upstreamMs: number | null): void {
    const { metrics } = this.options
    const seconds = (performance.now() - started) / 1000
    metrics.requests.inc({ route })
    metrics.duration.observe({ route }, seconds)
    if (upstreamMs !== null) metrics.addedLatency.observe({ route }, Math.max(0, seconds - upstreamMs / 1000))
  }

  private failureMessage(
    call: RpcCall,
    local: ReturnType<LocalNodeView>,
    siblings: readonly Sibling[],
    tried: string[],
  ): string {
    const what = call.height === null ? `${call.method}` : `height ${call.height}`
    const known =
      siblings.length === 0
        ? this.options.transport === null
          ? 'no siblings can be asked (no fleet key)'
          : `no sibling of ${this.options.pool} serves peers`
        : `siblings: ${siblings
            .map((s) => `${s.sidecarId} ${s.serving ? `holds ${s.base}–${s.height}` : 'is down'}`)
            .join(', ')}`
    const asked = tried.length === 0 ? 'nobody could be asked' : `asked: ${tried.join('; ')}`
    return `${what} is not available through the ghostfleet gateway: ${describeLocal(local)}; ${known}; ${asked}`
  }
}

import { randomBytes } from 'node:crypto'
import { FleetKey, type Sibling } from '@ghostfleet/coordination'
import { createPeerClient, type PeerServer } from '@ghostfleet/peer'
import { createLogger, createMetricsRegistry, type Registry } from '@ghostfleet/telemetry'
import { metricValue } from '@ghostfleet/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGatewayMetrics, type GatewayMetrics } from '../src/gateway/gateway-metrics.js'
import { GatewayRouter } from '../src/gateway/gateway-router.js'
import { type GatewayServer, startGatewayServer } from '../src/gateway/gateway-server.js'
import type { LocalNodeState } from '../src/gateway/local-node.js'
import { NodeForwarder } from '../src/gateway/node-forwarder.js'
import { peerSiblingTransport } from '../src/gateway/peer-sibling-transport.js'
import type { SiblingTransport } from '../src/gateway/sibling-transport.js'
import { startPeerListener } from '../src/peer/peer-listener.js'
import { FakeRpcNode } from './helpers/fake-rpc-node.js'

/*
 * The gateway of sidecar "a" (local node of chain osmo-1 holding 100–200) with four siblings behind real peer
 * listeners, all over real HTTP:
 *   b: osmo-1, holds 50–220;   c: osmo-1, holds 150–300;
 *   d: a sidecar of another chain (its listener signs other-1), reported as holding 1–1000;
 *   e: a listener that signs osmo-1 but whose node serves other-1 (a host whose node was swapped under its
 *      sidecar), reported 1–2000; listed only where its answers name their chain (blocks).
 * d and e report the highest heights, so they are asked first for every height and must never be served from.
 */

const CHAIN = 'osmo-1'
const key = FleetKey.parse(randomBytes(32).toString('hex'), 'test key')
const log = createLogger({ name: 'gateway-test', level: 'silent' })

interface SiblingHost {
  node: FakeRpcNode
  listener: PeerServer
  forwarder: NodeForwarder
  sibling: Sibling
}

let localNode: FakeRpcNode
let localState: LocalNodeState
let hosts: Record<'b' | 'c' | 'd' | 'e', SiblingHost>
let registry: Registry
let metrics: GatewayMetrics
let forwarder: NodeForwarder
let transport: SiblingTransport
let gateway: GatewayServer
let listE = false

async function siblingHost(
  id: string,
  node: { chainId: string; base: number; height: number },
  signedChain: string,
  reported: { base: number; height: number },
  ratePerSecond = 1_000,
): Promise<SiblingHost> {
  const fake = await new FakeRpcNode(node).start()
  const siblingForwarder = new NodeForwarder(fake.url, 5_000)
  const listener = await startPeerListener({
    listen: '127.0.0.1:0',
    key,
    sidecarId: id,
    nodeChainId: signedChain,
    local: () => ({ up: true, base: fake.base, height: fake.height }),
    forwarder: siblingForwarder,
    maxConcurrent: 8,
    ratePerSecond,
    metrics: createGatewayMetrics(createMetricsRegistry()),
    log,
  })
  const sibling: Sibling = {
    sidecarId: id,
    peerUrl: listener.url,
    ...reported,
    serving: true,
    reportedAt: Date.now(),
  }
  return { node: fake, listener, forwarder: siblingForwarder, sibling }
}

/** A JSON-RPC answer as the tests read it (checked field by field with toMatchObject / toEqual). */
// biome-ignore lint/suspicious/noExplicitAny: the tests walk answers of several shapes
type Answer = { status: number; route: string | null; by: string | null; body: any }

async function get(path: string): Promise<Answer> {
  const response = await fetch(`${gateway.url}${path}`)
  return {
    status: response.status,
    route: response.headers.get('x-ghostfleet-route'),
    by: response.headers.get('x-ghostfleet-served-by'),
    body: await response.json(),
  }
}

async function post(body: unknown): Promise<Answer> {
  const response = await fetch(`${gateway.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return {
    status: response.status,
    route: response.headers.get('x-ghostfleet-route'),
    by: response.headers.get('x-ghostfleet-served-by'),
    body: await response.json(),
  }
}

beforeAll(async () => {
  localNode = await new FakeRpcNode({ chainId: CHAIN, base: 100, height: 200 }).start()
  hosts = {
    b: await siblingHost('b', { chainId: CHAIN, base: 50, height: 220 }, CHAIN, { base: 50, height: 220 }),
    c: await siblingHost('c', { chainId: CHAIN, base: 150, height: 300 }, CHAIN, { base: 150, height: 300 }),
    d: await siblingHost('d', { chainId: 'other-1', base: 1, height: 1000 }, 'other-1', {
      base: 1,
      height: 1000,
    }),
    e: await siblingHost('e', { chainId: 'other-1', base: 1, height: 2000 }, CHAIN, {
      base: 1,
      height: 2000,
    }),
  }
  registry = createMetricsRegistry()
  metrics = createGatewayMetrics(registry)
  forwarder = new NodeForwarder(localNode.url, 5_000)
  transport = peerSiblingTransport({ key, sidecarId: 'a', timeoutMs: 5_000 })
  const router = new GatewayRouter({
    local: () => localState,
    forwarder,
    siblings: () => [hosts.b, hosts.c, hosts.d, ...(listE ? [hosts.e] : [])].map((host) => host.sibling),
    transport,
    nodeChainId: CHAIN,
    pool: 'kyve-1 pool 1',
    upstreamTimeoutMs: 5_000,
    metrics,
  })
  gateway = await startGatewayServer({ listen: '127.0.0.1:0', router, log })
})

afterAll(async () => {
  await gateway?.close()
  transport?.close()
  forwarder?.close()
  for (const host of Object.values(hosts ?? {})) {
    await host.listener.close({ graceMs: 0 })
    host.forwarder.close()
    await host.node.stop()
  }
  await localNode?.stop()
})

beforeEach(async () => {
  listE = false
  localState = { up: true, base: 100, height: 200 }
  localNode.base = 100
  localNode.height = 200
  await localNode.start()
})

describe('the gateway routes by height', () => {
  it('answers from the local node when it is up and holds the height, as the node said it', async () => {
    const before = localNode.called('block')
    const answer = await get('/block?height=150')
    expect(answer).toMatchObject({ status: 200, route: 'local', by: null })
    expect(answer.body).toEqual({
      jsonrpc: '2.0',
      id: -1,
      result: { block_id: { hash: 'HASH150' }, block: { header: { chain_id: CHAIN, height: '150' } } },
    })
    expect(localNode.called('block')).toBe(before + 1)
  })

  it('asks a sibling of the same chain for a height below the local base, never one of another chain', async () => {
    listE = true
    const answer = await get('/block?height=60')
    expect(answer).toMatchObject({ status: 200, route: 'sibling', by: 'b' })
    expect(answer.body.result.block.header).toEqual({ chain_id: CHAIN, height: '60' })
    // e was asked first (highest report) and refused for the chain in its block; d's listener signs another chain.
    expect(hosts.e.node.called('block')).toBeGreaterThan(0)
    listE = false
    const results = await get('/block_results?height=60')
    expect(results).toMatchObject({ status: 200, route: 'sibling', by: 'b' })
    expect(results.body.result).toEqual({ height: '60', txs_results: null })
  })

  it('asks a sibling while the local node is down (pruning, switching), from what the controller saw', async () => {
    localState = { up: false, why: 'it is being pruned' }
    const before = localNode.called('block')
    const answer = await get('/block?height=180')
    expect(answer).toMatchObject({ status: 200, route: 'sibling', by: 'c' })
    expect(answer.body.result.block.header.height).toBe('180')
    expect(localNode.called('block')).toBe(before)
  })

  it('asks a sibling when the local node refuses the connection between two looks (a crash)', async () => {
    await localNode.stop()
    const answer = await get('/block?height=120')
    expect(answer).toMatchObject({ status: 200, route: 'sibling', by: 'b' })
  })

  it('tries the local node above its last observed height (it grew), then a sibling that has the height', async () => {
    localNode.height = 250
    expect(await get('/block?height=240')).toMatchObject({ status: 200, route: 'local' })
    const above = await get('/block?height=280')
    expect(above).toMatchObject({ status: 200, route: 'sibling', by: 'c' })
  })

  it('passes on an error every node gives alike without asking siblings', async () => {
    const before = hosts.c.node.called('block') + hosts.b.node.called('block')
    const answer = await get('/block?height=0')
    expect(answer).toMatchObject({ status: 500, route: 'local' })
    expect(answer.body.error.data).toBe('height must be greater than 0, but got 0')
    expect(hosts.c.node.called('block') + hosts.b.node.called('block')).toBe(before)
  })

  it("answers CometBFT's error shape, saying why, when no node of the chain holds the height", async () => {
    const answer = await get('/block?height=20')
    expect(answer.status).toBe(500)
    expect(answer.route).toBe('failed')
    expect(answer.body).toMatchObject({
      jsonrpc: '2.0',
      id: -1,
      error: { code: -32603, message: 'Internal error' },
    })
    expect(answer.body.error.data).toMatch(/^height 20 is not available through the ghostfleet gateway: /)
    expect(answer.body.error.data).toContain('the local node holds 100–200')
    expect(answer.body.error.data).toContain('b holds 50–220')
    expect(answer.body.error.data).toContain('sibling d:')
  })
})

describe('the gateway without a height', () => {
  it('answers /status and /abci_info from the local node when it is up', async () => {
    const status = await get('/status')
    expect(status).toMatchObject({ status: 200, route: 'local' })
    expect(status.body.result.sync_info.earliest_block_height).toBe('100')
    expect(await get('/abci_info')).toMatchObject({ status: 200, route: 'local' })
  })

  it('answers from the best sibling of the chain when the local node is down, marked in a header', async () => {
    localState = { up: false, why: 'it is switching mode' }
    const status = await get('/status')
    expect(status).toMatchObject({ status: 200, route: 'sibling', by: 'c' })
    expect(status.body.result.node_info.network).toBe(CHAIN)
    expect(await get('/health')).toMatchObject({ status: 200, route: 'sibling', by: 'c' })
  })
})

describe('methods the gateway does not route', () => {
  it('go to the local node as they came, and only to it', async () => {
    const response = await fetch(`${gateway.url}/net_info`)
    expect(response.status).toBe(404)
    expect(response.headers.get('x-ghostfleet-route')).toBe('local')
    expect(await response.text()).toBe('404 page not found\n')
    expect(localNode.called('net_info')).toBe(1)
    await localNode.stop()
    const down = await get('/net_info')
    expect(down).toMatchObject({ status: 500, route: 'failed' })
    expect(down.body.error.data).toMatch(
      /^the local node does not answer .*; \/net_info is answered by it alone$/,
    )
    expect(hosts.b.node.called('net_info') + hosts.c.node.called('net_info')).toBe(0)
  })
})

describe('JSON-RPC over POST', () => {
  it("echoes the caller's id, from the local node and from a sibling, singly and in a batch", async () => {
    const local = await post({ jsonrpc: '2.0', id: 7, method: 'block', params: { height: '150' } })
    expect(local).toMatchObject({ status: 200, route: 'local' })
    expect(local.body).toMatchObject({
      jsonrpc: '2.0',
      id: 7,
      result: { block: { header: { height: '150' } } },
    })
    const sibling = await post({ jsonrpc: '2.0', id: 'x', method: 'block_results', params: ['60'] })
    expect(sibling).toMatchObject({ status: 200, route: 'sibling', by: 'b' })
    expect(sibling.body).toEqual({ jsonrpc: '2.0', id: 'x', result: { height: '60', txs_results: null } })
    const batch = await post([
      { jsonrpc: '2.0', id: 1, method: 'status', params: {} },
      { jsonrpc: '2.0', id: 2, method: 'block', params: { height: 20 } },
    ])
    expect(batch.status).toBe(200)
    expect(batch.route).toBe('failed')
    expect(batch.body[0]).toMatchObject({ id: 1, result: { node_info: { network: CHAIN } } })
    expect(batch.body[1]).toMatchObject({ id: 2, error: { code: -32603 } })
  })
})

describe('a sibling that asks to slow down', () => {
  it('is asked again after its Retry-After instead of failing the call, throttling the caller to its rate', async () => {
    // One request per second (bursts of two) and the only node that holds anything: the third call in a row is
    // refused with 429 and answered after the wait.
    const slow = await siblingHost(
      'slow',
      { chainId: CHAIN, base: 1, height: 500 },
      CHAIN,
      { base: 1, height: 500 },
      1,
    )
    const router = new GatewayRouter({
      local: () => ({ up: false, why: 'it is being pruned' }),
      forwarder,
      siblings: () => [slow.sibling],
      transport,
      nodeChainId: CHAIN,
      pool: 'kyve-1 pool 1',
      upstreamTimeoutMs: 5_000,
      metrics,
    })
    try {
      for (const height of [10, 11, 12]) {
        const answer = await router.call({
          method: 'block',
          height,
          query: `height=${height}`,
          id: undefined,
        })
        expect(answer).toMatchObject({ status: 200, route: 'sibling', servedBy: 'slow' })
      }
      const text = await registry.metrics()
      expect(
        metricValue(text, 'ghostfleet_gateway_requests_total', { route: 'sibling' }),
      ).toBeGreaterThanOrEqual(3)
    } finally {
      await slow.listener.close({ graceMs: 0 })
      slow.forwarder.close()
      await slow.node.stop()
    }
  })
})

describe('the peer listener', () => {
  it('refuses unsigned and replayed requests, and serves only the routed read-only methods', async () => {
    const unsigned = await fetch(`${hosts.b.listener.url}/rpc/block?height=60`)
    expect(unsigned.status).toBe(401)
    const client = createPeerClient({ key, sender: 'a' })
    try {
      const other = await client.request(hosts.b.listener.url, {
        path: '/rpc/net_info',
        expectChainId: CHAIN,
      })
      expect(other.status).toBe(404)
      const before = hosts.b.node.called('block')
      // Below its base: answered without asking its node, in CometBFT's words.
      const low = await client.request(hosts.b.listener.url, {
        path: '/rpc/block?height=10',
        expectChainId: CHAIN,
      })
      expect(low.status).toBe(500)
      expect(JSON.parse(low.text()).error.data).toBe('height 10 is not available, lowest height is 50')
      expect(hosts.b.node.called('block')).toBe(before)
    } finally {
      client.close()
    }
  })
})

describe('gateway metrics', () => {
  it('count calls by route and observe the added latency of local answers', async () => {
    const text = await registry.metrics()
    for (const route of ['local', 'sibling', 'failed']) {
      expect(metricValue(text, 'ghostfleet_gateway_requests_total', { route })).toBeGreaterThan(0)
    }
    expect(
      metricValue(text, 'ghostfleet_gateway_added_latency_seconds_count', { route: 'local' }),
    ).toBeGreaterThan(0)
  })
})

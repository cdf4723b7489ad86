import net from 'node:net'
import type { Sibling } from '@ghostfleet/coordination'
import { createLogger, createMetricsRegistry } from '@ghostfleet/telemetry'
import { metricValue } from '@ghostfleet/testkit'
import { describe, expect, it } from 'vitest'
import { createGatewayMetrics } from '../src/gateway/gateway-metrics.js'
import { NodeForwarder, NodeUnavailableError } from '../src/gateway/node-forwarder.js'
import { planRoute, type Upstream } from '../src/gateway/route-plan.js'
import { isNotHeldError, withId } from '../src/gateway/rpc-envelope.js'
import { heightOf, jsonRpcCall } from '../src/gateway/rpc-request.js'
import { SiblingDirectory } from '../src/gateway/sibling-directory.js'

const sibling = (sidecarId: string, base: number, height: number, serving = true): Sibling => ({
  sidecarId,
  peerUrl: `http://${sidecarId}:26672`,
  base,
  height,
  serving,
  reportedAt: 0,
})
const names = (plan: Upstream[]) => plan.map((u) => (u.kind === 'local' ? 'local' : u.sibling.sidecarId))

describe('planRoute', () => {
  const siblings = [
    sibling('b', 50, 220),
    sibling('c', 150, 300),
    sibling('down', 1, 1000, false),
    sibling('d', 10, 120),
  ]

  it('asks the local node first when it is up and its base is at or below the height, even above its height', () => {
    expect(names(planRoute(150, { up: true, base: 100, height: 200 }, siblings))).toEqual([
      'local',
      'c',
      'b',
      'd',
    ])
    expect(names(planRoute(250, { up: true, base: 100, height: 200 }, siblings))).toEqual([
      'local',
      'c',
      'b',
      'd',
    ])
  })

  it('skips the local node below its base or while it is down, and siblings that are down or pruned past h', () => {
    expect(names(planRoute(60, { up: true, base: 100, height: 200 }, siblings))).toEqual(['b', 'd'])
    expect(names(planRoute(180, { up: false, why: 'pruning' }, siblings))).toEqual(['c', 'b', 'd'])
    expect(planRoute(5, { up: false, why: 'pruning' }, siblings)).toEqual([])
  })

  it('puts the siblings that report the height before those that may have grown to it', () => {
    expect(names(planRoute(130, { up: false, why: 'x' }, siblings))).toEqual(['b', 'd'])
    expect(names(planRoute(121, { up: false, why: 'x' }, siblings))).toEqual(['b', 'd'])
  })

  it('answers the latest from the local node, else from the highest serving sibling', () => {
    expect(names(planRoute(null, { up: true, base: 100, height: 200 }, siblings))).toEqual([
      'local',
      'c',
      'b',
      'd',
    ])
    expect(names(planRoute(null, { up: false, why: 'x' }, siblings))).toEqual(['c', 'b', 'd'])
  })
})

describe('envelopes', () => {
  it("gives an answer the caller's id without parsing it, compact or indented (CometBFT 0.34)", () => {
    const compact = Buffer.from('{"jsonrpc":"2.0","id":-1,"result":{"a":1}}')
    expect(JSON.parse(withId(compact, 7).toString())).toEqual({ jsonrpc: '2.0', id: 7, result: { a: 1 } })
    const indented = Buffer.from('{\n  "jsonrpc": "2.0",\n  "id": -1,\n  "result": {\n    "a": 1\n  }\n}')
    expect(JSON.parse(withId(indented, 'x').toString())).toEqual({
      jsonrpc: '2.0',
      id: 'x',
      result: { a: 1 },
    })
    const reordered = Buffer.from('{"id":-1,"jsonrpc":"2.0","result":{}}')
    expect(JSON.parse(withId(reordered, null).toString())).toEqual({ id: null, jsonrpc: '2.0', result: {} })
  })

  it("tells CometBFT's errors for a height this node lacks from the ones every node gives", () => {
    expect(isNotHeldError('height 5 is not available, lowest height is 10')).toBe(true)
    expect(isNotHeldError('height 50 must be less than or equal to the current blockchain height 40')).toBe(
      true,
    )
    expect(isNotHeldError('could not find results for height #5')).toBe(true)
    expect(isNotHeldError('height must be greater than 0, but got 0')).toBe(false)
  })

  it('reads heights and JSON-RPC params as CometBFT does', () => {
    expect([
      heightOf('5'),
      heightOf('"5"'),
      heightOf(5),
      heightOf(''),
      heightOf('"5'),
      heightOf('0'),
    ]).toEqual([5, 5, 5, null, null, null])
    expect(jsonRpcCall({ jsonrpc: '2.0', id: 3, method: 'validators', params: ['9', 2, 30] })).toEqual({
      method: 'validators',
      height: 9,
      query: 'height=9&page=2&per_page=30',
      id: 3,
    })
    expect(jsonRpcCall({ jsonrpc: '2.0', id: 3, method: 'tx_search', params: {} })).toBeNull()
    expect(jsonRpcCall({ id: 3, method: 1 })).toMatchObject({ code: -32600 })
  })
})

describe('SiblingDirectory', () => {
  it('keeps the last list through failed reads while it is fresh, then routes on none', async () => {
    let now = 1_000
    let fail = false
    const directory = new SiblingDirectory({
      read: async () => {
        if (fail) throw new Error('redis down')
        return [sibling('b', 1, 10)]
      },
      intervalMs: 1_000,
      maxAgeMs: 3_000,
      log: createLogger({ name: 'test', level: 'silent' }),
      now: () => now,
    })
    await directory.refresh()
    expect(directory.list().map((s) => s.sidecarId)).toEqual(['b'])
    fail = true
    now += 2_000
    await directory.refresh()
    expect(directory.list()).toHaveLength(1)
    now += 2_000
    expect(directory.list()).toEqual([])
    fail = false
    await directory.refresh()
    expect(directory.list()).toHaveLength(1)
  })
})

describe('NodeForwarder', () => {
  it('tries a kept-alive connection the node dropped once more on a fresh one, and reports a node that is gone', async () => {
    // Answers the first request of each connection and drops the connection at its second, as a node that
    // restarted (or closed an idle connection) does to the gateway's pooled socket.
    let connections = 0
    const server = net.createServer((socket) => {
      connections++
      let requests = 0
      socket.on('data', (chunk) => {
        if (!chunk.toString('latin1').includes('\r\n\r\n')) return
        requests++
        if (requests > 1) {
          socket.resetAndDestroy()
          return
        }
        const body = '{"jsonrpc":"2.0","id":-1,"result":{}}'
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    const forwarder = new NodeForwarder(`http://127.0.0.1:${port}`, 2_000)
    try {
      expect((await forwarder.call('health', '')).status).toBe(200)
      expect((await forwarder.call('health', '')).status).toBe(200)
      expect(connections).toBe(2)
    } finally {
      forwarder.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await expect(forwarder.call('health', '')).rejects.toBeInstanceOf(NodeUnavailableError)
  })
})

describe('gateway metrics', () => {
  it('exist at zero from the start, so dashboards and alerts have series before the first call', async () => {
    const registry = createMetricsRegistry()
    createGatewayMetrics(registry)
    const text = await registry.metrics()
    for (const route of ['local', 'sibling', 'failed']) {
      expect(metricValue(text, 'ghostfleet_gateway_requests_total', { route })).toBe(0)
      expect(metricValue(text, 'ghostfleet_gateway_request_duration_seconds_count', { route })).toBe(0)
    }
    expect(metricValue(text, 'ghostfleet_gateway_added_latency_seconds_count', { route: 'local' })).toBe(0)
    expect(metricValue(text, 'ghostfleet_gateway_peer_requests_total', { outcome: 'not-held' })).toBe(0)
  })
})

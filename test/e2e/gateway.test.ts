import { randomBytes } from 'node:crypto'
import type { SidecarConfigInput } from '@ghostfleet/core'
import {
  eventually,
  freePort,
  metricValue,
  nodeStatus,
  startRedis,
  type TestRedis,
  testConfig,
} from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { SimNet } from './helpers/simnet.js'

/*
 * The "done when": a node is pruned and switched while a client reading through its sidecar's RPC
 * gateway sees no failed request. Real processes throughout: a producer simnode, two followers each supervised
 * by `ghostfleet-sidecar start` in fleet mode (real Redis, a fleet key, no tracker: each decides locally), the
 * simulated KYVE API driven by the test.
 *   - "a" has small thresholds: it goes ghost, is pruned to the pool height, then returns to normal;
 *   - "b" has thresholds it never reaches: it stays in normal mode holding every block, and serves siblings.
 * The client reads /block and /block_results through a's gateway as fast as it can, for the heights from the
 * pool height up to b's height (the heights some node holds), and for heights a has pruned away.
 */

let net: SimNet | undefined
let redis: TestRedis | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
  await redis?.stop()
  redis = undefined
})

interface Reading {
  requests: number
  failures: string[]
  routes: Map<string, number>
  belowBase: number
}

/** Reads through the gateway until stopped; every answer that is not HTTP 200 with a result is a failure. */
function readThrough(gateway: string, heights: () => { from: number; to: number; pruned: number | null }) {
  const reading: Reading = { requests: 0, failures: [], routes: new Map(), belowBase: 0 }
  let stopped = false
  const ask = async (path: string) => {
    reading.requests++
    try {
      const response = await fetch(`${gateway}${path}`, { signal: AbortSignal.timeout(15_000) })
      const body = (await response.json()) as { result?: unknown; error?: unknown }
      const route = response.headers.get('x-ghostfleet-route') ?? 'none'
      reading.routes.set(route, (reading.routes.get(route) ?? 0) + 1)
      if (response.status !== 200 || body.result === undefined)
        reading.failures.push(`${path}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`)
    } catch (error) {
      reading.failures.push(`${path}: ${(error as Error).message}`)
    }
  }
  const loop = (async () => {
    while (!stopped) {
      const { from, to, pruned } = heights()
      for (let h = from; h <= to && !stopped; h++) {
        await ask(`/block?height=${h}`)
        await ask(`/block_results?height=${h}`)
      }
      // A height a's prune deleted: only b holds it.
      if (pruned !== null && pruned > 1) {
        reading.belowBase++
        await ask(`/block?height=${pruned - 1}`)
      }
      await ask('/status')
    }
  })()
  return {
    reading,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

describe('the RPC gateway end to end', () => {
  it('serves every request while its node is pruned and switched, from the sibling meanwhile', async () => {
    net = await SimNet.create()
    redis = await startRedis()
    const producer = await net.startProducer(100)
    const followerA = await net.follower(producer, { name: 'follower-a' })
    const followerB = await net.follower(producer, { name: 'follower-b' })
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    let poolHeight = 5
    const setPool = async (height: number) => {
      await kyve.setPool(1, { currentKey: String(height) })
      poolHeight = height
    }
    const env = { GHOSTFLEET_FLEET_KEY: randomBytes(32).toString('hex') }
    const binary = await net.nodeBinary()
    const ports = {
      a: { http: await freePort(), gateway: await freePort(), peer: await freePort() },
      b: { http: await freePort(), gateway: await freePort(), peer: await freePort() },
    }
    const fleet = (id: string): Pick<SidecarConfigInput, 'fleet'> => ({
      fleet: { redisUrl: redis?.url, sidecarId: id, reportIntervalSeconds: 0.2, trackerTimeoutSeconds: 1 },
    })
    const serving = (port: { gateway: number; peer: number }) => ({
      gateway: { enabled: true, listen: `127.0.0.1:${port.gateway}`, upstreamTimeoutSeconds: 5 },
      peer: { listen: `127.0.0.1:${port.peer}` },
    })
    await net.writeConfig(net.path('sidecar-a'), {
      ...testConfig({ binary, follower: followerA, kyveUrl: kyve.url, httpPort: ports.a.http }),
      ...serving(ports.a),
      ...fleet('a'),
    })
    await net.writeConfig(net.path('sidecar-b'), {
      ...testConfig({
        binary,
        follower: followerB,
        kyveUrl: kyve.url,
        httpPort: ports.b.http,
        thresholds: { heightDifferenceMax: 1_000_000, heightDifferenceMin: 500_000, keepRecent: 1_500_000 },
        pruningEnabled: false,
      }),
      ...serving(ports.b),
      ...fleet('b'),
    })
    const sidecarB = net.startSidecar(net.path('sidecar-b'), ports.b.http, [], env)
    const sidecarA = net.startSidecar(net.path('sidecar-a'), ports.a.http, [], env)
    const gatewayA = `http://127.0.0.1:${ports.a.gateway}`
    // b serves siblings once its node answers and its report (with the peer URL) is in Redis.
    await eventually(
      async () => {
        const status = await sidecarB.status()
        expect(status['node'].reachable).toBe(true)
        expect(await nodeStatus(followerA.rpcUrl)).not.toBeNull()
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'both nodes up' },
    )
    // The recording starts once a's gateway has seen its own node and b's report: what a sidecar answers while it
    // is still starting is not what this test is about (it answers CometBFT's error then, as it should).
    await eventually(
      async () => {
        expect((await sidecarA.status())['node'].reachable).toBe(true)
        const response = await fetch(`${gatewayA}/block?height=5`, { signal: AbortSignal.timeout(5_000) })
        expect(response.status).toBe(200)
      },
      { timeoutMs: 60_000, intervalMs: 200, description: "a's gateway serving" },
    )

    let heightB = (await nodeStatus(followerB.rpcUrl))?.height ?? 0
    let prunedTo: number | null = null
    const keepB = setInterval(() => {
      void nodeStatus(followerB.rpcUrl).then((status) => {
        if (status !== null) heightB = status.height
      })
    }, 200)
    // Up to 30 heights from the pool height, never above what b has (b is the one that holds everything).
    const client = readThrough(gatewayA, () => ({
      from: Math.max(1, poolHeight),
      to: Math.min(heightB - 1, poolHeight + 30),
      pruned: prunedTo,
    }))
    try {
      // 1. Far ahead of the pool (paused at 5): a turns ghost (a restart of its node).
      const frozen = await eventually(
        async () => {
          const status = await sidecarA.status()
          expect(status['mode']).toBe('ghost')
          expect(status['node'].reachable).toBe(true)
          return status['node'].height as number
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'a in ghost mode' },
      )

      // 2. The pool moves up, still far behind: a is pruned to pool − 1 (its node stops, is pruned, restarts).
      const pool = frozen - 25
      await setPool(pool)
      await eventually(
        async () => {
          const status = await sidecarA.status()
          expect(status['pruning'].lastPrune?.toHeight).toBe(pool - 1)
          expect((await nodeStatus(followerA.rpcUrl))?.base).toBe(pool - 1)
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'a pruned to pool − 1' },
      )
      prunedTo = pool - 1

      // 3. The pool catches up: a returns to normal (another restart), and syncs on.
      await setPool(frozen - 10)
      await eventually(
        async () => {
          expect(sidecarA.logsMatching(/^now in normal mode/)).toHaveLength(1)
          expect((await nodeStatus(followerA.rpcUrl))?.height ?? 0).toBeGreaterThan(frozen + 5)
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'a back in normal mode' },
      )
      await eventually(() => expect(client.reading.belowBase).toBeGreaterThan(3), { timeoutMs: 30_000 })
    } finally {
      clearInterval(keepB)
      await client.stop()
    }

    const { reading } = client
    expect(reading.failures).toEqual([])
    expect(reading.requests).toBeGreaterThan(200)
    // Both routes were taken: a's own node, and b while a's node was down or lacked the height.
    expect(reading.routes.get('local') ?? 0).toBeGreaterThan(0)
    expect(reading.routes.get('sibling') ?? 0).toBeGreaterThan(0)
    const metricsA = await sidecarA.metrics()
    expect(metricValue(metricsA, 'ghostfleet_gateway_requests_total', { route: 'failed' })).toBe(0)
    expect(metricValue(metricsA, 'ghostfleet_gateway_requests_total', { route: 'sibling' })).toBeGreaterThan(
      0,
    )
    const metricsB = await sidecarB.metrics()
    expect(
      metricValue(metricsB, 'ghostfleet_gateway_peer_requests_total', { outcome: 'ok' }),
    ).toBeGreaterThan(0)
  }, 300_000)
})

import type { NodeRpcClient, NodeStatus } from '@ghostfleet/cometbft'
import { loadAllReports } from '@ghostfleet/coordination'
import { createLogger } from '@ghostfleet/telemetry'
import { eventually, metricValue, startRedis, type TempDir, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Controller } from '../src/control/controller.js'
import type { NodeLifecycle } from '../src/control/node-lifecycle.js'
import {
  freshDir,
  SIDECAR_ID,
  startTestSidecar,
  type TestSidecar,
  TestTracker,
  THRESHOLDS,
} from './fleet-helpers.js'

/*
 * Fleet mode wired to the real controller, as `start` wires it: the tracker-driven decision source, the reporter
 * on the controller's snapshot, and wake-ups that run a tick at once. The node and the pruner are fakes (the
 * end-to-end tests in test/e2e run real ones); Redis is real. The supervision interval is a minute, so anything
 * that happens within the test happened because a wake-up brought the tick forward.
 */

let redis: TestRedis
let dir: TempDir
let tracker: TestTracker
let sidecar: TestSidecar | undefined
let controller: Controller | undefined

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
afterEach(async () => {
  await controller?.stop()
  controller = undefined
  sidecar = undefined
  await tracker.close()
  await dir.remove()
})

function fakeNode(chain: { height: number; base: number }) {
  let running = false
  let startedAt = 0
  const node: NodeLifecycle = {
    start: async () => {
      running = true
      startedAt = Date.now()
    },
    stop: async () => {
      running = false
    },
    state: () => (running ? 'running' : 'stopped'),
    pid: () => (running ? 4242 : null),
    uptimeMs: (now = Date.now()) => (running ? now - startedAt : 0),
    restartCount: () => 0,
  }
  const rpc: NodeRpcClient = {
    endpoint: 'http://127.0.0.1:1',
    abciInfo: async () => {
      if (!running) throw new Error('down')
      return { lastBlockHeight: chain.height, appVersion: 0, version: '', data: '' }
    },
    status: async () => {
      if (!running) throw new Error('down')
      return {
        nodeInfo: { id: 'a'.repeat(40), listenAddr: '', network: 'sim', version: '0.37.18', moniker: 'm' },
        syncInfo: {
          latestBlockHeight: chain.height,
          latestBlockTime: new Date(),
          earliestBlockHeight: chain.base,
          earliestBlockTime: new Date(),
          catchingUp: true,
        },
      } satisfies NodeStatus
    },
  }
  return { node, rpc }
}

describe('fleet mode in the controller', () => {
  it('reports, wakes up on a new desired state, never prunes above its own safe height, survives Redis', async () => {
    dir = await freshDir()
    tracker = new TestTracker(redis.url)
    await tracker.redis.flushall()
    await tracker.lead()
    await tracker.publishPool(900) // the tracker's claim; the sidecar's own KYVE says 500
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, mode: 'ghost' })
    sidecar.kyve.height = 500
    const chain = { height: 1000, base: 1 }
    const { node, rpc } = fakeNode(chain)
    const pruned: number[] = []
    const s = sidecar
    controller = new Controller(
      {
        intervalMs: 60_000,
        maxPoolAgeMs: 60_000,
        thresholds: THRESHOLDS,
        pruning: { enabled: true, intervalMs: 3_600_000, margin: 1 },
        dataSizeEveryMs: 60_000,
      },
      {
        node,
        rpc,
        pool: s.pool,
        decisions: s.decisions,
        addressBook: { reconcile: async (mode) => `reconciled ${mode}` },
        state: s.keeper,
        metrics: s.metrics,
        log: createLogger({ name: 'test', level: 'silent' }),
        now: Date.now,
        waitUntilUnlocked: async () => undefined,
        prune: async (height) => {
          pruned.push(height)
          const result = {
            fromBase: chain.base,
            toBase: height,
            blocksPruned: height - chain.base,
            bytesBefore: 10,
            bytesAfter: 5,
            durationMs: 1,
            noop: false,
          }
          chain.base = height
          return result
        },
        dataDirBytes: async () => 4096,
        checkHome: async () => null,
        onFatal: (error) => {
          throw error
        },
      },
    )
    await controller.start()
    const running = controller
    s.fleet.start({
      observe: () => ({ snapshot: running.snapshot(), activity: running.memberActivity() }),
      wake: () => running.runSoon(),
    })

    const report = () => loadAllReports(tracker.redis).then((all) => all.reports.get(SIDECAR_ID))
    await eventually(
      async () =>
        expect(await report()).toMatchObject({
          mode: 'ghost',
          nodeHeight: 1000,
          nodeBase: 1,
          nodeReachable: true,
          activity: 'serving',
          dataBytes: 4096,
          decidedBy: 'tracker',
          thresholds: THRESHOLDS,
          lastPrune: null,
        }),
      { timeoutMs: 10_000, description: 'the first report' },
    )
    // Every report carries this process's boot id and its number in the boot, which the tracker orders by.
    const firstReport = await report()
    expect(firstReport?.bootId).toMatch(/^[0-9a-f-]{36}$/)
    expect(firstReport?.seq).toBeGreaterThanOrEqual(1)

    const tooHigh = await tracker.write({ mode: 'ghost', pruneToHeight: 800, basedOnPoolHeight: 900 })
    await eventually(
      async () =>
        expect(
          metricValue(await s.metrics.registry.metrics(), 'ghostfleet_prune_refusals_total', {
            reason: 'above-own-safe-height',
          }),
        ).toBe(1),
      { timeoutMs: 10_000, description: 'the refusal, within a wake-up' },
    )
    expect(pruned).toEqual([])
    await eventually(
      async () =>
        expect(await report()).toMatchObject({
          appliedEpoch: tooHigh.epoch,
          appliedGeneration: tooHigh.generation,
          nodeBase: 1,
          lastPrune: null,
        }),
      { timeoutMs: 10_000, description: 'a report showing the refused command processed, without effect' },
    )

    const safe = await tracker.write({ mode: 'ghost', pruneToHeight: 450, basedOnPoolHeight: 900 })
    await eventually(() => expect(pruned).toEqual([450]), { timeoutMs: 10_000, description: 'the prune' })
    // Until the restarted node has answered, the report says so (the tracker keeps the budget slot taken)…
    await eventually(
      async () =>
        expect(await report()).toMatchObject({
          appliedGeneration: safe.generation,
          lastPrune: { height: 450 },
          activity: 'restarting',
          nodeReachable: false,
        }),
      { timeoutMs: 10_000, description: 'a report showing the prune done, the node not seen since' },
    )
    // …and once a tick has seen it answer, it is serving again, at its new base.
    controller.runSoon()
    await eventually(
      async () =>
        expect(await report()).toMatchObject({ activity: 'serving', nodeReachable: true, nodeBase: 450 }),
      { timeoutMs: 10_000, description: 'a report showing the node serving again' },
    )
    const laterReport = await report()
    expect(laterReport?.bootId).toBe(firstReport?.bootId)
    expect(laterReport?.seq).toBeGreaterThan(firstReport?.seq ?? Number.POSITIVE_INFINITY)

    // Redis goes away: reports fail fast and are counted, the loop goes on; they resume when it returns.
    await redis.kill()
    const failed = () =>
      s.metrics.registry
        .metrics()
        .then((text) => metricValue(text, 'ghostfleet_fleet_reports_total', { outcome: 'failed' }) ?? 0)
    await eventually(async () => expect(await failed()).toBeGreaterThan(2), { timeoutMs: 10_000 })
    expect(s.logs.filter((l) => /cannot publish reports/.test(String(l['msg'])))).toHaveLength(1)
    expect(metricValue(await s.metrics.registry.metrics(), 'ghostfleet_fleet_redis_connected')).toBe(0)
    expect(controller.snapshot().activity).toBe('idle')

    await redis.restart()
    await eventually(async () => expect(await report()).toMatchObject({ lastPrune: { height: 450 } }), {
      timeoutMs: 15_000,
      description: 'reports to reach the restarted Redis',
    })
    expect(s.logs.filter((l) => /reports reach Redis again/.test(String(l['msg'])))).toHaveLength(1)
    expect(metricValue(await s.metrics.registry.metrics(), 'ghostfleet_fleet_redis_connected')).toBe(1)
  })
})

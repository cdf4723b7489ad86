import type { NodeRpcClient, NodeStatus } from '@ghostfleet/cometbft'
import type { PoolFacts } from '@ghostfleet/kyve'
import { createLogger } from '@ghostfleet/telemetry'
import { eventually, metricValue, type TempDir, tempDir } from '@ghostfleet/testkit'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Controller } from '../src/control/controller.js'
import type { Decision, DecisionInput, DecisionSource } from '../src/control/decision-source.js'
import type { NodeLifecycle } from '../src/control/node-lifecycle.js'
import { PoolRefresher } from '../src/control/pool-refresher.js'
import type { PruneResultLike } from '../src/control/prune-operation.js'
import { SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'
import { createSidecarMetrics } from '../src/telemetry/sidecar-metrics.js'

/*
 * The controller with a decision source that is not the local decider — as a tracker will be in fleet mode —
 * and fakes for the node and the pruner, to check the wiring the end-to-end tests cannot provoke: a proposed
 * prune height above what this sidecar knows is validated is refused before the node is touched; a safe one is
 * carried out in order; a failing decision source does not end the loop; a shutdown abandons a prune.
 */

let dir: TempDir
let controller: Controller | undefined
beforeEach(async () => {
  dir = await tempDir('gf-controller-')
})
afterEach(async () => {
  await controller?.stop()
  controller = undefined
  await dir.remove()
})

function world(options: {
  /** The decision without its pool: the fake source rests every decision on the tick's snapshot. */
  decide: (input: DecisionInput) => Omit<Decision, 'pool'> | Promise<Omit<Decision, 'pool'>>
  pool: number
  node: number
}) {
  const events: string[] = []
  const chain = { height: options.node, base: 1 }
  let running = false
  const node: NodeLifecycle = {
    start: async () => {
      running = true
      events.push('start')
    },
    stop: async () => {
      running = false
      events.push('stop')
    },
    state: () => (running ? 'running' : 'stopped'),
    pid: () => (running ? 4242 : null),
    uptimeMs: () => 0,
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
  const answer = (): PoolFacts => ({
    poolId: 1,
    poolHeightKey: String(options.pool),
    poolHeight: options.pool,
    maxBundleSize: 1,
    uploadInterval: 4320,
    status: 'POOL_STATUS_ACTIVE',
    disabled: false,
    endpoint: 'http://kyve',
    fetchedAt: Date.now(),
  })
  const pool = new PoolRefresher({
    source: { getPool: async () => answer() },
    poolId: 1,
    retry: { minMs: 10, maxMs: 10 },
  })
  const metrics = createSidecarMetrics({
    chainId: 'kyve-1',
    poolId: 1,
    endpoints: ['http://kyve'],
    processMetrics: false,
  })
  const prunes: number[] = []
  const pruneImpl = {
    run: async (h: number, _signal: AbortSignal): Promise<PruneResultLike> => {
      prunes.push(h)
      events.push(`prune ${h}`)
      const result = {
        fromBase: chain.base,
        toBase: h,
        blocksPruned: h - chain.base,
        bytesBefore: 10,
        bytesAfter: 5,
        durationMs: 1,
        noop: false,
      }
      chain.base = h
      return result
    },
  }
  const decisions: DecisionSource = {
    name: 'tracker',
    decide: async (input) => ({ ...(await options.decide(input)), pool: input.pool }),
  }
  return { events, chain, node, rpc, pool, metrics, prunes, pruneImpl, decisions }
}

async function startController(w: ReturnType<typeof world>, mode: 'normal' | 'ghost' = 'ghost') {
  const store = new SidecarStateStore(dir.path)
  const state = new StateKeeper(store, { ...(await store.load()), mode, pruneClockStartedAt: Date.now() })
  controller = new Controller(
    {
      intervalMs: 20,
      maxPoolAgeMs: 60_000,
      thresholds: { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
      pruning: { enabled: true, intervalMs: 1, margin: 1 },
      dataSizeEveryMs: 60_000,
    },
    {
      node: w.node,
      rpc: w.rpc,
      pool: w.pool,
      decisions: w.decisions,
      addressBook: {
        reconcile: async (m) => {
          w.events.push(`reconcile ${m}`)
          return `reconciled ${m}`
        },
      },
      state,
      metrics: w.metrics,
      log: createLogger({ name: 'test', level: 'silent' }),
      now: Date.now,
      waitUntilUnlocked: async () => undefined,
      prune: (h, signal) => w.pruneImpl.run(h, signal),
      dataDirBytes: async () => 1,
      checkHome: async () => null,
      onFatal: (error) => {
        throw error
      },
    },
  )
  await controller.start()
  return { state, controller }
}

const proposal = (pruneToHeight: number | null): Omit<Decision, 'pool'> => ({
  mode: 'ghost',
  pruneToHeight,
  reason: 'tracker says so',
  decidedBy: 'tracker',
  diff: null,
  pruneRefusal: null,
})

describe('Controller', () => {
  it('refuses a proposed prune height above its own safe height, without touching the node', async () => {
    // Pool 1000, node 1100: the sidecar's own safe height is 999. The "tracker" asks for 1050.
    const w = world({ pool: 1000, node: 1100, decide: () => proposal(1050) })
    await startController(w)
    await eventually(async () =>
      expect(
        metricValue(await w.metrics.registry.metrics(), 'ghostfleet_prune_refusals_total', {
          reason: 'above-own-safe-height',
        }),
      ).toBeGreaterThanOrEqual(3),
    )
    expect(w.prunes).toEqual([])
    expect(w.events).toEqual(['start'])
    expect(controller?.snapshot().decision?.decidedBy).toBe('tracker')
  })

  it('carries out a safe proposal in order: stop, prune, persist, start, then verifies the base', async () => {
    let asked = false
    const w = world({
      pool: 1000,
      node: 1100,
      decide: () => {
        const p = proposal(asked ? null : 900)
        asked = true
        return p
      },
    })
    const { state } = await startController(w)
    await eventually(async () =>
      expect(
        metricValue(await w.metrics.registry.metrics(), 'ghostfleet_prune_verifications_total', {
          outcome: 'match',
        }),
      ).toBe(1),
    )
    expect(w.events).toEqual(['start', 'stop', 'prune 900', 'start'])
    expect(state.get().lastPrune).toMatchObject({ toHeight: 900, fromBase: 1, blocks: 899 })
    expect((await new SidecarStateStore(dir.path).load()).lastPrune?.toHeight).toBe(900)
    const metrics = await w.metrics.registry.metrics()
    expect(metricValue(metrics, 'ghostfleet_prunes_total', { outcome: 'ok' })).toBe(1)
    expect(metricValue(metrics, 'ghostfleet_pruned_blocks_total')).toBe(899)
    expect(metricValue(metrics, 'ghostfleet_node_restarts_total', { reason: 'prune' })).toBe(1)
  })

  it('keeps ticking when the decision source fails', async () => {
    let calls = 0
    const w = world({
      pool: 1000,
      node: 1100,
      decide: () => {
        calls++
        if (calls <= 2) throw new Error('tracker unreachable')
        return proposal(null)
      },
    })
    await startController(w)
    await eventually(() => expect(calls).toBeGreaterThanOrEqual(5))
    expect(controller?.snapshot().errors.filter((e) => e.message === 'tracker unreachable')).toHaveLength(2)
    expect(w.events).toEqual(['start'])
  })

  it('abandons an in-flight prune on shutdown and leaves the node stopped', async () => {
    const w = world({ pool: 1000, node: 1100, decide: () => proposal(900) })
    let pruning = false
    w.pruneImpl.run = (_h, signal) =>
      new Promise((_resolve, reject) => {
        pruning = true
        signal.addEventListener('abort', () => reject(new Error('aborted at a batch boundary')), {
          once: true,
        })
      })
    const { state } = await startController(w)
    await eventually(() => expect(pruning).toBe(true))
    await controller?.stop()
    expect(w.events).toEqual(['start', 'stop', 'stop'])
    expect(state.get().lastPrune).toBeNull()
    expect(state.get().lastPruneAttemptAt).not.toBeNull()
    expect(controller?.snapshot().activity).toBe('stopped')
  })

  it('starts a node it finds stopped again, with the address book in line with the mode first', async () => {
    const w = world({ pool: 1000, node: 1100, decide: () => proposal(null) })
    const start = w.node.start
    let attempts = 0
    w.node.start = async () => {
      attempts++
      if (attempts === 1) {
        w.events.push('spawn failed')
        throw new Error('could not start the node (osmosisd): ENOENT')
      }
      await start()
    }
    await startController(w)
    await eventually(() => expect(w.events).toContain('start'))
    expect(w.events.slice(0, 3)).toEqual(['spawn failed', 'reconcile ghost', 'start'])
    const metrics = await w.metrics.registry.metrics()
    expect(metricValue(metrics, 'ghostfleet_node_restarts_total', { reason: 'start_failure' })).toBe(1)
    expect(controller?.snapshot().errors.some((e) => e.where === 'node-start')).toBe(true)
  })
})

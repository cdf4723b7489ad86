import { readFile } from 'node:fs/promises'
import path from 'node:path'
import {
  answeredHeight,
  eventually,
  freePort,
  getJson,
  metricValue,
  nodeStatus,
  testConfig,
} from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { SimNet } from './helpers/simnet.js'

/*
 * The whole cycle against real processes: a producer simnode, a follower supervised by `ghostfleet-sidecar
 * start`, the simulated KYVE API (its pool driven by the test). normal → ghost when far ahead → pruned to a safe
 * height → normal when the pool catches up. Throughout, a watcher asks the follower for every height from the
 * pool height up whenever the follower answers, and records any height the node says it no longer has.
 */

let net: SimNet | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
})

/** Polls the follower: every height ≥ the current pool height must be served whenever the node is up. */
function watchAvailability(rpcUrl: string, poolHeight: () => number) {
  const missing: string[] = []
  let checks = 0
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const pool = poolHeight()
      const status = await nodeStatus(rpcUrl)
      if (status !== null && pool > 0) {
        for (let h = pool; h <= Math.min(status.height, pool + 60); h++) {
          const answer = await getJson(`${rpcUrl}/block?height=${h}`, 2_000)
          if (answer === null) break // the node went down (a restart): not a missing block
          if (answer.status !== 200)
            missing.push(`height ${h} (pool ${pool}): ${JSON.stringify(answer.body).slice(0, 200)}`)
        }
        checks++
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  return {
    missing,
    checks: () => checks,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

describe('sidecar end to end: the full cycle', () => {
  it('normal → ghost → pruned to a safe height → normal, never losing a height the pool needs', async () => {
    net = await SimNet.create()
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    let poolHeight = 5
    const setPool = async (height: number) => {
      await kyve.setPool(1, { currentKey: String(height) })
      poolHeight = height
    }
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({ binary: await net.nodeBinary(), follower, kyveUrl: kyve.url, httpPort }),
    )
    const watcher = watchAvailability(follower.rpcUrl, () => poolHeight)
    const sidecar = net.startSidecar(configDir, httpPort)
    try {
      // 1. Far ahead of the pool (paused at 5): ghost. The node stops syncing.
      const ghost = await eventually(
        async () => {
          const status = await sidecar.status()
          expect(status['mode']).toBe('ghost')
          expect(status['node'].reachable).toBe(true)
          return status
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'ghost mode' },
      )
      expect(ghost['node'].height - 5).toBeGreaterThanOrEqual(40)
      const frozen = await answeredHeight(follower.rpcUrl)
      await eventually(async () => expect(await producer.height()).toBeGreaterThan(frozen + 20), {
        timeoutMs: 20_000,
      })
      expect((await nodeStatus(follower.rpcUrl))?.height ?? frozen).toBeLessThanOrEqual(frozen + 1)

      // 2. The pool advances but stays more than heightDifferenceMin behind: still ghost, and pruned to pool − 1.
      const pool = frozen - 25
      await setPool(pool)
      const pruned = await eventually(
        async () => {
          const status = await sidecar.status()
          expect(status['pruning'].lastPrune?.toHeight).toBe(pool - 1)
          const node = await nodeStatus(follower.rpcUrl)
          expect(node?.base).toBe(pool - 1)
          return status
        },
        { timeoutMs: 30_000, intervalMs: 200, description: 'a prune to pool − 1' },
      )
      expect(pruned['mode']).toBe('ghost')
      const lastPrune = pruned['pruning'].lastPrune
      expect(lastPrune.toHeight).toBeLessThanOrEqual(pool - 1)
      expect(lastPrune.blocks).toBeGreaterThan(0)
      expect(lastPrune.bytesBefore).toBeGreaterThan(0)
      // Persisted, so the interval survives a restart.
      const state = JSON.parse(await readFile(path.join(configDir, 'state.json'), 'utf8'))
      expect(state.lastPrune.toHeight).toBe(pool - 1)
      expect(sidecar.logsMatching(/^pruned blocks/).length).toBeGreaterThan(0)
      // The verification is logged on the tick after the restart, which can come after the test saw the new base.
      await eventually(() => expect(sidecar.logsMatching(/^prune verified/).length).toBeGreaterThan(0), {
        timeoutMs: 30_000,
        description: 'the prune verified against the restarted node',
      })

      // 3. The pool catches up to within heightDifferenceMin: normal again, and the node syncs on (it is soon far
      //    enough ahead to turn ghost again: the normal period is short when the producer is close).
      await setPool(frozen - 10)
      await eventually(
        async () => {
          expect(sidecar.logsMatching(/^now in normal mode/)).toHaveLength(1)
          const node = await nodeStatus(follower.rpcUrl)
          expect(node?.height ?? 0).toBeGreaterThan(frozen + 10)
        },
        { timeoutMs: 60_000, intervalMs: 200, description: 'back to normal, syncing' },
      )
      const switched = sidecar.logsMatching(/^switching to normal mode/)[0]
      expect(String(switched?.['msg'])).toMatch(/node is \d+ blocks ahead of the pool \(min 20\): normal/)

      const metrics = await sidecar.metrics()
      expect(metricValue(metrics, 'ghostfleet_mode_switches_total', { to: 'ghost' })).toBeGreaterThanOrEqual(
        1,
      )
      expect(metricValue(metrics, 'ghostfleet_mode_switches_total', { to: 'normal' })).toBeGreaterThanOrEqual(
        1,
      )
      expect(metricValue(metrics, 'ghostfleet_prunes_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1)
      expect(metricValue(metrics, 'ghostfleet_pruned_blocks_total')).toBeGreaterThanOrEqual(lastPrune.blocks)
      expect(metricValue(metrics, 'ghostfleet_prune_verifications_total', { outcome: 'mismatch' })).toBe(0)
      expect(metricValue(metrics, 'ghostfleet_pool_height')).toBe(frozen - 10)
      const modes = ['normal', 'ghost'].map((mode) => metricValue(metrics, 'ghostfleet_node_mode', { mode }))
      expect(modes.sort()).toEqual([0, 1])
      expect(metricValue(metrics, 'ghostfleet_target_max_height')).toBe(frozen - 10 + 40)
      // Ready (in sync, or a ghost) or catching up — never 503 for long while the node runs.
      await eventually(async () => {
        const ready = await getJson(`${sidecar.httpUrl}/readyz`)
        expect([200, 422]).toContain(ready?.status)
      })
    } finally {
      await watcher.stop()
    }
    expect(watcher.checks()).toBeGreaterThan(10)
    expect(watcher.missing).toEqual([])

    // 4. SIGTERM: the node is stopped cleanly, the sidecar exits 0, the state says no node runs.
    sidecar.signal('SIGTERM')
    expect(await sidecar.exited).toBe(0)
    expect(await nodeStatus(follower.rpcUrl)).toBeNull()
    const finalState = JSON.parse(await readFile(path.join(configDir, 'state.json'), 'utf8'))
    expect(finalState.nodePid).toBeNull()
  }, 240_000)
})

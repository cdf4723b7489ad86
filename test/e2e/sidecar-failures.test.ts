import { readFile } from 'node:fs/promises'
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
 * Failures the sidecar must ride out: a node that crashes over and over (restarted with growing delays, counted),
 * and a KYVE API that fails or disappears (no crash, the mode held, the condition reported, and no prune on a
 * pool height that has gone stale).
 */

let net: SimNet | undefined
afterEach(async () => {
  await net?.cleanup()
  net = undefined
})

describe('sidecar end to end: failures', () => {
  it('restarts a crash-looping node with growing, capped delays and counts the crashes', async () => {
    net = await SimNet.create()
    const producer = await net.startProducer(200)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({ pools: [{ id: 1, paused: true, currentKey: '5' }] })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({
        binary: await net.nodeBinary(),
        follower,
        kyveUrl: kyve.url,
        httpPort,
        flags: '--log-level error --crash-after 300',
        backoff: { initial: 0.2, max: 0.8 },
        logFile: net.path('node.log'),
      }),
    )
    const sidecar = net.startSidecar(configDir, httpPort)
    const crashes = await eventually(
      () => {
        const entries = sidecar.logsMatching(/^node crashed/)
        expect(entries.length).toBeGreaterThanOrEqual(5)
        return entries
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'five crashes' },
    )
    expect(crashes.slice(0, 5).map((c) => c['restartInMs'])).toEqual([200, 400, 800, 800, 800])
    // The delay is really waited: each restart comes at least its delay after the crash before it.
    const starts = sidecar
      .logs()
      .filter((l) => l['msg'] === 'node started')
      .map((l) => Number(l['time']))
    for (let i = 0; i < 4; i++) {
      const crashAt = Number(crashes[i]?.['time'])
      const nextStart = starts.find((t) => t >= crashAt)
      expect(nextStart).toBeDefined()
      expect((nextStart as number) - crashAt).toBeGreaterThanOrEqual(Number(crashes[i]?.['restartInMs']) - 5)
    }
    await eventually(async () => {
      const metrics = await sidecar.metrics()
      expect(
        metricValue(metrics, 'ghostfleet_node_restarts_total', { reason: 'crash' }),
      ).toBeGreaterThanOrEqual(5)
    })
    const status = await sidecar.status()
    expect(status['node'].process.crashRestarts).toBeGreaterThanOrEqual(4)
    // node.output = "file": every run's output is kept, appended.
    const nodeLog = await readFile(net.path('node.log'), 'utf8')
    // (Each run ends with "simulated crash after 300 ms" — or, if another process on this shared machine took the
    // node's port meanwhile, with the node's "Error: listen EADDRINUSE": output of every run all the same.)
    expect(nodeLog.match(/^(simulated crash after 300 ms|Error: )/gm)?.length ?? 0).toBeGreaterThanOrEqual(4)
    expect(status['lastErrors'].some((e: { where: string }) => e.where === 'node')).toBe(true)
    // SIGTERM in the middle of the loop ends it cleanly.
    sidecar.signal('SIGTERM')
    expect(await sidecar.exited).toBe(0)
    expect(await nodeStatus(follower.rpcUrl)).toBeNull()
  }, 120_000)

  it('rides out a KYVE API outage: no crash, mode held, condition reported, no prune on a stale pool height', async () => {
    net = await SimNet.create()
    const producer = await net.startProducer(100)
    const follower = await net.follower(producer)
    const kyve = await net.startKyve({
      pools: [{ id: 1, paused: true, currentKey: '5', maxBundleSize: 1, uploadInterval: 4320 }],
    })
    const httpPort = await freePort()
    const configDir = net.path('sidecar')
    await net.writeConfig(
      configDir,
      testConfig({
        binary: await net.nodeBinary(),
        follower,
        kyveUrl: kyve.url,
        httpPort,
        // The first prune is due 18 s after the first start; the pool height goes stale after 3 s.
        pruningIntervalHours: 0.005,
        maxPoolAgeSeconds: 3,
      }),
    )
    const sidecar = net.startSidecar(configDir, httpPort)
    const startedAt = Date.now()
    await eventually(async () => expect((await sidecar.status())['mode']).toBe('ghost'), {
      timeoutMs: 60_000,
      intervalMs: 200,
      description: 'ghost mode',
    })
    const frozen = await answeredHeight(follower.rpcUrl)
    // The sidecar learns a pool height that would allow a prune to frozen − 26 …
    await kyve.setPool(1, { currentKey: String(frozen - 25) })
    await eventually(async () => expect((await sidecar.status())['pool'].height).toBe(frozen - 25))
    // … and then the API fails on every request.
    kyve.setFault({ kind: 'error500' })
    expect(Date.now() - startedAt).toBeLessThan(18_000) // the prune was not due yet
    const refused = await eventually(
      () => {
        const entries = sidecar.logsMatching(/prune due but not safe \(pool-height-stale\)/)
        expect(entries.length).toBeGreaterThanOrEqual(1)
        return entries
      },
      { timeoutMs: 40_000, intervalMs: 200, description: 'the stale refusal' },
    )
    expect(String(refused[0]?.['msg'])).toMatch(/more than the 3000 ms limit/)
    const status = await sidecar.status()
    expect(status['mode']).toBe('ghost')
    expect(status['pool'].api.condition).toBe('stale')
    expect(status['pool'].api.consecutiveFailures).toBeGreaterThan(0)
    expect(status['pool'].api.lastError).toMatch(/500/)
    expect(status['pruning'].lastPrune).toBeNull()
    const ready = await getJson(`${sidecar.httpUrl}/readyz`)
    expect(ready?.status).toBe(200)
    expect(ready?.body).toMatchObject({ kyve: { condition: 'stale' } })
    expect((await nodeStatus(follower.rpcUrl))?.base).toBe(1)
    const metrics = await sidecar.metrics()
    expect(metricValue(metrics, 'ghostfleet_prunes_total', { outcome: 'ok' })).toBe(0)
    expect(
      metricValue(metrics, 'ghostfleet_prune_refusals_total', { reason: 'pool-height-stale' }),
    ).toBeGreaterThan(0)
    expect(
      metricValue(metrics, 'ghostfleet_kyve_requests_total', { endpoint: kyve.url, outcome: 'http-error' }),
    ).toBeGreaterThan(0)
    expect(metricValue(metrics, 'ghostfleet_kyve_endpoint_up', { endpoint: kyve.url })).toBe(0)
    expect(sidecar.logsMatching(/KYVE API failing/).length).toBe(1) // logged once, not every tick

    // The API comes back: the prune goes ahead to the safe height.
    kyve.clearFaults()
    await eventually(
      async () => {
        expect((await nodeStatus(follower.rpcUrl))?.base).toBe(frozen - 26)
        expect((await sidecar.status())['pruning'].lastPrune?.toHeight).toBe(frozen - 26)
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the prune after recovery' },
    )
    expect(sidecar.logsMatching(/KYVE API answers again/).length).toBe(1)

    // The API disappears altogether (connection refused): still no crash, still ghost, node still serving.
    await kyve.stop()
    await eventually(
      async () => {
        const s = await sidecar.status()
        expect(s['pool'].api.lastError).toMatch(/ECONNREFUSED|cannot reach/)
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    )
    expect(sidecar.hasExited()).toBe(false)
    expect((await sidecar.status())['mode']).toBe('ghost')
    expect((await nodeStatus(follower.rpcUrl))?.height).toBeGreaterThanOrEqual(frozen)
    sidecar.signal('SIGTERM')
    expect(await sidecar.exited).toBe(0)
  }, 180_000)
})

import path from 'node:path'
import type { NodeRpcClient, NodeStatus } from '@ghostfleet/cometbft'
import { loadAllReports } from '@ghostfleet/coordination'
import { createLogger, createMetricsRegistry } from '@ghostfleet/telemetry'
import {
  eventually,
  goleveldbTool,
  requireGoleveldb,
  startRedis,
  type TempDir,
  type TestRedis,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readSealedManifest } from '../src/checkpoint/index.js'
import { Controller } from '../src/control/controller.js'
import type { NodeLifecycle } from '../src/control/node-lifecycle.js'
import { CheckpointCatalog } from '../src/donation/checkpoint-catalog.js'
import { createDonationMetrics } from '../src/donation/donation-metrics.js'
import { Donor } from '../src/donation/donor.js'
import { buildStatusReport } from '../src/http/status-report.js'
import { writeGenesis } from './checkpoint/fixtures.js'
import {
  freshDir,
  newFleetKey,
  SIDECAR_ID,
  startTestSidecar,
  type TestSidecar,
  TestTracker,
  THRESHOLDS,
} from './fleet-helpers.js'

/*
 * The donation request's way through fleet mode, as `start` wires it: the tracker writes a desired state carrying
 * `donate`, signed with the fleet key, to a real Redis; the tracker-driven decision source hands it to the
 * controller, which carries it out once; the donation states reach the tracker in the sidecar's reports (Redis),
 * and /status lists the checkpoint. The node is a stand-in (the donor's real node process is in donation.test.ts);
 * its home is a real goleveldb home, so the checkpoint is real.
 */

requireGoleveldb()

let redis: TestRedis
let dir: TempDir
let tracker: TestTracker
let sidecar: TestSidecar
let controller: Controller
let donor: Donor
const fleetKey = newFleetKey()
const restarts: string[] = []

beforeAll(async () => {
  redis = await startRedis()
  dir = await freshDir()
  const home = path.join(dir.path, 'home')
  const gl = await goleveldbTool()
  await gl.generateHome({ home, chainId: 'donor-chain-1', blocks: 600 })
  await writeGenesis(home, 'donor-chain-1')

  tracker = new TestTracker(redis.url)
  await tracker.lead()
  await tracker.publishPool(500)
  sidecar = await startTestSidecar({ redisUrl: redis.url, dir, mode: 'ghost', fleetKey })
  sidecar.kyve.height = 500
  let running = false
  let startedAt = 0
  const node: NodeLifecycle = {
    start: async () => {
      running = true
      startedAt = Date.now()
      restarts.push('start')
    },
    stop: async () => {
      running = false
      restarts.push('stop')
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
      return { lastBlockHeight: 600, appVersion: 0, version: '', data: '' }
    },
    status: async () => {
      if (!running) throw new Error('down')
      return {
        nodeInfo: { id: 'a'.repeat(40), listenAddr: '', network: 'sim', version: '0.37.18', moniker: 'm' },
        syncInfo: {
          latestBlockHeight: 600,
          latestBlockTime: new Date(),
          earliestBlockHeight: 1,
          earliestBlockTime: new Date(),
          catchingUp: true,
        },
      } satisfies NodeStatus
    },
  }
  const log = createLogger({ name: 'test', level: 'silent' })
  donor = new Donor({
    home,
    catalog: new CheckpointCatalog({
      dir: path.join(dir.path, 'checkpoints'),
      fleetKey,
      ttlMs: 3_600_000,
      maxPinnedBytes: 1024 ** 3,
    }),
    fleetKey,
    sidecarId: SIDECAR_ID,
    metrics: createDonationMetrics(createMetricsRegistry()),
    log,
  })
  controller = new Controller(
    {
      intervalMs: 60_000,
      maxPoolAgeMs: 60_000,
      thresholds: THRESHOLDS,
      pruning: { enabled: false, intervalMs: 3_600_000, margin: 1 },
      dataSizeEveryMs: 60_000,
    },
    {
      node,
      rpc,
      pool: sidecar.pool,
      decisions: sidecar.decisions,
      addressBook: { reconcile: async (mode) => `reconciled ${mode}` },
      state: sidecar.keeper,
      metrics: sidecar.metrics,
      log,
      now: Date.now,
      waitUntilUnlocked: async () => undefined,
      prune: async () => {
        throw new Error('no prunes here')
      },
      dataDirBytes: async () => 4096,
      checkHome: async () => null,
      onFatal: (error) => {
        throw error
      },
      donor,
    },
  )
  await controller.start()
  const running_ = controller
  sidecar.fleet.start({
    observe: () => ({ snapshot: running_.snapshot(), activity: running_.memberActivity() }),
    wake: () => running_.runSoon(),
  })
}, 120_000)

afterAll(async () => {
  await controller?.stop()
  await donor?.close()
  await sidecar?.close()
  await tracker?.close()
  await dir?.remove()
  await redis?.stop()
})

const report = () => loadAllReports(tracker.redis).then((all) => all.reports.get(SIDECAR_ID))

describe('a donation through fleet mode', () => {
  it('carries out a signed donate once and reports it ready with the checkpoint id', async () => {
    await eventually(async () => expect((await report())?.activity).toBe('serving'), { timeoutMs: 10_000 })
    expect((await report())?.donations).toBeUndefined()
    restarts.length = 0
    const donate = { bootstrapId: 'boot-fleet-1', requestedBy: 'new-host-9', expiresAt: Date.now() + 600_000 }
    await tracker.write({ mode: 'ghost', donate }, fleetKey)
    await eventually(
      async () =>
        expect((await report())?.donations).toEqual([
          expect.objectContaining({ bootstrapId: 'boot-fleet-1', state: 'ready' }),
        ]),
      { timeoutMs: 30_000, description: 'the ready donation in the report' },
    )
    const ready = (await report())?.donations?.[0]
    expect(ready?.checkpointId).toMatch(/^600-/)
    expect(restarts).toEqual(['stop', 'start'])
    const manifest = await readSealedManifest(
      path.join(dir.path, 'checkpoints', ready?.checkpointId as string),
      fleetKey,
    )
    expect(manifest).toMatchObject({ donor: SIDECAR_ID, chainId: 'donor-chain-1' })

    // The tracker re-issues the same request (a new generation, not yet cleared): not carried out again.
    await tracker.write({ mode: 'ghost', donate }, fleetKey)
    controller.runSoon()
    await eventually(async () => expect(sidecar.keeper.get().appliedGeneration).toBe(2))
    expect(restarts).toEqual(['stop', 'start'])

    await donor.sweep()
    const status = buildStatusReport(controller.snapshot(), {
      version: 'test',
      chainId: 'kyve-1',
      poolId: 1,
      configDir: dir.path,
      startedAt: Date.now(),
      maxPoolAgeMs: 60_000,
    }) as { checkpoints: { checkpoints: Array<{ id: string; state: string }>; pinnedBytes: number } }
    expect(status.checkpoints.checkpoints).toEqual([
      expect.objectContaining({ id: ready?.checkpointId, state: 'ready' }),
    ])
    expect(status.checkpoints.pinnedBytes).toBe(0)
  })

  it('ignores an expired request', async () => {
    restarts.length = 0
    await tracker.write(
      {
        mode: 'ghost',
        donate: { bootstrapId: 'boot-fleet-2', requestedBy: 'new-host-9', expiresAt: Date.now() - 1 },
      },
      fleetKey,
    )
    controller.runSoon()
    await eventually(async () => expect(sidecar.keeper.get().appliedGeneration).toBe(3))
    expect(restarts).toEqual([])
    expect(donor.reports().map((r) => r.bootstrapId)).toEqual(['boot-fleet-1'])
  })
})

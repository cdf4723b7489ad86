import { createHash } from 'node:crypto'
import { lstat, mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises'
import path from 'node:path'
import { createNodeRpcClient } from '@ghostfleet/cometbft'
import type { DonationRequest } from '@ghostfleet/core'
import { createPeerClient, PeerRejectedError, type PeerServer, PeerStatusError } from '@ghostfleet/peer'
import { createLogger, createMetricsRegistry } from '@ghostfleet/telemetry'
import {
  eventually,
  freePort,
  type GoleveldbTool,
  goleveldbTool,
  requireGoleveldb,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SealCheckpointOptions, sealCheckpoint, verifyManifest } from '../src/checkpoint/index.js'
import { Controller } from '../src/control/controller.js'
import type { Decision, DecisionSource } from '../src/control/decision-source.js'
import type { NodeLifecycle } from '../src/control/node-lifecycle.js'
import { PoolRefresher } from '../src/control/pool-refresher.js'
import { CheckpointCatalog } from '../src/donation/checkpoint-catalog.js'
import { createDonationMetrics, type DonationMetrics } from '../src/donation/donation-metrics.js'
import { Donor } from '../src/donation/donor.js'
import { createGatewayMetrics } from '../src/gateway/gateway-metrics.js'
import { localNodeState } from '../src/gateway/local-node.js'
import { NodeForwarder } from '../src/gateway/node-forwarder.js'
import { createCheckpointRoutes } from '../src/peer/checkpoint-routes.js'
import { startPeerListener } from '../src/peer/peer-listener.js'
import { TransferGate } from '../src/peer/transfer-gate.js'
import { SidecarStateStore } from '../src/state/sidecar-state.js'
import { StateKeeper } from '../src/state/state-keeper.js'
import { waitUntilHomeIdle } from '../src/storage/home-idle.js'
import { pruneNodeHome } from '../src/storage/offline-prune.js'
import { NodeProcess } from '../src/supervisor/node-process.js'
import { createSidecarMetrics } from '../src/telemetry/sidecar-metrics.js'
import { newFleetKey } from './checkpoint/fixtures.js'
import { SimNet } from './helpers/simnet.js'

/*
 * The donor side of a bootstrap, with real parts: a goleveldb home written by the test kit, served by a simulated
 * node launched as a process tree by the sidecar's NodeProcess (it holds the databases' locks like a node), the
 * supervision loop carrying out the tracker's `donate`, the checkpoint library, and the peer listener serving the
 * checkpoint to a client signing with the fleet key. The decision source stands in for the tracker (its Redis path
 * is tested in fleet-*.test.ts); it hands the controller a donation request once.
 */

requireGoleveldb()

const HOST = 'new-host-1'
const DONOR_ID = 'donor-a'
const fleetKey = newFleetKey()
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

let net: SimNet
let gl: GoleveldbTool
let home: string
let rpcUrl: string
let controller: Controller
let node: NodeProcess
let catalog: CheckpointCatalog
let donor: Donor
let donationMetrics: DonationMetrics
let listener: PeerServer
let clock = { skewMs: 0 }
/** What the stand-in tracker asks for at the next tick (taken once). */
let nextDonate: DonationRequest | null = null
let nextPrune: number | null = null
/** The pool height the stand-in KYVE answers with (a prune's safe height rests on it). */
let poolHeight = 1000
/** Timings of the node's stops and starts and of the take, in order, for the downtime claim. */
const timeline: Array<{ what: string; at: number; ms?: number }> = []
/** When set, the next seal fails with this message (a disk error while hashing). */
let sealFailure: string | null = null
/** Set by the seal wrapper: whether the node answered /status while the checkpoint was being sealed. */
const sealing: { nodeAnsweredDuringSeal: boolean; startedAt: number; endedAt: number } = {
  nodeAnsweredDuringSeal: false,
  startedAt: 0,
  endedAt: 0,
}

function request(bootstrapId: string): DonationRequest {
  return { bootstrapId, requestedBy: HOST, expiresAt: Date.now() + 600_000 }
}

async function donate(bootstrapId: string, state: 'ready' | 'failed', pruneTo: number | null = null) {
  nextDonate = request(bootstrapId)
  nextPrune = pruneTo
  controller.runSoon()
  await eventually(
    () => expect(donor.reports().find((r) => r.bootstrapId === bootstrapId)?.state).toBe(state),
    { timeoutMs: 60_000, description: `donation ${bootstrapId} ${state}` },
  )
  const report = donor.reports().find((r) => r.bootstrapId === bootstrapId)
  if (report === undefined) throw new Error(`donation ${bootstrapId} vanished from the reports`)
  return report
}

beforeAll(async () => {
  net = await SimNet.create('gf-donation-')
  gl = await goleveldbTool()
  home = (await net.initHome('donor')).home
  await gl.generateHome({ home, chainId: 'sim-1', blocks: 1500 })
  const rpcPort = await freePort()
  const p2pPort = await freePort()
  rpcUrl = `http://127.0.0.1:${rpcPort}`
  const binary = await net.nodeBinary()
  node = new NodeProcess({
    launchSpec: () => ({
      command: binary,
      args: [
        'start',
        '--home',
        home,
        '--rpc.laddr',
        `tcp://127.0.0.1:${rpcPort}`,
        '--p2p.laddr',
        `tcp://127.0.0.1:${p2pPort}`,
        '--log-level',
        'error',
      ],
      env: {},
    }),
    output: { kind: 'file', path: net.path('node.log') },
    stopGraceMs: 10_000,
    backoff: { initialMs: 200, maxMs: 1_000, resetAfterMs: 60_000 },
  })
  const timed: NodeLifecycle = {
    start: async () => {
      const t = Date.now()
      await node.start()
      timeline.push({ what: 'start', at: t, ms: Date.now() - t })
    },
    stop: async () => {
      const t = Date.now()
      await node.stop()
      timeline.push({ what: 'stop', at: t, ms: Date.now() - t })
    },
    state: () => node.state(),
    pid: () => node.pid(),
    uptimeMs: (now) => node.uptimeMs(now),
    restartCount: () => node.restartCount(),
  }

  const registry = createMetricsRegistry()
  donationMetrics = createDonationMetrics(registry)
  catalog = new CheckpointCatalog({
    dir: net.path('checkpoints'),
    fleetKey,
    ttlMs: 3_600_000,
    maxPinnedBytes: 10 * 1024 ** 3,
    now: () => Date.now() + clock.skewMs,
  })
  const rpc = createNodeRpcClient({ endpoint: rpcUrl, timeoutMs: 2_000 })
  donor = new Donor({
    home,
    catalog,
    fleetKey,
    sidecarId: DONOR_ID,
    metrics: donationMetrics,
    log: createLogger({ name: 'donor', level: 'silent' }),
    seal: async (options: SealCheckpointOptions) => {
      sealing.startedAt = Date.now()
      // Sealing starts only after the restart; the node answers while the checkpoint is hashed.
      await eventually(async () => expect((await rpc.status()).syncInfo.latestBlockHeight).toBe(1500), {
        timeoutMs: 20_000,
        description: 'the node answers during sealing',
      })
      sealing.nodeAnsweredDuringSeal = true
      if (sealFailure !== null) {
        const message = sealFailure
        sealFailure = null
        throw new Error(message)
      }
      const sealed = await sealCheckpoint(options)
      sealing.endedAt = Date.now()
      return sealed
    },
  })
  const timedDonor = Object.assign(Object.create(donor) as Donor, {
    take: async (r: DonationRequest) => {
      const t = Date.now()
      await donor.take(r)
      timeline.push({ what: 'take', at: t, ms: Date.now() - t })
    },
  })

  await mkdir(net.path('cfg'))
  const store = new SidecarStateStore(net.path('cfg'))
  const state = new StateKeeper(store, { ...(await store.load()), mode: 'ghost' })
  const decisions: DecisionSource = {
    name: 'tracker',
    decide: async (input): Promise<Decision> => {
      const donateNow = nextDonate
      const pruneNow = nextPrune
      nextDonate = null
      nextPrune = null
      return {
        mode: input.mode,
        pruneToHeight: pruneNow,
        reason: 'stand-in tracker',
        decidedBy: 'tracker',
        diff: null,
        pruneRefusal: null,
        pool: input.pool,
        donate: donateNow,
      }
    },
  }
  controller = new Controller(
    {
      intervalMs: 60_000,
      maxPoolAgeMs: 60_000,
      thresholds: { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
      pruning: { enabled: false, intervalMs: 3_600_000, margin: 1 },
      dataSizeEveryMs: 60_000,
    },
    {
      node: timed,
      rpc,
      pool: new PoolRefresher({
        source: {
          getPool: async () => ({
            poolId: 1,
            poolHeightKey: String(poolHeight),
            poolHeight,
            maxBundleSize: 100,
            uploadInterval: 60,
            status: 'POOL_STATUS_ACTIVE',
            disabled: false,
            endpoint: 'http://kyve',
            fetchedAt: Date.now(),
          }),
        },
        poolId: 1,
        retry: { minMs: 100, maxMs: 100 },
      }),
      decisions,
      addressBook: { reconcile: async (m) => `nothing to do for ${m}` },
      state,
      metrics: createSidecarMetrics({
        chainId: 'kyve-1',
        poolId: 1,
        endpoints: ['http://kyve'],
        processMetrics: false,
      }),
      log: createLogger({ name: 'controller', level: 'silent' }),
      now: Date.now,
      waitUntilUnlocked: () => waitUntilHomeIdle(home, { timeoutMs: 30_000 }),
      // The real offline pruner, compacting, so the node's tables a checkpoint links are deleted by the prune.
      prune: async (untilHeight, signal) => {
        const t = Date.now()
        const result = await pruneNodeHome({
          home,
          untilHeight,
          statePruning: true,
          forceCompact: true,
          signal,
        })
        timeline.push({ what: 'prune', at: t, ms: Date.now() - t })
        return result
      },
      dataDirBytes: async () => 1,
      checkHome: async () => null,
      onFatal: (error) => {
        throw error
      },
      donor: timedDonor,
    },
  )
  await controller.start()
  await eventually(async () => expect((await rpc.status()).syncInfo.latestBlockHeight).toBe(1500), {
    timeoutMs: 30_000,
    description: 'the donor node serves',
  })
  await eventually(
    () => {
      controller.runSoon()
      expect(localNodeState(controller.snapshot()).up).toBe(true)
    },
    { timeoutMs: 10_000, description: 'the supervision loop sees the node answer' },
  )

  const forwarder = new NodeForwarder(rpcUrl, 5_000)
  listener = await startPeerListener({
    listen: '127.0.0.1:0',
    key: fleetKey,
    sidecarId: DONOR_ID,
    nodeChainId: 'sim-1',
    local: () => localNodeState(controller.snapshot()),
    forwarder,
    maxConcurrent: 8,
    ratePerSecond: 1_000,
    metrics: createGatewayMetrics(registry),
    log: createLogger({ name: 'peer', level: 'silent' }),
    checkpoints: createCheckpointRoutes({
      catalog,
      gate: new TransferGate({ maxTransfers: 2, bytesPerSecond: null }),
      requesterOf: (id) => donor.requesterOf(id),
    }),
  })
}, 180_000)

afterAll(async () => {
  await listener?.close({ graceMs: 100 })
  await controller?.stop()
  await donor?.close()
  await net?.cleanup()
})

const client = createPeerClient({ key: fleetKey, sender: HOST, timeoutMs: 10_000 })

/** The donor as a restarted sidecar builds it: the same home, catalog and key; fresh metrics; no log. */
function reloadedDonor(): Donor {
  return new Donor({
    home,
    catalog,
    fleetKey,
    sidecarId: DONOR_ID,
    metrics: createDonationMetrics(createMetricsRegistry()),
    log: createLogger({ name: 'donor', level: 'silent' }),
  })
}

describe('a donation on a running donor', () => {
  let checkpointId: string

  it('takes the checkpoint in a stop of stop + links + start; the node serves again before sealing ends', async () => {
    const pidBefore = node.pid()
    timeline.length = 0
    const report = await donate('boot-0001', 'ready')
    expect(report.checkpointId).toMatch(/^1500-/)
    checkpointId = report.checkpointId as string
    // The node was restarted once, and serves.
    expect(node.pid()).not.toBe(pidBefore)
    expect(timeline.map((t) => t.what)).toEqual(['stop', 'take', 'start'])
    const [stop, take, start] = timeline as [(typeof timeline)[0], (typeof timeline)[0], (typeof timeline)[0]]
    const downtimeMs = ((await donationMetrics.lastDowntime.get()).values[0]?.value ?? Number.NaN) * 1000
    const parts = (stop.ms ?? 0) + (take.ms ?? 0) + (start.ms ?? 0)
    // Downtime is the node's stop, the take (links and small copies) and the start, plus the lock wait: seconds.
    expect(downtimeMs).toBeGreaterThanOrEqual(parts)
    expect(downtimeMs - parts).toBeLessThan(5_000)
    // Sealing began after the start returned and the node answered while it ran.
    expect(sealing.startedAt).toBeGreaterThanOrEqual(start.at)
    expect(sealing.nodeAnsweredDuringSeal).toBe(true)
    expect(sealing.endedAt).toBeGreaterThanOrEqual(sealing.startedAt)
    console.log(
      `donation: stop ${stop.ms} ms, take ${take.ms} ms, start ${start.ms} ms, downtime ${Math.round(downtimeMs)} ms; ` +
        `sealing ${sealing.endedAt - sealing.startedAt} ms after the restart`,
    )
    // The report and /status say so.
    const snapshot = controller.snapshot()
    expect(snapshot.donations).toEqual([
      expect.objectContaining({ bootstrapId: 'boot-0001', state: 'ready', checkpointId }),
    ])
    await donor.sweep()
    expect(controller.snapshot().checkpoints?.checkpoints).toEqual([
      expect.objectContaining({ id: checkpointId, state: 'ready' }),
    ])
    // The same request again (the tracker has not cleared it yet) is not carried out twice.
    expect(donor.due(request('boot-0001'), Date.now())).toBeNull()
  })

  it('serves the signed manifest and exactly the files it lists, whole and by range', async () => {
    const reply = await client.request(listener.url, {
      path: `/v1/checkpoints/${checkpointId}/manifest`,
      expectChainId: 'sim-1',
    })
    expect(reply.status).toBe(200)
    const manifest = verifyManifest(reply.text(), fleetKey)
    expect(manifest.id).toBe(checkpointId)
    expect(manifest.donor).toBe(DONOR_ID)
    expect(manifest.files.length).toBeGreaterThan(2)
    for (const file of manifest.files) {
      const got = await client.download(listener.url, {
        path: `/v1/checkpoints/${checkpointId}/files/${file.path}`,
      })
      const chunks: Buffer[] = []
      for await (const chunk of got.stream) chunks.push(chunk as Buffer)
      const bytes = Buffer.concat(chunks)
      expect(bytes.length, file.path).toBe(file.bytes)
      expect(sha256(bytes), file.path).toBe(file.sha256)
    }
    const largest = [...manifest.files].sort((a, b) => b.bytes - a.bytes)[0] as (typeof manifest.files)[0]
    const ranged = await client.download(listener.url, {
      path: `/v1/checkpoints/${checkpointId}/files/${encodeURIComponent(largest.path)}`,
      range: { start: 10, end: 41 },
    })
    expect(ranged.status).toBe(206)
    const part: Buffer[] = []
    for await (const chunk of ranged.stream) part.push(chunk as Buffer)
    const whole = await readFile(path.join(net.path('checkpoints'), checkpointId, 'data', largest.path))
    expect(Buffer.concat(part)).toEqual(whole.subarray(10, 42))
  })

  it('refuses a file the manifest does not list, and any request not signed with the fleet key', async () => {
    for (const relative of [
      'priv_validator_state.json',
      '../checkpoint-take.json',
      '%2E%2E/checkpoint-take.json',
      'blockstore.db/LOCK',
      'blockstore.db',
    ]) {
      const reply = await client.request(listener.url, {
        path: `/v1/checkpoints/${checkpointId}/files/${relative}`,
      })
      expect(reply.status, relative).toBe(404)
    }
    await expect(
      client.download(listener.url, {
        path: `/v1/checkpoints/${checkpointId}/files/priv_validator_state.json`,
      }),
    ).rejects.toBeInstanceOf(PeerStatusError)
    // Unsigned: a plain HTTP GET.
    const plain = await fetch(`${listener.url}/v1/checkpoints/${checkpointId}/manifest`)
    expect(plain.status).toBe(401)
    expect(await plain.text()).not.toContain('ghostfleet-checkpoint')
    // Signed with another key.
    const stranger = createPeerClient({ key: newFleetKey(), sender: HOST })
    await expect(
      stranger.request(listener.url, { path: `/v1/checkpoints/${checkpointId}/manifest` }),
    ).rejects.toBeInstanceOf(PeerRejectedError)
  })

  it('removes the checkpoint on DELETE by the host it was taken for (another sibling is refused)', async () => {
    const sibling = createPeerClient({ key: fleetKey, sender: 'someone-else' })
    const refused = await sibling.request(listener.url, {
      method: 'DELETE',
      path: `/v1/checkpoints/${checkpointId}`,
    })
    expect(refused.status).toBe(403)
    const removed = await client.request(listener.url, {
      method: 'DELETE',
      path: `/v1/checkpoints/${checkpointId}`,
    })
    expect(removed.status).toBe(200)
    expect(await lstat(path.join(net.path('checkpoints'), checkpointId)).catch(() => null)).toBeNull()
    const gone = await client.request(listener.url, { path: `/v1/checkpoints/${checkpointId}/manifest` })
    expect(gone.status).toBe(404)
    // The node's own tables are untouched by the removal of their links.
    expect((await readdir(path.join(home, 'data', 'blockstore.db'))).some((f) => f.endsWith('.ldb'))).toBe(
      true,
    )
  })

  it('removes a checkpoint past its TTL, and measures the bytes checkpoints pin', async () => {
    const report = await donate('boot-0002', 'ready')
    const id = report.checkpointId as string
    await donor.sweep()
    expect(await lstat(path.join(net.path('checkpoints'), id)).catch(() => null)).not.toBeNull()
    // The node's tables are all still there: nothing is pinned yet.
    expect((await donationMetrics.pinnedBytes.get()).values[0]?.value).toBe(0)
    clock.skewMs = 3_600_000
    try {
      await donor.sweep()
    } finally {
      clock = { skewMs: 0 }
    }
    expect(await lstat(path.join(net.path('checkpoints'), id)).catch(() => null)).toBeNull()
    const gone = await client.request(listener.url, { path: `/v1/checkpoints/${id}/manifest` })
    expect(gone.status).toBe(404)
  })

  it('reports failed with the reason when the take fails, and the node serves again', async () => {
    // A symbolic link in the data directory: a checkpoint refuses it (it could leave the filesystem).
    const link = path.join(home, 'data', 'elsewhere')
    await symlink('/tmp', link)
    try {
      const report = await donate('boot-0003', 'failed')
      expect(report.detail).toMatch(/^checkpoint not taken: .*symbolic link.*; the node was started again$/)
      expect(report.checkpointId).toBeUndefined()
    } finally {
      await rm(link)
    }
    const rpc = createNodeRpcClient({ endpoint: rpcUrl, timeoutMs: 2_000 })
    await eventually(async () => expect((await rpc.status()).syncInfo.latestBlockHeight).toBe(1500), {
      timeoutMs: 20_000,
      description: 'the node serves after the failed donation',
    })
    // Nothing of the failed take is left (the ledger is the only file there).
    expect(await readdir(net.path('checkpoints'))).toEqual(['donations.json'])
    expect(controller.snapshot().errors.some((e) => e.where === 'donation')).toBe(true)
  })

  it('caps concurrent transfers apart from the RPC path: the excess gets 429, the node still answers', async () => {
    const report = await donate('boot-0004', 'ready')
    const id = report.checkpointId as string
    // A listener whose transfers are paced to 4 KiB/s with one slot: the first transfer holds it.
    const slow = await startPeerListener({
      listen: '127.0.0.1:0',
      key: fleetKey,
      sidecarId: DONOR_ID,
      nodeChainId: 'sim-1',
      local: () => localNodeState(controller.snapshot()),
      forwarder: new NodeForwarder(rpcUrl, 5_000),
      maxConcurrent: 4,
      ratePerSecond: 1_000,
      metrics: createGatewayMetrics(createMetricsRegistry()),
      log: createLogger({ name: 'peer', level: 'silent' }),
      checkpoints: createCheckpointRoutes({
        catalog,
        gate: new TransferGate({ maxTransfers: 1, bytesPerSecond: 4_096 }),
        requesterOf: (c) => donor.requesterOf(c),
      }),
    })
    try {
      const manifest = verifyManifest(
        (await client.request(slow.url, { path: `/v1/checkpoints/${id}/manifest` })).text(),
        fleetKey,
      )
      const largest = [...manifest.files].sort((a, b) => b.bytes - a.bytes)[0] as (typeof manifest.files)[0]
      expect(largest.bytes).toBeGreaterThan(3 * 4_096)
      const abandon = new AbortController()
      const first = await client.download(slow.url, {
        path: `/v1/checkpoints/${id}/files/${largest.path}`,
        signal: abandon.signal,
      })
      const second = await client.request(slow.url, { path: `/v1/checkpoints/${id}/files/${largest.path}` })
      expect(second.status).toBe(429)
      expect(second.headers['retry-after']).toBe('1')
      // Siblings' RPC reads still get through while the transfer holds its slot (once the supervision loop has
      // seen the node answer since its restart for the donation).
      await eventually(async () => {
        controller.runSoon()
        const status = await client.request(slow.url, { path: '/rpc/status', expectChainId: 'sim-1' })
        expect(status.status).toBe(200)
      })
      expect(first.length).toBe(largest.bytes)
      // The host gives up on the transfer: its slot is free again as soon as the donor sees the connection go.
      abandon.abort()
      first.stream.destroy()
      await eventually(async () => {
        const again = await client.request(slow.url, { path: `/v1/checkpoints/${id}/manifest` })
        expect(again.status).toBe(200)
        const got = await client.download(slow.url, {
          path: `/v1/checkpoints/${id}/files/${manifest.files.find((f) => f.bytes < 2_048)?.path}`,
        })
        got.stream.resume()
      })
    } finally {
      await slow.close({ graceMs: 100 })
    }
    const removed = await client.request(listener.url, { method: 'DELETE', path: `/v1/checkpoints/${id}` })
    expect(removed.status).toBe(200)
  })

  it("shares a prune's stop when the same desired state asks for both: one restart, the pruned window donated", async () => {
    timeline.length = 0
    const restartsBefore = timeline.length
    const report = await donate('boot-0005', 'ready', 900)
    expect(timeline.slice(restartsBefore).map((t) => t.what)).toEqual(['stop', 'prune', 'take', 'start'])
    const reply = await client.request(listener.url, {
      path: `/v1/checkpoints/${report.checkpointId}/manifest`,
    })
    const manifest = verifyManifest(reply.text(), fleetKey)
    expect(manifest.blockStore).toEqual({ base: 900, height: 1500 })
  })

  it('counts the bytes a checkpoint pins once the node compacts its tables away, and keeps them under the cap', async () => {
    const id = donor.reports().find((r) => r.bootstrapId === 'boot-0005')?.checkpointId as string
    await donor.sweep()
    expect((await donationMetrics.pinnedBytes.get()).values[0]?.value).toBe(0)
    // Another prune, compacting: the tables the checkpoint links are gone from the node, held by the checkpoint only.
    poolHeight = 1400
    timeline.length = 0
    nextPrune = 1200
    controller.runSoon()
    await eventually(() => expect(timeline.map((t) => t.what)).toEqual(['stop', 'prune', 'start']), {
      timeoutMs: 60_000,
      description: 'the second prune',
    })
    await donor.sweep()
    const pinned = (await donationMetrics.pinnedBytes.get()).values[0]?.value ?? 0
    expect(pinned).toBeGreaterThan(0)
    expect(controller.snapshot().checkpoints?.pinnedBytes).toBe(pinned)
    // Under a cap below what it pins, the checkpoint goes (the cap of a donor configured lower).
    const capped = new CheckpointCatalog({
      dir: catalog.dir,
      fleetKey,
      ttlMs: 3_600_000,
      maxPinnedBytes: pinned - 1,
    })
    expect((await capped.sweep()).capped).toEqual([id])
    await donor.sweep()
    expect((await donationMetrics.pinnedBytes.get()).values[0]?.value).toBe(0)
  })

  it('reports failed when sealing fails, removes the unsealed checkpoint, and the node serves on', async () => {
    sealFailure = 'EIO: i/o error, read'
    const before = await readdir(net.path('checkpoints'))
    const report = await donate('boot-0006', 'failed')
    expect(report.detail).toMatch(
      /^sealing checkpoint 1500-\S+ failed: EIO: i\/o error, read; it was removed, the node serves$/,
    )
    expect(await readdir(net.path('checkpoints'))).toEqual(before)
    const rpc = createNodeRpcClient({ endpoint: rpcUrl, timeoutMs: 2_000 })
    expect((await rpc.status()).syncInfo.latestBlockHeight).toBe(1500)
  })

  it('remembers its donations across a sidecar restart: none is taken twice, one cut short is reported failed', async () => {
    await donor.close()
    const restarted = reloadedDonor()
    await restarted.load()
    expect(restarted.due(request('boot-0001'), Date.now())).toBeNull()
    expect(restarted.due(request('boot-0005'), Date.now())).toBeNull()
    expect(restarted.due(request('boot-0099'), Date.now())).not.toBeNull()
    expect(restarted.reports()).toEqual(donor.reports())

    // A run that died while taking: the next one reports the donation failed, and does not take it again.
    restarted.begin(request('boot-0100'))
    await restarted.close()
    const again = reloadedDonor()
    await again.load()
    expect(again.due(request('boot-0100'), Date.now())).toBeNull()
    expect(again.reports().find((r) => r.bootstrapId === 'boot-0100')).toMatchObject({
      state: 'failed',
      detail: expect.stringMatching(/restarted during the donation/),
    })
  })
})

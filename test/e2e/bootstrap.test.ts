import { randomBytes } from 'node:crypto'
import { readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  FLEET_KYVE_CHAIN_ID,
  type KyveSimulator,
  type LocalFleet,
  type PreparedSidecar,
  type SidecarInfo,
} from '@ghostfleet/devnet'
import {
  eventually,
  freePort,
  getJson,
  nodeStatus,
  startProcess,
  type TestProcess,
} from '@ghostfleet/testkit'
import { stringify } from 'smol-toml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFleet, sidecarStatus } from './helpers/fleet-harness.js'

/*
 * Issue 14's "done when": an empty host is bootstrapped from a donor in a running fleet. Real processes: Redis, the
 * producer, the simulated KYVE API, a tracker with its peer listener (the bootstrap API), two sidecars in fleet
 * mode with peer listeners (both hold the pool's window, so one may stop for a checkpoint within the budget and
 * holder coverage), and the new host: `ghostfleet sidecar bootstrap` on a home that `init` left empty. It must
 * end with the new node serving every height of the donor's window identically, its sidecar a fleet member the
 * tracker decides for, and the node syncing on from its peers in normal mode.
 */

const env = { GHOSTFLEET_FLEET_KEY: randomBytes(32).toString('hex') }

let teardown: (() => Promise<void>) | undefined
let fleet: LocalFleet
let kyve: KyveSimulator
const siblings: SidecarInfo[] = []
let tracker: TestProcess | undefined
let trackerPeerUrl: string
let newHost: PreparedSidecar
let bootstrap: TestProcess | undefined

async function blockHash(rpc: string, height: number): Promise<string | null> {
  const answer = await getJson(`${rpc}/block?height=${height}`, 5_000)
  const result = answer?.body['result'] as { block_id?: { hash?: string } } | undefined
  return answer?.status === 200 ? (result?.block_id?.hash ?? null) : null
}

beforeAll(async () => {
  const created = await createFleet('gf-e2e-bootstrap-')
  teardown = created.teardown
  fleet = created.fleet
  const redis = await fleet.startRedis()
  await fleet.startProducer(200)
  kyve = await fleet.startKyve({ bundleEveryMs: 200, paused: false })

  // The tracker, with its peer listener on (LocalFleet's trackers have none).
  const httpPort = await freePort()
  const peerPort = await freePort()
  const configFile = path.join(fleet.dir, 'tracker-boot.toml')
  await writeFile(
    configFile,
    stringify({
      redisUrl: redis.url,
      listen: `127.0.0.1:${httpPort}`,
      pollIntervalSeconds: 1,
      leaseTtlMs: 3000,
      maxPoolAgeSeconds: 30,
      defaults: { maxUnavailable: 1, pruningIntervalHours: 24, margin: 1 },
      chains: { [FLEET_KYVE_CHAIN_ID]: [kyve.url] },
      peer: { listen: `127.0.0.1:${peerPort}`, ratePerSecond: 50, burst: 100 },
    }),
  )
  const command = fleet.command(fleet.bins.tracker, [
    'start',
    '--config',
    configFile,
    '--id',
    'tracker-boot',
    '--refresh-seconds',
    '3',
  ])
  tracker = startProcess(command.command, command.args, { env })
  trackerPeerUrl = `http://127.0.0.1:${peerPort}`
  await eventually(
    async () => {
      if (tracker?.hasExited()) throw new Error(`the tracker exited: ${tracker.output()}`)
      expect((await getJson(`http://127.0.0.1:${httpPort}/livez`))?.status).toBe(200)
    },
    { timeoutMs: 30_000, description: 'the tracker' },
  )

  for (const id of ['sibling-1', 'sibling-2'])
    siblings.push(await fleet.startSidecar({ id, pruningIntervalHours: 24, gateway: true, env }))
  await eventually(
    async () => {
      for (const s of siblings) {
        const status = await sidecarStatus(s)
        expect(status['fleet']).toMatchObject({ decidedBy: 'tracker', connected: true })
        expect(status['node']['reachable']).toBe(true)
        const node = await nodeStatus(s.rpc)
        expect(node?.catchingUp).toBe(false)
        expect(node?.height ?? 0).toBeGreaterThan(30)
      }
    },
    { timeoutMs: 120_000, intervalMs: 500, description: 'both siblings synced, following the tracker' },
  )
  newHost = await fleet.prepareSidecar({ id: 'new-host', pruningIntervalHours: 24, gateway: true, env })
}, 240_000)

afterAll(async () => {
  await bootstrap?.stop('SIGTERM', 30_000)
  await tracker?.stop('SIGTERM', 10_000)
  await teardown?.()
}, 120_000)

describe('ghostfleet sidecar bootstrap in a running fleet', () => {
  it('fills the empty home from a sibling, serves its window identically, joins the fleet, syncs on', async () => {
    expect(
      (await readdir(path.join(newHost.home, 'data'))).filter((f) => !f.startsWith('priv_validator')),
    ).toEqual([])
    const command = fleet.command(fleet.bins.sidecar, [
      'bootstrap',
      '--config',
      newHost.configDir,
      '--tracker-url',
      trackerPeerUrl,
      '--parallel',
      '4',
      '--timeout',
      '180s',
    ])
    const started = Date.now()
    bootstrap = startProcess(command.command, command.args, { env })
    const done = await eventually(
      () => {
        const out = bootstrap?.output() ?? ''
        if (bootstrap?.hasExited()) throw new Error(`bootstrap exited: ${out}`)
        const match = /bootstrapped .* from (\S+) \(checkpoint (\S+), blocks (\d+)\.\.(\d+)\)/.exec(out)
        if (match === null) throw new Error('not bootstrapped yet')
        return {
          donor: match[1] as string,
          checkpointId: match[2] as string,
          base: Number(match[3]),
          height: Number(match[4]),
        }
      },
      { timeoutMs: 240_000, intervalMs: 500, description: 'the bootstrap to finish' },
    )
    const bootstrapSeconds = (Date.now() - started) / 1000
    const donor = siblings.find((s) => s.id === done.donor)
    expect(donor).toBeDefined()
    expect(done.height).toBeGreaterThan(30)

    // The new node, started again by `start` (the hand-over), serves every height of the donor's window as it does.
    await eventually(async () => expect(await nodeStatus(newHost.rpc)).not.toBeNull(), {
      timeoutMs: 60_000,
      description: 'the new node to answer after the hand-over',
    })
    const differing: number[] = []
    for (let h = done.base; h <= done.height; h++) {
      const [ours, theirs] = await Promise.all([
        blockHash(newHost.rpc, h),
        blockHash((donor as SidecarInfo).rpc, h),
      ])
      if (ours === null || ours !== theirs) differing.push(h)
    }
    expect(differing).toEqual([])

    // A member of the fleet: the tracker decides for it, and it syncs on from its peers in normal mode.
    await eventually(
      async () => {
        const status = (await getJson(`${newHost.http}/status`))?.body
        expect(status?.['fleet']).toMatchObject({ decidedBy: 'tracker', connected: true })
        expect(status?.['mode']).toBe('normal')
        expect((await nodeStatus(newHost.rpc))?.height ?? 0).toBeGreaterThan(done.height + 10)
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'the new host to follow the tracker and sync on' },
    )
    // The donor dropped the checkpoint once the new host was done with it.
    await eventually(
      async () => {
        const status = await sidecarStatus(donor as SidecarInfo)
        const held = (status['checkpoints']?.['checkpoints'] ?? []) as Array<{ id: string }>
        expect(held.map((c) => c.id)).not.toContain(done.checkpointId)
      },
      { timeoutMs: 30_000, description: 'the donor to drop the checkpoint' },
    )
    const summary = /bootstrapped .*/.exec(bootstrap?.output() ?? '')?.[0] ?? ''
    process.stderr.write(`bootstrap e2e (${bootstrapSeconds.toFixed(1)} s): ${summary}\n`)
  }, 480_000)
})

import { fileURLToPath } from 'node:url'
import { eventually, runProcess } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fleetViewSchema, type Tracker } from '../src/index.js'
import {
  startTestFleet,
  startTestTracker,
  type TestFleet,
  trackerConfig,
  waitUntilLeading,
} from './helpers/fleet.js'
import { SimSidecar, tickAll } from './helpers/sim-sidecar.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))

describe('fleet API, metrics and the status command', () => {
  let fleet: TestFleet
  let leader: Tracker
  let standby: Tracker
  let sidecars: SimSidecar[]

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 5, currentKey: '3000', paused: true }])
    const config = trackerConfig(fleet)
    leader = await startTestTracker(config, { id: 'api-leader' })
    sidecars = [
      new SimSidecar(fleet.sidecarRedis, {
        id: 'api-ghost',
        poolId: 5,
        mode: 'ghost',
        nodeHeight: 3120,
        nodeBase: 3000,
      }),
      new SimSidecar(fleet.sidecarRedis, { id: 'api-normal', poolId: 5, nodeHeight: 3010 }),
    ]
    await tickAll(sidecars)
    await waitUntilLeading(leader)
    standby = await startTestTracker(config, { id: 'api-standby' })
    await eventually(async () => {
      await tickAll(sidecars)
      const fleetView = await leader.fleet()
      expect(fleetView.pools[0]?.poolHeight).toBe(3000)
      expect(fleetView.sidecars.map((s) => s.desiredMode)).toEqual(['ghost', 'normal'])
    })
  })
  afterAll(async () => {
    await standby?.stop()
    await leader?.stop()
    await fleet?.stop()
  })

  async function getJson(base: string, path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${base}${path}`)
    return { status: response.status, body: await response.json() }
  }

  it('serves the whole fleet, the pools and one sidecar from the leader', async () => {
    const { status, body } = await getJson(leader.url, '/v1/fleet')
    expect(status).toBe(200)
    const view = fleetViewSchema.parse(body)
    expect(view.tracker).toMatchObject({ id: 'api-leader', role: 'leader', redis: 'ready' })
    expect(view.pools).toHaveLength(1)
    expect(view.pools[0]).toMatchObject({
      chainId: 'kyve-1',
      poolId: 5,
      poolHeight: 3000,
      sidecars: 2,
      byMode: { normal: 1, ghost: 1 },
      minNodeHeight: 3010,
      maxNodeHeight: 3120,
      minLag: 10,
      maxLag: 120,
      stale: false,
      maxUnavailable: 1,
    })
    expect(view.sidecars.map((s) => [s.sidecarId, s.mode, s.lag])).toEqual([
      ['api-ghost', 'ghost', 120],
      ['api-normal', 'normal', 10],
    ])

    const pools = await getJson(leader.url, '/v1/pools')
    expect(pools.status).toBe(200)
    expect((pools.body as { pools: unknown[] }).pools).toHaveLength(1)

    const one = await getJson(leader.url, '/v1/sidecars/api-ghost')
    expect(one.status).toBe(200)
    expect(one.body).toMatchObject({
      sidecarId: 'api-ghost',
      desiredMode: 'ghost',
      desired: { epoch: leader.currentEpoch() },
    })
    expect((await getJson(leader.url, '/v1/sidecars/nobody')).status).toBe(404)
    expect((await getJson(leader.url, '/v1/sidecars/not%20an%20id')).status).toBe(400)
  })

  it('reports leader and standby on /readyz and serves the fleet from Redis on a standby', async () => {
    expect(await getJson(leader.url, '/readyz')).toMatchObject({ status: 200, body: { role: 'leader' } })
    expect(await getJson(standby.url, '/readyz')).toMatchObject({
      status: 200,
      body: { role: 'standby', epoch: null },
    })
    expect((await getJson(standby.url, '/livez')).status).toBe(200)
    const view = fleetViewSchema.parse((await getJson(standby.url, '/v1/fleet')).body)
    expect(view.tracker.role).toBe('standby')
    expect(view.sidecars.map((s) => [s.sidecarId, s.desiredMode])).toEqual([
      ['api-ghost', 'ghost'],
      ['api-normal', 'normal'],
    ])
    expect(view.pools[0]?.poolHeight).toBe(3000)
  })

  it('exports per-pool metrics with bounded labels and no sidecar ids', async () => {
    const text = await (await fetch(`${leader.url}/metrics`)).text()
    const pool = 'chain="kyve-1",pool="5"'
    expect(text).toContain(`ghostfleet_tracker_leader{service="tracker"} 1`)
    expect(text).toMatch(
      new RegExp(`ghostfleet_tracker_leader_epoch\\{service="tracker"\\} ${leader.currentEpoch()}`),
    )
    expect(text).toMatch(new RegExp(`ghostfleet_tracker_pool_height\\{${pool},service="tracker"\\} 3000`))
    expect(text).toMatch(
      new RegExp(`ghostfleet_tracker_pool_sidecars\\{${pool},mode="ghost",service="tracker"\\} 1`),
    )
    expect(text).toMatch(
      new RegExp(`ghostfleet_tracker_pool_node_height\\{${pool},stat="max",service="tracker"\\} 3120`),
    )
    expect(text).toMatch(
      new RegExp(`ghostfleet_tracker_pool_lag_blocks\\{${pool},stat="min",service="tracker"\\} 10`),
    )
    expect(text).toMatch(
      new RegExp(`ghostfleet_tracker_pool_sidecars_silent\\{${pool},service="tracker"\\} 0`),
    )
    expect(text).toMatch(
      /ghostfleet_tracker_kyve_requests_total\{chain="kyve-1",endpoint="http:\/\/127\.0\.0\.1:\d+",outcome="ok",service="tracker"\} \d+/,
    )
    expect(text).toMatch(
      /ghostfleet_tracker_decision_latency_seconds_count\{service="tracker",trigger="report"\} [1-9]/,
    )
    expect(text).toMatch(
      /ghostfleet_tracker_desired_writes_total\{outcome="written",trigger="report",service="tracker"\} [1-9]/,
    )
    expect(text).not.toContain('api-ghost')
    const standbyText = await (await fetch(`${standby.url}/metrics`)).text()
    expect(standbyText).toContain(`ghostfleet_tracker_leader{service="tracker"} 0`)
  })

  it('prints the fleet as a table with `ghostfleet-tracker status`', async () => {
    // The sidecars keep reporting (as real ones do every interval) while the CLI starts, which can take seconds on
    // a loaded machine: longer than the test timing's silence limit.
    const reporting = setInterval(() => void tickAll(sidecars), 250)
    const result = await runProcess(process.execPath, [CLI, 'status', '--tracker', leader.url]).finally(() =>
      clearInterval(reporting),
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines[0]).toMatch(/^tracker api-leader: leader \(epoch \d+\), redis ready$/)
    expect(lines[1]).toMatch(
      /^pool kyve-1\/5: height 3000, \d+s old; 1 normal, 1 ghost, 0 silent; budget 0\/1 in use$/,
    )
    const header = lines.find((l) => l.startsWith('POOL'))
    expect(header?.split(/\s{2,}/)).toEqual([
      'POOL',
      'SIDECAR',
      'MODE',
      'NODE HEIGHT',
      'LAG',
      'LAST REPORT',
      'LAST PRUNE',
      'STATE',
    ])
    expect(lines.find((l) => l.includes('api-ghost'))?.split(/\s{2,}/)).toEqual([
      'kyve-1/5',
      'api-ghost',
      'ghost',
      '3120',
      '120',
      expect.stringMatching(/^\d+s$/),
      '-',
      'serving',
    ])

    const unreachable = await runProcess(process.execPath, [CLI, 'status', '--tracker', 'http://127.0.0.1:1'])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toMatch(/cannot reach the tracker at http:\/\/127\.0\.0\.1:1/)
  })
})

import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readLeader, writeDesiredState } from '@ghostfleet/coordination'
import { WIRE_VERSION } from '@ghostfleet/core'
import {
  eventually,
  freePort,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestFleet, type TestFleet } from './helpers/fleet.js'
import { SimSidecar, tickAll } from './helpers/sim-sidecar.js'

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const LEASE_MS = 2_000
/** A candidate retries every lease / 3 (LeaderElection's default). */
const RETRY_MS = Math.floor(LEASE_MS / 3)

interface TrackerProcess {
  id: string
  url: string
  proc: TestProcess
}

describe('leader failover between tracker processes', () => {
  let fleet: TestFleet
  let dir: TempDir
  let configFile: string
  const processes: TrackerProcess[] = []

  beforeAll(async () => {
    fleet = await startTestFleet([{ id: 1, currentKey: '1000', paused: true }])
    dir = await tempDir('ghostfleet-tracker-failover-')
    configFile = path.join(dir.path, 'tracker.toml')
    await writeFile(
      configFile,
      [
        // Long enough that neither a poll nor a silence timeout can rewrite the states soon after a failover:
        // only the election itself does (the new leader continues the old poll schedule from the shared record).
        'pollIntervalSeconds = 30',
        `leaseTtlMs = ${LEASE_MS}`,
        'maxPoolAgeSeconds = 60',
        '[chains]',
        `"kyve-1" = ["${fleet.kyve.url}"]`,
      ].join('\n'),
    )
  })
  afterAll(async () => {
    for (const { proc } of processes) await proc.stop('SIGKILL')
    await fleet?.stop()
    await dir?.remove()
  })

  async function spawnTracker(id: string): Promise<TrackerProcess> {
    const port = await freePort()
    const proc = startProcess(
      process.execPath,
      [
        CLI,
        'start',
        '--config',
        configFile,
        '--redis',
        fleet.redis.url,
        '--listen',
        `127.0.0.1:${port}`,
        '--id',
        id,
      ],
      { env: { GHOSTFLEET_LOG_LEVEL: 'info' } },
    )
    const tracker = { id, url: `http://127.0.0.1:${port}`, proc }
    processes.push(tracker)
    await eventually(async () => {
      if (proc.hasExited()) throw new Error(`tracker ${id} exited: ${proc.output()}`)
      expect((await fetch(`${tracker.url}/livez`)).status).toBe(200)
    })
    return tracker
  }

  async function role(tracker: TrackerProcess): Promise<string | null> {
    try {
      const body = (await (await fetch(`${tracker.url}/readyz`)).json()) as { role?: string; phase?: string }
      return body.phase === 'leader' ? 'leader' : (body.role ?? null)
    } catch {
      return null
    }
  }

  it('a standby leads after SIGKILL of the leader, rewrites every state under its epoch, fences the old one', async () => {
    const sidecars = ['a', 'b', 'c'].map(
      (id) =>
        new SimSidecar(fleet.sidecarRedis, {
          id: `fo-${id}`,
          poolId: 1,
          mode: 'ghost',
          nodeHeight: 1200,
          nodeBase: 1100,
        }),
    )
    await tickAll(sidecars)
    const first = await spawnTracker('tracker-a')
    const second = await spawnTracker('tracker-b')

    const oldEpoch = await eventually(
      async () => {
        await tickAll(sidecars)
        expect(await role(first)).toBe('leader')
        expect(await role(second)).toBe('standby')
        const epochs = new Set(sidecars.map((s) => s.lastDesired?.epoch))
        expect(epochs.size).toBe(1)
        const [epoch] = epochs
        expect(epoch).toBeGreaterThan(0)
        return epoch as number
      },
      { timeoutMs: 15_000, description: 'tracker-a leading with every state written' },
    )
    // The standby wrote nothing: every state is the leader's (same epoch), generations as the leader issued them.

    // The new leader writes a sidecar's state once it has heard from it under its own term (what Redis held at
    // the election may be older than what the sidecar did since: redis-rollback.test.ts).
    const killedAt = performance.now()
    await first.proc.stop('SIGKILL')
    const tookOverMs = await eventually(
      async () => {
        expect(await role(second)).toBe('leader')
        return performance.now() - killedAt
      },
      { timeoutMs: 15_000, intervalMs: 20, description: 'tracker-b leading' },
    )
    // The lease expires at most LEASE_MS after tracker-a's last renew (before the kill); tracker-b tries every
    // RETRY_MS. Plus the time to load the fleet and our own polling.
    expect(tookOverMs).toBeLessThan(LEASE_MS + RETRY_MS + 1_000)

    const newEpoch = await eventually(
      async () => {
        await tickAll(sidecars)
        const states = await Promise.all(sidecars.map((s) => s.readDesired()))
        const epochs = new Set(states.map((s) => s?.epoch))
        expect(epochs.size).toBe(1)
        const [epoch] = epochs
        expect(epoch).toBeGreaterThan(oldEpoch)
        expect(states.map((s) => s?.mode)).toEqual(['ghost', 'ghost', 'ghost'])
        return epoch as number
      },
      { timeoutMs: 5_000, description: 'every desired state rewritten under the new epoch' },
    )
    expect((await readLeader(fleet.probe))?.holder).toBe('tracker-b')

    // A write with the old epoch (what a paused or partitioned tracker-a would send) is refused by Redis.
    const stale = await writeDesiredState(fleet.probe, {
      v: WIRE_VERSION,
      sidecarId: 'fo-a',
      mode: 'normal',
      pruneToHeight: null,
      basedOnPoolHeight: 1000,
      poolFetchedAt: Date.now(),
      epoch: oldEpoch,
      generation: 1_000_000,
      issuedAt: Date.now(),
      reason: 'late write of the deposed leader',
    })
    expect(stale.status).toBe('not-leader-epoch')
    expect(stale.leaderEpoch).toBe(newEpoch)
    await tickAll(sidecars)
    expect(sidecars.map((s) => [s.mode, s.lastDesired?.epoch])).toEqual([
      ['ghost', newEpoch],
      ['ghost', newEpoch],
      ['ghost', newEpoch],
    ])
    console.info(`standby took over ${tookOverMs.toFixed(0)} ms after SIGKILL (lease ${LEASE_MS} ms)`)
  })

  it('SIGTERM releases the lease: the standby takes over at once and the process exits 0', async () => {
    const leader = processes.find((p) => p.id === 'tracker-b')!
    const sidecars = [
      new SimSidecar(fleet.sidecarRedis, { id: 'fo-a', poolId: 1, mode: 'ghost', nodeHeight: 1200 }),
    ]
    const standby = await spawnTracker('tracker-c')
    await eventually(async () => expect(await role(standby)).toBe('standby'))
    const stoppedAt = performance.now()
    expect(await leader.proc.stop('SIGTERM')).toBe(0)
    expect(leader.proc.output()).toMatch(/"msg":"tracker stopped"/)
    const tookOverMs = await eventually(
      async () => {
        await tickAll(sidecars)
        expect(await role(standby)).toBe('leader')
        return performance.now() - stoppedAt
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    )
    // No waiting for the lease to expire: one retry interval at most.
    expect(tookOverMs).toBeLessThan(LEASE_MS)
    expect((await readLeader(fleet.probe))?.holder).toBe('tracker-c')
  })
})

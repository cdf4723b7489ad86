/**
 * The fleet end to end, with real processes: a private redis-server, a producer node, the simulated KYVE API, two
 * `ghostfleet-tracker start` processes (one leads, one stands by) and three `ghostfleet-sidecar start` processes
 * in fleet mode, each supervising a follower `ghostfleet-simnode`, all signing and verifying with one fleet key.
 * Thresholds are the scaled ones `init` computes for max_bundle_size 1 / upload_interval 2880: ghost at +60,
 * normal at +30. The producer makes 5 blocks/s; the pool, when running, catches up at 20 blocks/s.
 *
 * The tests run in order on one fleet (its start-up is most of the cost):
 *   1. the pool stops: every node goes ghost and is pruned once, one sidecar at a time;
 *   2. desired states forged into Redis (unsigned, badly signed) are refused and reported; nothing is pruned;
 *   3. the pool runs again: every node returns to normal, one at a time; over 1–3, no two sidecars were down at
 *      once and every prune was below the pool height of the moment;
 *   4. the leading tracker is SIGKILLed: the standby leads within the lease, a late write of the dead leader is
 *      refused by Redis and by the sidecars, everyone applies the new epoch;
 *   5. Redis is killed for 30 s: every node keeps answering /block, the sidecars decide locally, and follow the
 *      tracker again once Redis is back; nothing crashed.
 */
import { randomBytes } from 'node:crypto'
import {
  closeRedis,
  createRedis,
  FleetKey,
  keysOf,
  type RedisClient,
  readDesiredState,
  readLeader,
  signDesiredState,
  writeDesiredState,
} from '@ghostfleet/coordination'
import type { DesiredState } from '@ghostfleet/core'
import type { KyveSimulator, LocalFleet, ManagedProcess, SidecarInfo, TrackerInfo } from '@ghostfleet/devnet'
import { FLEET_POOL_ID } from '@ghostfleet/devnet'
import {
  type Disruption,
  disruptions,
  eventually,
  getJson,
  type Json,
  logLines,
  metricValue,
  nodeStatus,
  overlapping,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createFleet,
  metricsText,
  nodeServesBlocks,
  poolHeight,
  Recorder,
  sidecarStatus,
} from './helpers/fleet-harness.js'

const FLEET_KEY_HEX = randomBytes(32).toString('hex')
const fleetKey = FleetKey.parse(FLEET_KEY_HEX)
const env = { GHOSTFLEET_FLEET_KEY: FLEET_KEY_HEX }
/** Long enough that each ghost is pruned once (its first prune is due at once) and the sidecars never prune alone. */
const PRUNING_INTERVAL_HOURS = 0.5
const LEASE_TTL_MS = 3_000
const TRACKER_TIMEOUT_SECONDS = 8
const SIDECARS = 3

let teardown: (() => Promise<void>) | undefined
let fleet: LocalFleet
let kyve: KyveSimulator
const sidecars: SidecarInfo[] = []
let redis: RedisClient
/** The tracker process SIGKILLed on purpose. */
let killed: ManagedProcess | null = null

const pool = (): number => poolHeight(kyve)
const statuses = (): Promise<Json[]> => Promise.all(sidecars.map((s) => sidecarStatus(s)))

/** Pool heights over the whole run, to check every prune against the height of its moment. */
let pools: Recorder<number>
/** What each sidecar was doing, sampled, for the availability budget. */
let activity: Recorder<Array<{ id: string; down: boolean; activity: string; rpc: boolean }>>

beforeAll(async () => {
  const created = await createFleet('gf-e2e-fleet-')
  teardown = created.teardown
  fleet = created.fleet
  const redisServer = await fleet.startRedis()
  await fleet.startProducer(200)
  kyve = await fleet.startKyve({ bundleEveryMs: 50, paused: false })
  for (const id of ['tracker-a', 'tracker-b']) {
    await fleet.startTracker({
      id,
      pruningIntervalHours: PRUNING_INTERVAL_HOURS,
      leaseTtlMs: LEASE_TTL_MS,
      refreshSeconds: 3,
      env,
    })
  }
  for (let i = 1; i <= SIDECARS; i++) {
    sidecars.push(
      await fleet.startSidecar({
        id: `fleet-sc-${i}`,
        pruningIntervalHours: PRUNING_INTERVAL_HOURS,
        trackerTimeoutSeconds: TRACKER_TIMEOUT_SECONDS,
        env,
      }),
    )
  }
  redis = createRedis({
    role: 'tracker',
    url: redisServer.url,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  })
  pools = new Recorder(async () => pool(), 100)
  // Every node syncs and is normal, following the tracker (which has decided for each of them).
  await eventually(
    async () => {
      for (const s of await statuses()) {
        expect(s['fleet']).toMatchObject({ decidedBy: 'tracker', connected: true, signatures: 'required' })
        expect(s['fleet']['applied']['epoch']).toBeGreaterThan(0)
        expect(s['mode']).toBe('normal')
        expect(s['node']['reachable']).toBe(true)
      }
    },
    { timeoutMs: 90_000, intervalMs: 500, description: 'every sidecar to follow the tracker in normal mode' },
  )
  // From now until the nodes are back to normal: which nodes are down. A node counts as down while it does not
  // answer its RPC, or while its sidecar switches or prunes; the three are asked at the same moment.
  activity = new Recorder(
    () =>
      Promise.all(
        sidecars.map(async (s) => {
          const [node, status] = await Promise.all([
            nodeStatus(s.rpc, 1_000),
            getJson(`${s.http}/status`, 1_000),
          ])
          const busy = String(status?.body['sidecar']?.['activity'] ?? 'unknown')
          return { id: s.id, activity: busy, rpc: node !== null, down: node === null || busy !== 'idle' }
        }),
      ),
    150,
  )
}, 240_000)

afterAll(async () => {
  await pools?.stop()
  await activity?.stop()
  if (redis) await closeRedis(redis)
  await teardown?.()
}, 120_000)

describe.sequential('a fleet of three sidecars and two trackers', () => {
  let pausedAt = 0
  let advancedTo = 0

  it('goes ghost and gets pruned, one sidecar at a time, when the pool stops', async () => {
    await kyve.setPool(FLEET_POOL_ID, { paused: true })
    pausedAt = pool()
    await eventually(
      async () => {
        for (const s of await statuses()) {
          expect(s['mode']).toBe('ghost')
          expect(s['pruning']['lastPrune']?.['toHeight']).toBe(pausedAt - 1)
          expect(s['sidecar']['activity']).toBe('idle')
        }
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'every node to go ghost and be pruned once' },
    )
    for (const s of sidecars) {
      await eventually(async () => expect((await nodeStatus(s.rpc))?.base).toBe(pausedAt - 1), {
        description: `${s.id}'s node to answer with its new base`,
      })
    }
  }, 180_000)

  it('refuses unsigned and forged desired states written straight into Redis, and prunes nothing', async () => {
    // Let the pool move on a little (the ghosts stay ≥ 30 ahead), so that a prune above the bases is safe by the
    // sidecar's own view: only the signature stands between the forged command and the disk.
    await kyve.setPool(FLEET_POOL_ID, { paused: false })
    await eventually(() => expect(pool()).toBeGreaterThanOrEqual(pausedAt + 15), { intervalMs: 10 })
    await kyve.setPool(FLEET_POOL_ID, { paused: true })
    advancedTo = pool()
    const target = sidecars[0] as SidecarInfo
    const before = await sidecarStatus(target)
    expect(before['mode']).toBe('ghost')
    expect(Number(before['node']['height']) - advancedTo).toBeGreaterThan(30)
    const base = Number(before['node']['base'])
    const forgedHeight = base + 5
    expect(forgedHeight).toBeLessThan(advancedTo - 1)
    const prunesBefore = metricValue(await metricsText(target.http), 'ghostfleet_prunes_total', {
      outcome: 'ok',
    })
    const logBefore = logLines(target.logFile).length

    const forged = async (): Promise<DesiredState> => {
      const stored = await readDesiredState(redis, target.id, { fleetKey })
      const leader = await readLeader(redis)
      return {
        v: 1,
        sidecarId: target.id,
        mode: 'ghost',
        pruneToHeight: forgedHeight,
        basedOnPoolHeight: advancedTo,
        poolFetchedAt: Date.now(),
        epoch: leader?.epoch ?? 1,
        generation: (stored?.generation ?? 0) + 1,
        issuedAt: Date.now(),
        reason: 'forged',
      }
    }
    const refusal = async (reason: string) => {
      const s = await sidecarStatus(target)
      expect(s['fleet']['lastRefusal']).toMatchObject({ reason })
    }
    const key = keysOf(redis).desired(target.id)

    // Unsigned, through the regular fenced write (it even wakes the sidecar up). The tracker may overwrite it
    // with its next refresh; it is written again until the sidecar has seen it.
    await eventually(
      async () => {
        if ((await redis.hget(key, 'reason')) !== '"forged"') {
          expect((await writeDesiredState(redis, await forged())).status).toBe('written')
        }
        await refusal('unsigned')
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the unsigned state to be refused' },
    )
    // Forged: a signature made without the key, with HSET straight into the hash.
    await eventually(
      async () => {
        const current = await redis.hget(key, 'signature')
        if (current === null || !current.startsWith('"00')) {
          const ds = { ...(await forged()), signature: `00${randomBytes(31).toString('hex')}` }
          const fields = Object.fromEntries(Object.entries(ds).map(([k, v]) => [k, JSON.stringify(v)]))
          await redis.multi().del(key).hset(key, fields).exec()
        }
        await refusal('bad-signature')
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the forged state to be refused' },
    )

    const text = await metricsText(target.http)
    expect(
      metricValue(text, 'ghostfleet_fleet_desired_states_total', { outcome: 'refused-unsigned' }),
    ).toBeGreaterThan(0)
    expect(
      metricValue(text, 'ghostfleet_fleet_desired_states_total', { outcome: 'refused-bad-signature' }),
    ).toBeGreaterThan(0)
    expect(metricValue(text, 'ghostfleet_prunes_total', { outcome: 'ok' })).toBe(prunesBefore)
    expect((await nodeStatus(target.rpc))?.base).toBe(base)
    const after = await sidecarStatus(target)
    expect(after['mode']).toBe('ghost')
    expect(after['pruning']['lastPrune']['toHeight']).toBe(base)
    const newLines = logLines(target.logFile).slice(logBefore)
    expect(newLines.filter((l) => String(l['msg']).startsWith('pruning:'))).toEqual([])
    expect(
      newLines.filter((l) => /desired state refused \((unsigned|bad-signature)\)/.test(String(l['msg']))),
    ).not.toEqual([])
    // The tracker takes its sidecar back (it writes above the stored generation).
    await eventually(
      async () => {
        const s = await sidecarStatus(target)
        expect(s['fleet']['decidedBy']).toBe('tracker')
        expect((await readDesiredState(redis, target.id, { fleetKey }))?.reason).not.toBe('forged')
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'the tracker to overwrite the forged state' },
    )
  }, 90_000)

  it('returns to normal when the pool catches up; the budget and the validated heights held throughout', async () => {
    await kyve.setPool(FLEET_POOL_ID, { paused: false })
    await eventually(
      async () => {
        for (const s of await statuses()) {
          expect(s['mode']).toBe('normal')
          expect(s['sidecar']['activity']).toBe('idle')
        }
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'every node to return to normal' },
    )

    // Budget (maxUnavailable 1): from the sidecars' own logs, no two nodes were down at once…
    const spans: Disruption[] = sidecars.flatMap((s) => disruptions(s.id, s.logFile))
    expect(overlapping(spans)).toEqual([])
    // …and sampled, never more than one node was down (not answering its RPC, or its sidecar busy).
    const samples = await activity.stop()
    expect(samples.length).toBeGreaterThan(50)
    const worst = samples.reduce(
      (max, sample) =>
        sample.value.filter((v) => v.down).length > max.count
          ? { count: sample.value.filter((v) => v.down).length, sample }
          : max,
      { count: 0, sample: samples[0] },
    )
    const near = spans.filter((d) => Math.abs(d.from - (worst.sample?.at ?? 0)) < 5_000)
    expect(worst.count, JSON.stringify({ sample: worst.sample, near })).toBeLessThanOrEqual(1)
    expect(worst.count).toBe(1) // the sampler did see the disruptions

    // Modes followed the pool: each sidecar went ghost ≥ 60 ahead, and back to normal ≤ 30 ahead, on the
    // tracker's word (its reason, with the numbers it decided on, is in the sidecar's log line).
    // The tracker's wording (decideMode): `node is N blocks ahead of|behind the pool`, or `level with` at 0.
    const ahead = (d: Disruption): number => {
      const msg = String(d.detail['msg'])
      if (msg.includes('node is level with the pool')) return 0
      const m = /node is (\d+) blocks (ahead of|behind) the pool/.exec(msg)
      if (m === null) throw new Error(`no tracker reason in ${msg}`)
      return m[2] === 'behind' ? -Number(m[1]) : Number(m[1])
    }
    for (const s of sidecars) {
      const mine = spans.filter((d) => d.sidecarId === s.id && d.kind === 'switch')
      const toGhost = mine.filter((d) => d.detail['to'] === 'ghost')
      const toNormal = mine.filter((d) => d.detail['to'] === 'normal')
      expect(toGhost.length, s.id).toBeGreaterThanOrEqual(1)
      expect(toNormal.length, s.id).toBeGreaterThanOrEqual(1)
      for (const d of toGhost) expect(ahead(d)).toBeGreaterThanOrEqual(60)
      for (const d of toNormal) expect(ahead(d)).toBeLessThanOrEqual(30)
      for (const d of mine) expect(d.detail['decidedBy']).toBe('tracker')
    }

    // Every prune went to a validated height: at most the pool height of its moment (the pool only grows, so
    // the first sample after the prune started bounds it from above).
    const prunes = spans.filter((d) => d.kind === 'prune')
    expect(prunes.map((d) => d.sidecarId).sort()).toEqual(sidecars.map((s) => s.id).sort())
    for (const prune of prunes) {
      const height = Number(prune.detail['untilHeight'])
      const poolThen = pools.samples.find((p) => p.at >= prune.from)?.value ?? pool()
      expect(height, `${prune.sidecarId} pruned to ${height} with the pool at ${poolThen}`).toBeLessThan(
        poolThen,
      )
      expect(height).toBe(pausedAt - 1)
    }
    expect(advancedTo).toBeGreaterThan(pausedAt)
  }, 180_000)

  it('fails over to the standby tracker within the lease when the leader is SIGKILLed; the old epoch is fenced', async () => {
    const leader = await readLeader(redis)
    expect(leader).not.toBeNull()
    const oldEpoch = leader?.epoch ?? 0
    const leading = fleet.trackers.find((t) => t.id === leader?.holder) as TrackerInfo
    const standby = fleet.trackers.find(
      (t) => t.id !== leader?.holder && !t.process.hasExited(),
    ) as TrackerInfo
    expect(leading).toBeDefined()
    expect(standby).toBeDefined()

    const killedAt = Date.now()
    killed = leading.process
    leading.process.kill('SIGKILL')
    const elected = await eventually(
      async () => {
        const now = await readLeader(redis)
        if (now === null || now.holder !== standby.id) throw new Error(`leader: ${JSON.stringify(now)}`)
        return { at: Date.now(), epoch: now.epoch }
      },
      { timeoutMs: 20_000, intervalMs: 50, description: 'the standby to lead' },
    )
    expect(elected.epoch).toBeGreaterThan(oldEpoch)
    // The lease lapses at most one lease after the leader's last renew; the standby tries every third of it.
    expect(elected.at - killedAt).toBeLessThanOrEqual(LEASE_TTL_MS + LEASE_TTL_MS / 3 + 1_000)
    await eventually(async () =>
      expect((await getJson(`${standby.url}/readyz`))?.body).toMatchObject({ role: 'leader' }),
    )

    // A write the dead leader still had in flight, correctly signed: Redis refuses it…
    const target = sidecars[1] as SidecarInfo
    const late: DesiredState = {
      v: 1,
      sidecarId: target.id,
      mode: 'ghost',
      pruneToHeight: null,
      basedOnPoolHeight: pool(),
      poolFetchedAt: Date.now(),
      epoch: oldEpoch,
      generation: 1_000_000,
      issuedAt: Date.now(),
      reason: 'late write of the deposed leader',
    }
    expect((await writeDesiredState(redis, late, { fleetKey })).status).toBe('not-leader-epoch')
    // …and if it lands anyway (Cluster: the script cannot see the epoch counter), the sidecar refuses it.
    const key = keysOf(redis).desired(target.id)
    await eventually(
      async () => {
        if ((await redis.hget(key, 'epoch')) !== String(oldEpoch)) {
          const signed = signDesiredState(late, fleetKey)
          const fields = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k, JSON.stringify(v)]))
          await redis.multi().del(key).hset(key, fields).exec()
        }
        expect((await sidecarStatus(target))['fleet']['lastRefusal']).toMatchObject({
          reason: 'stale-epoch',
          epoch: oldEpoch,
        })
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the late write to be refused by the sidecar' },
    )
    expect(
      metricValue(await metricsText(target.http), 'ghostfleet_fleet_desired_states_total', {
        outcome: 'refused-stale-epoch',
      }),
    ).toBeGreaterThan(0)

    // Everyone follows the new leader under its epoch; nobody applied the late write (still normal).
    await eventually(
      async () => {
        for (const s of await statuses()) {
          expect(s['fleet']['applied']['epoch']).toBe(elected.epoch)
          expect(s['fleet']['decidedBy']).toBe('tracker')
          expect(s['mode']).toBe('normal')
        }
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'every sidecar to apply the new epoch' },
    )

    // The killed tracker comes back as a standby.
    await fleet.startTracker({
      id: leading.id,
      pruningIntervalHours: PRUNING_INTERVAL_HOURS,
      leaseTtlMs: LEASE_TTL_MS,
      refreshSeconds: 3,
      env,
    })
  }, 90_000)

  it('keeps every node serving through 30 s without Redis, decides locally, and rejoins the tracker', async () => {
    const redisServer = fleet.redis as NonNullable<LocalFleet['redis']>
    // Taken before the kill: a sidecar may notice the lost connection (and log it) before kill() returns.
    const downAt = Date.now()
    await redisServer.kill()
    const notServing: string[] = []
    const local = new Set<string>()
    // Observe for the 30 s of the outage (this loop is the outage, not a wait for a condition).
    while (Date.now() - downAt < 30_000) {
      const round = Date.now()
      for (const s of sidecars) {
        if (!(await nodeServesBlocks(s.rpc))) notServing.push(`${s.id} at +${Date.now() - downAt} ms`)
        const status = await getJson(`${s.http}/status`)
        if (status?.body['fleet']?.['decidedBy'] === 'local') local.add(s.id)
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 500 - (Date.now() - round))))
    }
    expect(notServing).toEqual([])
    expect([...local].sort()).toEqual(sidecars.map((s) => s.id).sort())
    for (const s of await statuses()) {
      expect(s['fleet']['connected']).toBe(false)
      expect(s['mode']).toBe('normal')
    }

    await redisServer.restart() // empty: the trackers and sidecars rebuild everything
    await eventually(
      async () => {
        for (const s of await statuses()) {
          expect(s['fleet']).toMatchObject({ decidedBy: 'tracker', connected: true })
        }
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'every sidecar to follow the tracker again' },
    )
    for (const s of sidecars) {
      const logs = logLines(s.logFile).filter((l) => Number(l['time']) >= downAt)
      // The hand-over itself: the once-a-minute heartbeat may repeat the hold reason ("… deciding locally if this
      // lasts 8 s"), which is not a second hand-over.
      expect(
        logs.filter((l) => l['decidedBy'] === 'local' && /deciding locally/.test(String(l['msg']))),
        s.id,
      ).toHaveLength(1)
      expect(
        logs.filter((l) => /the tracker is back/.test(String(l['msg']))),
        s.id,
      ).toHaveLength(1)
      expect(
        logs.filter((l) => /cannot publish reports/.test(String(l['msg']))),
        s.id,
      ).toHaveLength(1)
    }
    // Nothing crashed: every process still runs but the tracker killed on purpose.
    expect(fleet.processes.filter((p) => p.hasExited() && p !== killed).map((p) => p.name)).toEqual([])
  }, 180_000)
})

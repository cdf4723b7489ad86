import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { keysOf, writeDesiredState } from '@ghostfleet/coordination'
import { eventually, startRedis, type TempDir, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  freshDir,
  newFleetKey,
  node,
  SIDECAR_ID,
  startTestSidecar,
  type TestSidecar,
  TestTracker,
} from './fleet-helpers.js'

/*
 * The tracker-driven decision source against a real redis-server and the coordination package's real election
 * and fenced writes: what it applies, what it refuses (and how that shows), when it decides alone and when it
 * hands control back. Each refusal test also checks that nothing was recorded as applied and nothing would be
 * done: a refused state must change nothing.
 */

let redis: TestRedis
let dir: TempDir
let tracker: TestTracker
let sidecar: TestSidecar | undefined
const extra: TestTracker[] = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})
beforeEach(async () => {
  dir = await freshDir()
  tracker = new TestTracker(redis.url)
  await tracker.redis.flushall()
})
afterEach(async () => {
  await sidecar?.close()
  sidecar = undefined
  await tracker.close()
  for (const t of extra.splice(0)) await t.close()
  await dir.remove()
})

const logged = (s: TestSidecar, pattern: RegExp) => s.logs.filter((l) => pattern.test(String(l['msg'])))

describe('applying the tracker’s desired state', () => {
  it('applies a new state, persists its token before acting, and never repeats it', async () => {
    await tracker.lead()
    await tracker.publishPool(500)
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir })
    const ds = await tracker.write({
      mode: 'ghost',
      reason: 'node is 70 blocks ahead of the pool (max 60): ghost',
    })

    const decision = await sidecar.tick('normal', node(570))
    expect(decision).toMatchObject({ mode: 'ghost', pruneToHeight: null, decidedBy: 'tracker', diff: 70 })
    expect(decision.reason).toContain('70 blocks ahead')
    const saved = JSON.parse(await readFile(path.join(dir.path, 'state.json'), 'utf8')) as Record<
      string,
      unknown
    >
    expect(saved).toMatchObject({ appliedEpoch: ds.epoch, appliedGeneration: ds.generation })
    expect(await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'applied' })).toBe(1)
    expect(await sidecar.metric('ghostfleet_fleet_applied_generation')).toBe(ds.generation)

    // Read again every tick (level-triggered): the same token is a duplicate. Even if the mode is not what the
    // state says (a switch that was reverted), it is not acted on again.
    expect(await sidecar.tick('ghost', node(570))).toMatchObject({ mode: 'ghost', decidedBy: 'tracker' })
    expect(await sidecar.tick('normal', node(570))).toMatchObject({ mode: 'normal', decidedBy: 'tracker' })
    expect(await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'duplicate' })).toBe(2)

    // A restarted sidecar reads its token from disk: still a duplicate.
    await sidecar.close()
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir })
    expect(await sidecar.tick('normal', node(570))).toMatchObject({ mode: 'normal', decidedBy: 'tracker' })
    expect(await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'applied' })).toBe(0)

    // While the tracker leads, the pool height shown comes from its published record: no KYVE request here.
    expect(sidecar.kyve.calls).toBe(0)
    expect(sidecar.fleet.poolSource.view()).toBe('tracker')
    expect(sidecar.pool.latest()?.poolHeight).toBe(500)
    expect(sidecar.decisions.status()).toMatchObject({ decidedBy: 'tracker', lastRefusal: null })
  })

  it('with a fleet key, refuses unsigned, forged and tampered states, and applies the signed one', async () => {
    const key = newFleetKey()
    await tracker.lead()
    await tracker.publishPool(500)
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, fleetKey: key, mode: 'ghost' })
    const refused = (reason: string) =>
      sidecar?.metric('ghostfleet_fleet_desired_states_total', { outcome: `refused-${reason}` })
    const prune = { mode: 'ghost' as const, pruneToHeight: 400, basedOnPoolHeight: 500 }

    await tracker.write(prune) // a tracker without the key
    expect(await sidecar.tick('ghost', node(570))).toMatchObject({ mode: 'ghost', pruneToHeight: null })
    expect(await refused('unsigned')).toBe(1)
    expect(sidecar.decisions.status().lastRefusal).toMatchObject({ reason: 'unsigned' })

    await tracker.write(prune, newFleetKey()) // signed with another key
    expect(await sidecar.tick('ghost', node(570))).toMatchObject({ mode: 'ghost', pruneToHeight: null })
    expect(await refused('bad-signature')).toBe(1)

    await tracker.write(prune, key) // genuine, then altered in Redis
    await tracker.redis.hset(keysOf(tracker.redis).desired(SIDECAR_ID), 'pruneToHeight', '450')
    expect(await sidecar.tick('ghost', node(570))).toMatchObject({ mode: 'ghost', pruneToHeight: null })
    expect(await refused('bad-signature')).toBe(2)

    expect(sidecar.keeper.get()).toMatchObject({ appliedEpoch: 0, appliedGeneration: 0 })
    expect(sidecar.kyve.calls).toBe(0)
    expect(logged(sidecar, /desired state refused \(unsigned\)/)).toHaveLength(1)

    const genuine = await tracker.write(prune, key)
    expect(await sidecar.tick('ghost', node(570))).toMatchObject({ mode: 'ghost', pruneToHeight: 400 })
    expect(sidecar.keeper.get()).toMatchObject({ appliedGeneration: genuine.generation })
    // The prune height was checked against the sidecar's own KYVE answer, asked for on the spot.
    expect(sidecar.kyve.calls).toBe(1)
  })

  it('refuses a state older than the one it applied (a rolled-back or replayed Redis)', async () => {
    await tracker.lead()
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir })
    await tracker.write({ generation: 5, mode: 'normal' })
    await sidecar.tick('normal', node(520))
    expect(sidecar.keeper.get().appliedGeneration).toBe(5)

    // The stored state goes back to generation 3 of the same epoch (the storage would refuse that write, so
    // the hash is removed first, as a restore from an old backup would).
    await tracker.redis.del(keysOf(tracker.redis).desired(SIDECAR_ID))
    await tracker.write({ generation: 3, mode: 'ghost' })
    expect(await sidecar.tick('normal', node(600))).toMatchObject({ mode: 'normal', decidedBy: 'tracker' })
    expect(
      await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'refused-stale-generation' }),
    ).toBe(1)
    expect(sidecar.keeper.get().appliedGeneration).toBe(5)
  })

  it('refuses the old epoch’s states once a newer leader was elected, late writes included', async () => {
    const epochA = await tracker.lead('tracker-a')
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir })
    await tracker.write({ mode: 'normal' })
    await sidecar.tick('normal', node(520))
    expect(sidecar.keeper.get().appliedEpoch).toBe(epochA)

    await tracker.resign(false) // as if it crashed: the lease lapses
    const b = new TestTracker(redis.url)
    extra.push(b)
    const epochB = await b.lead('tracker-b')
    expect(epochB).toBeGreaterThan(epochA)

    // The deposed leader's state is still stored: fenced until the new leader rewrites it.
    expect(await sidecar.tick('normal', node(600))).toMatchObject({ mode: 'normal' })
    const staleEpoch = () =>
      sidecar?.metric('ghostfleet_fleet_desired_states_total', { outcome: 'refused-stale-epoch' })
    expect(await staleEpoch()).toBe(1)

    // A late write of the deposed leader is refused by the storage…
    const late = {
      v: 1 as const,
      sidecarId: SIDECAR_ID,
      mode: 'ghost' as const,
      pruneToHeight: null,
      basedOnPoolHeight: 500,
      poolFetchedAt: Date.now(),
      epoch: epochA,
      generation: 99,
      issuedAt: Date.now(),
      reason: 'late write of the deposed leader',
    }
    expect((await writeDesiredState(tracker.redis, late)).status).toBe('not-leader-epoch')
    // …and one that lands anyway (Cluster: the script cannot see the epoch) is refused by the sidecar.
    await tracker.writeRaw({ ...late, generation: 100 })
    expect(await sidecar.tick('normal', node(600))).toMatchObject({ mode: 'normal' })
    expect(await staleEpoch()).toBe(2)
    expect(sidecar.keeper.get()).toMatchObject({ appliedEpoch: epochA, appliedGeneration: 1 })

    const fresh = await b.write({ mode: 'ghost' })
    expect(await sidecar.tick('normal', node(600))).toMatchObject({ mode: 'ghost', decidedBy: 'tracker' })
    expect(sidecar.keeper.get()).toMatchObject({ appliedEpoch: epochB, appliedGeneration: fresh.generation })
  })
})

describe('prune heights are checked against the sidecar’s own view', () => {
  it('refuses a prune above its own safe height, allows one below, and ignores one at its base', async () => {
    await tracker.lead()
    await tracker.publishPool(900) // what the tracker claims
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, mode: 'ghost' })
    sidecar.kyve.height = 500 // what KYVE tells the sidecar itself

    const tooHigh = await tracker.write({ mode: 'ghost', pruneToHeight: 800, basedOnPoolHeight: 900 })
    const refusal = await sidecar.tick('ghost', node(1000))
    expect(refusal).toMatchObject({
      mode: 'ghost',
      pruneToHeight: null,
      pruneRefusal: { reason: 'above-own-safe-height' },
    })
    expect(refusal.pruneRefusal?.detail).toContain('800')
    expect(sidecar.kyve.calls).toBe(1)
    expect(
      await sidecar.metric('ghostfleet_fleet_desired_states_total', {
        outcome: 'refused-above-own-safe-height',
      }),
    ).toBe(1)
    expect(sidecar.decisions.status().lastRefusal).toMatchObject({
      reason: 'above-own-safe-height',
      epoch: tooHigh.epoch,
      generation: tooHigh.generation,
    })
    // Processed: not retried under the same token (the tracker withdraws the command and sees it refused).
    expect(await sidecar.tick('ghost', node(1000))).toMatchObject({ pruneToHeight: null, pruneRefusal: null })

    await tracker.write({ mode: 'ghost', pruneToHeight: 450, basedOnPoolHeight: 900 })
    const allowed = await sidecar.tick('ghost', node(1000))
    expect(allowed).toMatchObject({ mode: 'ghost', pruneToHeight: 450, pruneRefusal: null })
    expect(allowed.reason).toContain('own KYVE answer (pool 500)')

    // Re-issued after it was carried out (refresh, failover): the base is there already, nothing to do, and no
    // KYVE request for it.
    const calls = sidecar.kyve.calls
    await tracker.write({ mode: 'ghost', pruneToHeight: 450, basedOnPoolHeight: 900 })
    expect(await sidecar.tick('ghost', node(1000, 450))).toMatchObject({
      pruneToHeight: null,
      pruneRefusal: null,
    })
    expect(sidecar.kyve.calls).toBe(calls)
  })

  it('refuses a prune when its own KYVE answer is missing, and when pruning is disabled here', async () => {
    await tracker.lead()
    await tracker.publishPool(900)
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, mode: 'ghost' })
    sidecar.kyve.fail = true
    await tracker.write({ mode: 'ghost', pruneToHeight: 400, basedOnPoolHeight: 900 })
    expect(await sidecar.tick('ghost', node(1000))).toMatchObject({
      pruneToHeight: null,
      pruneRefusal: { reason: 'pool-height-unknown' },
    })
    await sidecar.close()

    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, mode: 'ghost', pruningEnabled: false })
    await tracker.write({ mode: 'ghost', pruneToHeight: 401, basedOnPoolHeight: 900 })
    expect(await sidecar.tick('ghost', node(1000))).toMatchObject({ pruneToHeight: null })
    expect(
      await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'refused-pruning-disabled' }),
    ).toBe(1)
  })
})

describe('fallback to local decisions and hand-back', () => {
  it('decides locally once the tracker is silent for the timeout, and follows it again when it returns', async () => {
    await tracker.lead('tracker-a')
    await tracker.publishPool(500)
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, trackerTimeoutMs: 1_500 })
    sidecar.kyve.height = 500
    await tracker.write({ mode: 'normal' })
    expect(await sidecar.tick('normal', node(520))).toMatchObject({ decidedBy: 'tracker' })
    expect(sidecar.kyve.calls).toBe(0)

    await tracker.resign(false) // crashed: no refresh, and its lease lapses
    const local = await eventually(
      async () => {
        const decision = await sidecar?.tick('normal', node(600))
        if (decision?.decidedBy !== 'local')
          throw new Error(`still ${decision?.decidedBy}: ${decision?.reason}`)
        return decision
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'the sidecar to decide locally' },
    )
    // Its own KYVE answer (500) against the node (600): 100 ahead ≥ 60 → ghost.
    expect(local).toMatchObject({ mode: 'ghost', decidedBy: 'local', diff: 100 })
    expect(sidecar.kyve.calls).toBeGreaterThan(0)
    expect(sidecar.fleet.poolSource.view()).toBe('own')
    for (let i = 0; i < 3; i++) expect((await sidecar.tick('ghost', node(600))).decidedBy).toBe('local')
    expect(logged(sidecar, /deciding locally/)).toHaveLength(1)
    expect(await sidecar.metric('ghostfleet_fleet_handovers_total', { to: 'local' })).toBe(1)
    expect(await sidecar.metric('ghostfleet_fleet_decided_by', { source: 'local' })).toBe(1)
    expect(
      await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'silent' }),
    ).toBeGreaterThan(0)

    // A tracker leads again and writes: control goes back at once.
    await tracker.lead('tracker-b')
    await tracker.write({ mode: 'ghost' })
    expect(await sidecar.tick('ghost', node(600))).toMatchObject({ decidedBy: 'tracker', mode: 'ghost' })
    expect(await sidecar.metric('ghostfleet_fleet_handovers_total', { to: 'tracker' })).toBe(1)
    expect(await sidecar.metric('ghostfleet_fleet_decided_by', { source: 'tracker' })).toBe(1)
    expect(logged(sidecar, /the tracker is back/)).toHaveLength(1)
    const calls = sidecar.kyve.calls
    await sidecar.tick('ghost', node(600))
    expect(sidecar.kyve.calls).toBe(calls)
    expect(sidecar.fleet.poolSource.view()).toBe('tracker')
  })

  it('holds through a short Redis outage, decides locally after the timeout, and rejoins', async () => {
    const epoch = await tracker.lead()
    await tracker.publishPool(500)
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, trackerTimeoutMs: 3_000 })
    await tracker.write({ mode: 'normal' })
    expect(await sidecar.tick('normal', node(520))).toMatchObject({ decidedBy: 'tracker' })
    await tracker.resign(false)

    await redis.kill()
    const held = await sidecar.tick('normal', node(700))
    expect(held).toMatchObject({ mode: 'normal', decidedBy: 'tracker' })
    expect(held.reason).toMatch(/Redis/)
    expect(await sidecar.metric('ghostfleet_fleet_desired_states_total', { outcome: 'unreadable' })).toBe(1)

    await eventually(
      async () => {
        const decision = await sidecar?.tick('normal', node(700))
        if (decision?.decidedBy !== 'local') throw new Error(`still ${decision?.decidedBy}`)
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'the sidecar to decide locally' },
    )

    await redis.restart() // empty: the next election must take an epoch above what the fleet applied
    await eventually(() => expect(tracker.redis.status).toBe('ready'), { timeoutMs: 10_000 })
    await tracker.lead('tracker-b', epoch)
    await tracker.write({ mode: 'normal' })
    await eventually(
      async () => {
        const decision = await sidecar?.tick('normal', node(700))
        if (decision?.decidedBy !== 'tracker')
          throw new Error(`still ${decision?.decidedBy}: ${decision?.reason}`)
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'the sidecar to follow the tracker again' },
    )
    expect(sidecar.keeper.get().appliedEpoch).toBeGreaterThan(epoch)
  })

  it('at start, waits for the tracker for the timeout before deciding alone', async () => {
    sidecar = await startTestSidecar({ redisUrl: redis.url, dir, trackerTimeoutMs: 1_500 })
    const first = await sidecar.tick('normal', node(700))
    expect(first).toMatchObject({ mode: 'normal', decidedBy: 'tracker' })
    expect(first.reason).toContain('waiting for the tracker')
    expect(sidecar.kyve.calls).toBe(1) // nothing published by a tracker: the pool view comes from KYVE
    await eventually(
      async () => {
        const decision = await sidecar?.tick('normal', node(700))
        if (decision?.decidedBy !== 'local') throw new Error(`still ${decision?.decidedBy}`)
        expect(decision.mode).toBe('ghost')
      },
      { timeoutMs: 15_000, intervalMs: 100, description: 'the sidecar to decide locally' },
    )
  })
})

import { writeFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import type { FaultSpec } from '@ghostfleet/devnet'
import { eventually } from '@ghostfleet/testkit'
import { getJson } from './http-json.js'
import type { Ledger } from './ledger.js'
import type { Sampler } from './sampler.js'
import type { FaultKind, PlannedFault } from './schedule.js'
import { isDisrupting } from './sidecar-sample.js'
import { fillDisk, freeDisk } from './small-disk.js'
import type { Member, SoakFleet, SoakSidecar } from './soak-fleet.js'

/*
 * Carries out one planned fault against the running fleet and restores what it broke, as systemd and an operator
 * would: a killed sidecar or tracker is started again, a paused tracker continued, a KYVE fault cleared after its
 * hold, Redis restarted empty. Whatever must come back by itself (a killed node, leadership after a paused leader)
 * is awaited with a deadline; missing it is a liveness violation.
 */

export interface FaultRecord {
  atMs: number
  kind: FaultKind
  target: string
  outcome: 'injected' | 'skipped'
  note: string
}

/** How long a killed node may take to run again under its sidecar (a prune may be in progress). */
const NODE_BACK_MS = 90_000
/** Beyond the lease, how long the standby may take to lead once the leader is paused. */
const FAILOVER_SLACK_MS = 15_000
/** How long a tracker may take to lead again once Sentinel has promoted the replica. */
const LEADER_AFTER_REDIS_FAILOVER_MS = 30_000
/** Added to a Redis cut's hold, so that some cuts outlast the sidecar's tracker timeout (it then decides alone). */
const REDIS_CUT_EXTRA_MS = 10_000
/** How long a sidecar may take to follow the tracker again once its Redis path is back. */
const BACK_TO_TRACKER_MS = 60_000

export class FaultInjector {
  private readonly busy = new Set<string>()

  constructor(
    private readonly fleet: SoakFleet,
    private readonly sampler: Sampler,
    private readonly ledger: Ledger,
    private readonly say: (line: string) => void,
  ) {}

  async inject(fault: PlannedFault, atMs: number): Promise<FaultRecord> {
    const record = (target: string, outcome: FaultRecord['outcome'], note = ''): FaultRecord => {
      this.say(`+${(atMs / 1000).toFixed(1)}s ${fault.kind} ${target} ${outcome}${note ? `: ${note}` : ''}`)
      return { atMs, kind: fault.kind, target, outcome, note }
    }
    switch (fault.kind) {
      case 'sidecar-kill': {
        const sidecar = this.pickSidecar(fault)
        if (sidecar === null) return record('-', 'skipped', 'every sidecar is under a fault')
        const note = this.busyNote(sidecar)
        await this.hold(sidecar.id, () => this.restartKilled(sidecar))
        return record(sidecar.id, 'injected', note)
      }
      case 'node-kill':
      case 'node-crash-loop': {
        const sidecar = this.pickSidecar(fault)
        if (sidecar === null) return record('-', 'skipped', 'every sidecar is under a fault')
        const kills = fault.kind === 'node-kill' ? 1 : 3
        const note = this.busyNote(sidecar)
        const done = await this.hold(sidecar.id, () => this.killNode(sidecar, kills))
        return record(sidecar.id, done ? 'injected' : 'skipped', done ? note : 'its node was not running')
      }
      case 'tracker-kill':
      case 'tracker-pause': {
        const leader = await this.leader()
        if (leader === null || this.busy.has(leader.id)) return record('-', 'skipped', 'no leader to hit')
        await this.hold(leader.id, () =>
          fault.kind === 'tracker-kill' ? this.restartKilled(leader) : this.pause(leader, fault.holdMs),
        )
        return record(leader.id, 'injected')
      }
      case 'clock-jump': {
        const sidecar = this.pickSidecar(fault)
        if (sidecar === null || sidecar.clockFile === null)
          return record(sidecar?.id ?? '-', 'skipped', 'no libfaketime or every sidecar under a fault')
        const clockFile = sidecar.clockFile
        const offset = `${fault.clockOffsetSeconds > 0 ? '+' : ''}${fault.clockOffsetSeconds}`
        const seen = await this.hold(sidecar.id, async () => {
          await writeFile(clockFile, `${offset}\n`)
          const started = Date.now()
          const seen = await this.clockSeen(sidecar, fault.clockOffsetSeconds)
          // The jump's length is part of the schedule.
          await delay(Math.max(0, fault.holdMs - (Date.now() - started)))
          await writeFile(clockFile, '+0\n')
          return seen
        })
        return record(
          sidecar.id,
          'injected',
          `clock ${offset} s for ${fault.holdMs} ms (${seen ? 'seen in its /status' : 'not seen in its /status'})`,
        )
      }
      case 'disk-full': {
        const disks = this.fleet.sidecars.filter((s) => s.smallDisk && !this.busy.has(s.id))
        const sidecar = disks[fault.sidecar % Math.max(1, disks.length)] ?? null
        if (sidecar === null)
          return record('-', 'skipped', 'no small disk (needs root) or every one under a fault')
        const bytes = await this.hold(sidecar.id, () => this.fillFor(sidecar, fault.holdMs))
        return record(sidecar.id, 'injected', `${bytes} bytes filled for ${fault.holdMs} ms`)
      }
      case 'redis-restart': {
        const redis = this.fleet.local.redis
        if (redis === null || this.busy.has('redis')) return record('redis', 'skipped')
        await this.hold('redis', () => redis.restart())
        return record(
          'redis',
          'injected',
          this.fleet.sentinel
            ? 'primary and replica killed and restarted empty'
            : 'killed and restarted empty',
        )
      }
      case 'redis-failover': {
        const sentinel = this.fleet.sentinel
        if (sentinel === null) return record('redis', 'skipped', 'no Sentinel (redis mode single)')
        if (this.busy.has('redis')) return record('redis', 'skipped', 'Redis under another fault')
        const note = await this.hold('redis', async () => {
          const note = await sentinel.failover()
          await this.expectLeader('the Sentinel failover')
          return note
        })
        return record('redis', 'injected', note)
      }
      case 'redis-cut': {
        const routed = this.fleet.sidecars.filter((s) => s.redisPath !== null && !this.busy.has(s.id))
        const sidecar = routed[fault.sidecar % Math.max(1, routed.length)] ?? null
        if (sidecar === null)
          return record(
            '-',
            'skipped',
            'no sidecar behind a network namespace (needs root) or all under a fault',
          )
        const note = await this.hold(sidecar.id, () =>
          this.cutFromRedis(sidecar, fault.holdMs + REDIS_CUT_EXTRA_MS),
        )
        return record(sidecar.id, 'injected', note)
      }
      default:
        return await this.kyveFault(fault, record)
    }
  }

  private async kyveFault(
    fault: PlannedFault,
    record: (target: string, outcome: FaultRecord['outcome'], note?: string) => FaultRecord,
  ): Promise<FaultRecord> {
    const poolId = this.fleet.pools[fault.pool] ?? 0
    const specs: Record<string, FaultSpec> = {
      'kyve-error500': { kind: 'error500', poolId },
      'kyve-garbage': { kind: 'garbage', poolId },
      'kyve-schema': { kind: 'schema', poolId },
      'kyve-regress': { kind: 'regress', poolId, regressBy: 20 },
      'kyve-freeze': { kind: 'freeze', poolId },
      'kyve-slow': { kind: 'delay', poolId, delayMs: 4_000 },
    }
    const spec = specs[fault.kind]
    if (spec === undefined) return record('-', 'skipped', `unknown fault ${fault.kind}`)
    const set = this.fleet.kyve.setFault(spec)
    const result = record(`pool ${poolId}`, 'injected', `for ${fault.holdMs} ms`)
    // A fault's length is part of the schedule, not a guess at how long something takes.
    await delay(fault.holdMs)
    this.fleet.kyve.clearFault(set.id)
    return result
  }

  /** Runs `action` with `id` marked busy, so that no second fault hits the same member meanwhile. */
  private async hold<T>(id: string, action: () => Promise<T>): Promise<T> {
    this.busy.add(id)
    try {
      return await action()
    } finally {
      this.busy.delete(id)
    }
  }

  private async restartKilled(member: Member): Promise<void> {
    try {
      await this.fleet.killAndRestart(member)
      this.ledger.check('liveness', null)
    } catch (error) {
      this.ledger.violate('liveness', `${member.id} did not come back after its kill: ${String(error)}`)
    }
  }

  private async killNode(sidecar: SoakSidecar, kills: number): Promise<boolean> {
    for (let i = 0; i < kills; i++) {
      const pid = this.sampler.latest.get(sidecar.id)?.nodePid ?? null
      if (pid === null) return i > 0
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        return i > 0
      }
      try {
        await eventually(
          () => {
            const sample = this.sampler.latest.get(sidecar.id)
            if (sample?.nodeState !== 'running' || sample.nodePid === pid || sample.nodePid === null)
              throw new Error(`node of ${sidecar.id} not running again (last: ${JSON.stringify(sample)})`)
          },
          { timeoutMs: NODE_BACK_MS, intervalMs: 250, description: `node of ${sidecar.id} back` },
        )
        this.ledger.check('liveness', null)
      } catch (error) {
        this.ledger.violate(
          'liveness',
          `node of ${sidecar.id} not restarted after SIGKILL ${i + 1}/${kills}: ${String(error)}`,
        )
        return true
      }
    }
    return true
  }

  /**
   * SIGSTOP the leader for longer than its lease (at least twice the lease), check that the standby takes over
   * meanwhile, then SIGCONT: the old leader wakes up believing for a moment that it leads and must not write.
   */
  private async pause(leader: Member, holdMs: number): Promise<void> {
    const lease = this.fleet.timings.leaseTtlMs
    leader.process.kill('SIGSTOP')
    try {
      const started = Date.now()
      try {
        await eventually(
          () => {
            if (!this.sampler.latestRoles.some((r) => r.role === 'leader' && r.id !== leader.id))
              throw new Error('no other tracker leads')
          },
          { timeoutMs: lease + FAILOVER_SLACK_MS, intervalMs: 250, description: 'failover' },
        )
        this.ledger.check('liveness', null)
      } catch {
        this.ledger.violate(
          'liveness',
          `no tracker took over within ${lease + FAILOVER_SLACK_MS} ms of pausing ${leader.id}`,
        )
      }
      await delay(Math.max(0, Math.max(holdMs, 2 * lease) - (Date.now() - started)))
    } finally {
      leader.process.kill('SIGCONT')
    }
  }

  /**
   * Fills the node's disk for `holdMs`, frees it, then expects the node running again (it may have crashed on a
   * failed write, or been stopped by a switch or prune that could not write).
   */
  private async fillFor(sidecar: SoakSidecar, holdMs: number): Promise<number> {
    const started = Date.now()
    let bytes = 0
    try {
      bytes = await fillDisk(sidecar.home)
      // The fault's length is part of the schedule.
      await delay(Math.max(0, holdMs - (Date.now() - started)))
    } finally {
      await freeDisk(sidecar.home)
    }
    try {
      await eventually(
        () => {
          const sample = this.sampler.latest.get(sidecar.id)
          if (sample?.nodeState !== 'running' || !sample.nodeReachable)
            throw new Error(`node of ${sidecar.id}: ${JSON.stringify(sample)}`)
        },
        {
          timeoutMs: NODE_BACK_MS,
          intervalMs: 250,
          description: `node of ${sidecar.id} serving after its disk was freed`,
        },
      )
      this.ledger.check('liveness', null)
    } catch (error) {
      this.ledger.violate(
        'liveness',
        `node of ${sidecar.id} not serving ${NODE_BACK_MS} ms after its disk was freed: ${String(error)}`,
      )
    }
    return bytes
  }

  /** A tracker leads again within the bound (after a Redis fault every lease may have been lost). */
  private async expectLeader(after: string): Promise<void> {
    try {
      await eventually(
        () => {
          if (!this.sampler.latestRoles.some((r) => r.role === 'leader')) throw new Error('no tracker leads')
        },
        { timeoutMs: LEADER_AFTER_REDIS_FAILOVER_MS, intervalMs: 250, description: 'a leader' },
      )
      this.ledger.check('liveness', null)
    } catch {
      this.ledger.violate(
        'liveness',
        `no tracker led within ${LEADER_AFTER_REDIS_FAILOVER_MS} ms of ${after}`,
      )
    }
  }

  /**
   * Cuts the sidecar's Redis path (its network namespace's veth down) for `holdMs`, then expects it back under
   * the tracker. What the sidecar showed meanwhile goes into the note.
   */
  private async cutFromRedis(sidecar: SoakSidecar, holdMs: number): Promise<string> {
    const path = sidecar.redisPath
    if (path === null) return 'no Redis path to cut'
    const started = Date.now()
    const seen = new Set<string>()
    await path.cut()
    try {
      while (Date.now() - started < holdMs) {
        const fleet = await this.fleetStatus(sidecar)
        if (fleet?.decidedBy !== undefined) seen.add(`decidedBy ${String(fleet.decidedBy)}`)
        if (fleet?.connected === false) seen.add('disconnected')
        if (await this.silentAtLeader(sidecar)) seen.add('silent at the leading tracker')
        // The pace of observing the cut sidecar; the cut's length is part of the schedule.
        await delay(Math.min(1_000, Math.max(0, holdMs - (Date.now() - started))))
      }
    } finally {
      await path.heal()
    }
    try {
      await eventually(
        async () => {
          const fleet = await this.fleetStatus(sidecar)
          if (fleet?.connected !== true || fleet.decidedBy !== 'tracker')
            throw new Error(`${sidecar.id} fleet status ${JSON.stringify(fleet)}`)
        },
        {
          timeoutMs: BACK_TO_TRACKER_MS,
          intervalMs: 500,
          description: `${sidecar.id} back under the tracker`,
        },
      )
      this.ledger.check('liveness', null)
    } catch (error) {
      this.ledger.violate(
        'liveness',
        `${sidecar.id} not back under the tracker ${BACK_TO_TRACKER_MS} ms after its Redis path was restored: ${String(error)}`,
      )
    }
    return `Redis cut for ${holdMs} ms (${[...seen].join(', ') || 'nothing seen in /status'})`
  }

  /** Whether the leading tracker counts the sidecar as silent (its reports stopped reaching Redis). */
  private async silentAtLeader(sidecar: SoakSidecar): Promise<boolean> {
    const leader = this.fleet.trackers.find(
      (t) => t.id === this.sampler.latestRoles.find((r) => r.role === 'leader')?.id,
    )
    if (leader === undefined) return false
    const answer = await getJson(`${leader.http}/v1/sidecars/${sidecar.id}`, 1_000)
    return (answer?.body as { silent?: unknown } | undefined)?.silent === true
  }

  private async fleetStatus(
    sidecar: SoakSidecar,
  ): Promise<{ connected?: unknown; decidedBy?: unknown } | undefined> {
    const answer = await getJson(`${sidecar.http}/status`, 1_000)
    return (answer?.body as { fleet?: { connected?: unknown; decidedBy?: unknown } } | undefined)?.fleet
  }

  /** Whether the sidecar's /status shows its clock `offsetSeconds` off within a few seconds. */
  private async clockSeen(sidecar: SoakSidecar, offsetSeconds: number): Promise<boolean> {
    try {
      await eventually(
        async () => {
          const answer = await getJson(`${sidecar.http}/status`, 1_000)
          const tick = (answer?.body as { sidecar?: { lastTickAt?: unknown } } | undefined)?.sidecar
            ?.lastTickAt
          const skewMs = typeof tick === 'string' ? Date.parse(tick) - Date.now() : Number.NaN
          if (!(Math.abs(skewMs - offsetSeconds * 1000) < 30_000)) throw new Error(`skew ${skewMs} ms`)
        },
        { timeoutMs: 5_000, intervalMs: 250, description: `${sidecar.id}'s clock` },
      )
      return true
    } catch {
      return false
    }
  }

  private async leader(): Promise<Member | null> {
    const roles = await this.sampler.trackerRoles()
    const leading = roles.find((r) => r.role === 'leader')
    return this.fleet.trackers.find((t) => t.id === leading?.id) ?? null
  }

  /** A sidecar in the middle of a switch or prune when the fault prefers one and there is one; else the planned one. */
  private pickSidecar(fault: PlannedFault): SoakSidecar | null {
    const free = this.fleet.sidecars.filter((s) => !this.busy.has(s.id))
    if (free.length === 0) return null
    if (fault.preferBusy) {
      const busy = free.find((s) => {
        const sample = this.sampler.latest.get(s.id)
        return sample !== undefined && isDisrupting(sample)
      })
      if (busy) return busy
    }
    const planned = this.fleet.sidecars[fault.sidecar]
    return planned && !this.busy.has(planned.id) ? planned : (free[0] ?? null)
  }

  private busyNote(sidecar: SoakSidecar): string {
    const activity = this.sampler.latest.get(sidecar.id)?.activity
    return activity === 'switching' || activity === 'pruning'
      ? `mid-${activity === 'switching' ? 'switch' : 'prune'}`
      : ''
  }
}

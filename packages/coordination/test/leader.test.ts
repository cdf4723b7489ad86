import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type DeposedReason,
  InvalidOptionsError,
  keysOf,
  LeaderElection,
  type LeaderElectionOptions,
  type RedisClient,
  readLeader,
  readLeaderEpoch,
  writeDesiredState,
} from '../src/index.js'
import { connect, makeDesired } from './fixtures.js'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js'

let server: TestRedis
let redis: RedisClient
const elections: LeaderElection[] = []
const timeline: string[] = []

beforeAll(async () => {
  server = await startRedis()
  redis = connect({ role: 'tracker', url: server.url })
})
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  timeline.length = 0
  await eventually(() => expect(redis.status).toBe('ready'), { timeoutMs: 15_000 })
  await redis.flushall()
})
afterEach(async () => {
  await Promise.all(elections.splice(0).map((election) => election.stop({ release: false })))
})

interface Candidate {
  election: LeaderElection
  elected: number[]
  deposed: DeposedReason[]
}

function candidate(name: string, options: Partial<LeaderElectionOptions> = {}): Candidate {
  const elected: number[] = []
  const deposed: DeposedReason[] = []
  const election = new LeaderElection({
    redis,
    candidateId: name,
    leaseMs: 1000,
    retryIntervalMs: 50,
    ...options,
    onElected: (epoch) => {
      elected.push(epoch)
      timeline.push(`${name} elected ${epoch}`)
    },
    onDeposed: (reason, epoch) => {
      deposed.push(reason)
      timeline.push(`${name} deposed ${epoch} ${reason}`)
    },
  })
  elections.push(election)
  return { election, elected, deposed }
}

async function leaderOf(...candidates: Candidate[]): Promise<Candidate> {
  return await eventually(() => {
    const leaders = candidates.filter((c) => c.election.isLeader())
    expect(leaders).toHaveLength(1)
    return leaders[0]!
  })
}

describe('LeaderElection', () => {
  it('rejects timings that leave no room for a renew', () => {
    expect(
      () => new LeaderElection({ redis, candidateId: 'x', leaseMs: 1000, renewIntervalMs: 900 }),
    ).toThrow(InvalidOptionsError)
    expect(() => new LeaderElection({ redis, candidateId: 'x', leaseMs: 10 })).toThrow('leaseMs')
    expect(() => new LeaderElection({ redis, candidateId: 'a:b' })).toThrow('candidate id')
  })

  it('elects exactly one of two candidates, with a new epoch visible to readLeader', async () => {
    const a = candidate('tracker-a')
    const b = candidate('tracker-b')
    a.election.start()
    b.election.start()
    const leader = await leaderOf(a, b)
    const follower = leader === a ? b : a
    expect(leader.elected).toEqual([1])
    expect(leader.election.epoch()).toBe(1)
    expect(follower.election.epoch()).toBeNull()
    const record = await readLeader(redis)
    expect(record).toMatchObject({ epoch: 1, holder: leader === a ? 'tracker-a' : 'tracker-b' })
    expect(record?.ttlMs).toBeGreaterThan(0)
    expect(record?.ttlMs).toBeLessThanOrEqual(1000)
    // It keeps leading across several renewals, and the follower never gets in.
    await eventually(async () => expect((await readLeader(redis))?.ttlMs).toBeGreaterThan(800))
    expect(follower.elected).toEqual([])
  })

  it('after a crash (no renew, no release) the standby takes over once the lease expires; the old epoch is fenced', async () => {
    const a = candidate('tracker-a')
    a.election.start()
    await leaderOf(a)
    const oldEpoch = a.election.epoch()!
    expect(await writeDesiredState(redis, makeDesired({ epoch: oldEpoch }))).toMatchObject({
      status: 'written',
    })

    const b = candidate('tracker-b')
    b.election.start()
    await a.election.stop({ release: false }) // a crash: the lease is left to expire
    expect(await readLeader(redis)).toMatchObject({ epoch: oldEpoch, holder: 'tracker-a' })
    await leaderOf(b)
    const newEpoch = b.election.epoch()!
    expect(newEpoch).toBe(oldEpoch + 1)

    // The deposed leader's writes are refused, for this sidecar and for one the new leader has not touched.
    expect(await writeDesiredState(redis, makeDesired({ epoch: oldEpoch, generation: 2 }))).toMatchObject({
      status: 'not-leader-epoch',
      leaderEpoch: newEpoch,
    })
    expect(
      await writeDesiredState(redis, makeDesired({ sidecarId: 'other', epoch: oldEpoch })),
    ).toMatchObject({
      status: 'not-leader-epoch',
    })
    expect(await writeDesiredState(redis, makeDesired({ epoch: newEpoch }))).toMatchObject({
      status: 'written',
    })
  })

  it('a clean stop releases the lease so the standby takes over without waiting for it to expire', async () => {
    const a = candidate('tracker-a', { leaseMs: 60_000 })
    a.election.start()
    await leaderOf(a)
    const b = candidate('tracker-b', { leaseMs: 60_000 })
    b.election.start()
    await a.election.stop()
    expect(a.deposed).toEqual(['stopped'])
    // With a 60 s lease, only the release can explain a takeover within the default eventually() deadline.
    await leaderOf(b)
    expect(b.election.epoch()).toBe(2)
  })

  it('a leader that loses its lease to someone else steps down on its next renew', async () => {
    const a = candidate('tracker-a', { leaseMs: 3000 })
    a.election.start()
    await leaderOf(a)
    await redis.set(keysOf(redis).leader, 'intruder:1', 'PX', 60_000)
    await eventually(() => expect(a.deposed).toEqual(['lease-lost']))
    expect(a.election.isLeader()).toBe(false)
  })

  it('a leader whose Redis is killed steps down by itself, and is re-elected above its old epoch after a restart', async () => {
    let highestApplied = 0
    const a = candidate('tracker-a', { epochFloor: () => highestApplied })
    a.election.start()
    await leaderOf(a)
    await redis.incrby(keysOf(redis).epoch, 6) // earlier elections
    highestApplied = 7 // what the fleet reports as appliedEpoch: the restarted Redis will not remember it

    await server.kill()
    try {
      await eventually(() => expect(a.deposed).toEqual(['renew-timeout']))
      expect(a.election.isLeader()).toBe(false)
      expect(a.election.epoch()).toBeNull()
    } finally {
      await server.restart() // no persistence: the epoch counter is gone
    }
    await eventually(() => expect(a.elected).toHaveLength(2), { timeoutMs: 15_000 })
    expect(a.elected[1]).toBe(8)
    expect(await readLeaderEpoch(redis)).toBe(8)
  })
})

describe('LeaderElection under a network partition', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await startTcpProxy(server.port)
  })
  afterAll(async () => {
    await proxy.close()
  })

  it('a partitioned leader stops leading before the standby can be elected', async () => {
    const partitionedRedis = connect({ role: 'tracker', url: `redis://127.0.0.1:${proxy.port}` })
    const a = candidate('tracker-a', { redis: partitionedRedis })
    a.election.start()
    await leaderOf(a)
    const b = candidate('tracker-b', { retryIntervalMs: 10 })
    b.election.start()

    // Redis keeps running and the lease expires there on time; only tracker-a cannot reach it.
    proxy.partition()
    await eventually(() => expect(b.elected).toEqual([2]), { timeoutMs: 15_000 })
    expect(timeline).toEqual([
      'tracker-a elected 1',
      'tracker-a deposed 1 renew-timeout',
      'tracker-b elected 2',
    ])
    proxy.heal()
    expect(a.election.isLeader()).toBe(false)
  })
})

import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AclUserSpec,
  aclPasswordHash,
  aclSetUserArgs,
  formatRedisCommand,
  generateAclPassword,
  isDesiredWriteAccepted,
  keysOf,
  LeaderElection,
  loadAllReports,
  monitorAclUser,
  publishReport,
  type RedisClient,
  readDesiredState,
  readLeader,
  readPoolProgress,
  sidecarAclUser,
  subscribeDesiredState,
  trackerAclUser,
  writeDesiredState,
  writePoolProgress,
} from '../src/index.js'
import { connect, makeDesired, makeReport } from './fixtures.js'

let server: TestRedis
let admin: RedisClient
let tracker: RedisClient
let sidecarA: RedisClient
let monitor: RedisClient
let election: LeaderElection
const passwords = new Map<string, string>()

/** Creates the user on the server with a fresh password and returns a URL that logs in as it. */
async function createUser(user: AclUserSpec): Promise<string> {
  const password = generateAclPassword()
  passwords.set(user.username, password)
  const [command, ...args] = aclSetUserArgs(user, password)
  await admin.call(command as string, ...args)
  return `redis://${user.username}:${password}@127.0.0.1:${server.port}`
}

/** Asserts that Redis refused the command for lack of permission (not for any other reason). */
async function expectNoPerm(attempt: Promise<unknown>): Promise<void> {
  await expect(attempt).rejects.toThrow(/NOPERM/)
}

beforeAll(async () => {
  server = await startRedis()
  admin = connect({ role: 'tracker', url: server.url })
  tracker = connect({ role: 'tracker', url: await createUser(trackerAclUser()) })
  sidecarA = connect({ role: 'sidecar', url: await createUser(sidecarAclUser('osmosis-a')) })
  await createUser(sidecarAclUser('osmosis-b'))
  monitor = connect({ role: 'sidecar', url: await createUser(monitorAclUser()) })
  await eventually(() => {
    for (const client of [tracker, sidecarA, monitor]) expect(client.status).toBe('ready')
  })
  election = new LeaderElection({ redis: tracker, candidateId: 'tracker-1' })
  election.start()
  await eventually(() => expect(election.isLeader()).toBe(true))
})
afterAll(async () => {
  await election?.stop()
  await server.stop()
})

describe('ACL rules as printed', () => {
  it('carry the password only as its SHA-256, never in clear', () => {
    const args = aclSetUserArgs(sidecarAclUser('osmosis-a'), 'hunter2-hunter2')
    expect(args).toContain(aclPasswordHash('hunter2-hunter2'))
    expect(formatRedisCommand(args)).not.toContain('hunter2')
    expect(formatRedisCommand(args)).toMatch(/^ACL SETUSER gf-sidecar-osmosis-a reset on #[0-9a-f]{64} /)
  })

  it('bind each sidecar to exact keys and its own channel', () => {
    const rules = sidecarAclUser('osmosis-a').rules.join(' ')
    expect(rules).toContain('&gf:{sc:osmosis-a}:notify')
    expect(rules).toContain('~gf:{sc:osmosis-a}:report')
    expect(rules).toContain(
      '(%R~gf:{sc:osmosis-a}:desired %R~gf:{pool:*}:progress %R~gf:{sc:*}:report +hgetall)',
    )
    expect(rules).toContain('(%R~gf:sidecars +zrange)')
    // Other sidecars' keys only in read-only selectors: no write rule covers them.
    expect(rules).not.toMatch(/(^| )~gf:\{sc:\*/)
    expect(rules).not.toMatch(/%W~gf:\{sc:\*/)
    expect(sidecarAclUser('a', 'staging').rules.join(' ')).toContain('~staging:{sc:a}:report')
  })
})

describe("a sidecar's user does everything a sidecar does", () => {
  it('publishes its report, reads its desired state, the leader and pool progress, and is woken', async () => {
    const epoch = election.epoch()
    expect(epoch).not.toBeNull()
    let wakes = 0
    const subscription = subscribeDesiredState(sidecarA, 'osmosis-a', () => {
      wakes += 1
    })
    await subscription.ready
    await publishReport(sidecarA, makeReport({ sidecarId: 'osmosis-a' }), { intervalMs: 5_000 })

    const written = await writeDesiredState(
      tracker,
      makeDesired({ sidecarId: 'osmosis-a', epoch: epoch ?? 0 }),
    )
    expect(isDesiredWriteAccepted(written)).toBe(true)
    await eventually(() => expect(wakes).toBeGreaterThan(0))
    expect(await readDesiredState(sidecarA, 'osmosis-a')).toMatchObject({ sidecarId: 'osmosis-a' })
    expect(await readLeader(sidecarA)).toMatchObject({ epoch })

    await writePoolProgress(tracker, {
      v: 1,
      chainId: 'kyve-1',
      poolId: 1,
      poolHeightKey: '1000',
      poolHeight: 1000,
      maxBundleSize: 100,
      uploadInterval: 60,
      status: 'POOL_STATUS_ACTIVE',
      disabled: false,
      endpoint: 'https://api.kyve.network',
      fetchedAt: Date.now(),
      epoch: epoch ?? 1,
    })
    expect(await readPoolProgress(sidecarA, 'kyve-1', 1)).toMatchObject({ poolHeight: 1000 })
    const fleet = await loadAllReports(tracker)
    expect([...fleet.reports.keys()]).toContain('osmosis-a')
    await subscription.close()
  })
})

describe("a sidecar's user cannot touch another sidecar's or the tracker's keys (NOPERM)", () => {
  const keysB = () => ({
    report: keysOf(sidecarA).report('osmosis-b'),
    desired: keysOf(sidecarA).desired('osmosis-b'),
    notify: keysOf(sidecarA).notify('osmosis-b'),
  })

  it("cannot write the other sidecar's report, nor read or write its desired state", async () => {
    const b = keysB()
    await expectNoPerm(sidecarA.hset(b.report, 'mode', '"ghost"'))
    await expectNoPerm(sidecarA.hgetall(b.desired))
    await expectNoPerm(sidecarA.hset(b.desired, 'mode', '"ghost"'))
    await expectNoPerm(sidecarA.del(b.desired))
    await expectNoPerm(sidecarA.del(b.report))
    await expectNoPerm(sidecarA.pexpire(b.report, 1))
    // Refused when queued in its MULTI (NOPERM), so the transaction aborts: nothing of it is written.
    await expect(
      publishReport(sidecarA, makeReport({ sidecarId: 'osmosis-b' }), { intervalMs: 5_000 }),
    ).rejects.toThrow(/NOPERM|EXECABORT/)
    expect(await admin.exists(b.report)).toBe(0)
  })

  it('cannot write its own desired state (only the tracker writes commands)', async () => {
    const own = keysOf(sidecarA).desired('osmosis-a')
    await expectNoPerm(sidecarA.hset(own, 'mode', '"normal"'))
    await expectNoPerm(sidecarA.del(own))
    await expectNoPerm(sidecarA.pexpire(own, 1))
  })

  it("cannot touch the tracker's lease, epoch or pool progress, nor read or delete the shared stream", async () => {
    const keys = keysOf(sidecarA)
    await expectNoPerm(sidecarA.set(keys.leader, 'me'))
    await expectNoPerm(sidecarA.del(keys.leader))
    await expectNoPerm(sidecarA.incr(keys.epoch))
    await expectNoPerm(sidecarA.set(keys.epoch, '1000000'))
    await expectNoPerm(sidecarA.del(keys.poolProgress('kyve-1', 1)))
    await expectNoPerm(sidecarA.hset(keys.poolProgress('kyve-1', 1), 'poolHeight', '999999'))
    await expectNoPerm(sidecarA.xrange(keys.reports, '-', '+'))
    await expectNoPerm(sidecarA.del(keys.reports))
    await expectNoPerm(sidecarA.call('XTRIM', keys.reports, 'MAXLEN', '0'))
    await expectNoPerm(sidecarA.zrem(keys.sidecars, 'osmosis-b'))
    await expectNoPerm(sidecarA.zremrangebyscore(keys.sidecars, '-inf', '+inf'))
  })

  it('cannot publish, subscribe to another channel, run scripts or admin commands', async () => {
    const b = keysB()
    await expectNoPerm(sidecarA.publish(keysOf(sidecarA).notify('osmosis-a'), '1:1'))
    await expectNoPerm(sidecarA.publish(b.notify, '1:1'))
    await expectNoPerm(sidecarA.eval("return redis.call('SET', KEYS[1], 'x')", 1, b.desired))
    await expectNoPerm(sidecarA.call('FLUSHALL'))
    await expectNoPerm(sidecarA.call('KEYS', '*'))
    await expectNoPerm(sidecarA.call('CONFIG', 'GET', '*'))
    await expectNoPerm(sidecarA.call('ACL', 'LIST'))
    const spy = connect({
      role: 'tracker',
      url: `redis://gf-sidecar-osmosis-a:${passwords.get('gf-sidecar-osmosis-a')}@127.0.0.1:${server.port}`,
    })
    await expectNoPerm(spy.subscribe(b.notify))
    await expectNoPerm(spy.psubscribe('gf:*'))
  })
})

describe('the tracker and monitoring users', () => {
  it('keep the tracker inside its namespace and away from admin commands', async () => {
    await expectNoPerm(tracker.set('other-app:key', 'x'))
    await expectNoPerm(tracker.call('FLUSHALL'))
    await expectNoPerm(tracker.call('KEYS', '*'))
    await expectNoPerm(tracker.call('CONFIG', 'SET', 'appendonly', 'no'))
    await expectNoPerm(tracker.call('ACL', 'SETUSER', 'gf-tracker', '+@all'))
  })

  it('let the monitor read every Ghostfleet key and write none', async () => {
    const keys = keysOf(monitor)
    expect(await monitor.hgetall(keys.report('osmosis-a'))).toHaveProperty('sidecarId')
    expect(await monitor.xlen(keys.reports)).toBeGreaterThan(0)
    await expectNoPerm(monitor.hset(keys.desired('osmosis-a'), 'mode', '"normal"'))
    await expectNoPerm(monitor.del(keys.report('osmosis-a')))
    await expectNoPerm(monitor.set(keys.leader, 'me'))
    await expectNoPerm(monitor.publish(keys.notify('osmosis-a'), '1:1'))
  })
})

import {
  eventually,
  freePort,
  runProcess,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeHash } from '../src/hash-codec.js'
import {
  FencedDesiredStateError,
  keysOf,
  LeaderElection,
  loadAllReports,
  publishReport,
  type RedisClient,
  ReportConsumer,
  readDesiredState,
  readLeader,
  readPoolProgress,
  subscribeDesiredState,
  UnelectedEpochDesiredStateError,
  writeDesiredState,
  writePoolProgress,
} from '../src/index.js'
import { connect, makeDesired, makeReport } from './fixtures.js'

/**
 * A one-node Redis Cluster owning all 16384 slots. One node is enough to test the layout: cluster mode refuses
 * any command or script whose keys are in different slots (CROSSSLOT), whatever the number of nodes.
 */
let node: TestProcess
let dir: TempDir
let port: number
let tracker: RedisClient
let sidecar: RedisClient

beforeAll(async () => {
  port = await freePort()
  dir = await tempDir('ghostfleet-cluster-')
  node = startProcess('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--cluster-enabled',
    'yes',
    // Without it a lone node announces an empty address in CLUSTER SLOTS, and clients cannot follow it.
    '--cluster-announce-ip',
    '127.0.0.1',
    '--cluster-config-file',
    `${dir.path}/nodes.conf`,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir.path,
  ])
  const cli = (...args: string[]) => runProcess('redis-cli', ['-p', String(port), ...args])
  await eventually(async () => expect((await cli('PING')).stdout.trim()).toBe('PONG'), { timeoutMs: 15_000 })
  await cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  await eventually(async () => expect((await cli('CLUSTER', 'INFO')).stdout).toContain('cluster_state:ok'), {
    timeoutMs: 15_000,
  })
  tracker = connect({ role: 'tracker', cluster: [{ host: '127.0.0.1', port }] })
  sidecar = connect({ role: 'sidecar', cluster: [{ host: '127.0.0.1', port }] })
  await eventually(() => expect(sidecar.status).toBe('ready'), { timeoutMs: 15_000 })
  await eventually(() => expect(tracker.status).toBe('ready'), { timeoutMs: 15_000 })
})
afterAll(async () => {
  await node?.stop()
  await dir?.remove()
})

describe('on Redis Cluster', () => {
  it('really is a cluster: keys of different slots cannot be used together', async () => {
    const keys = keysOf(tracker)
    await expect(tracker.eval('return 1', 2, keys.desired('a'), keys.epoch)).rejects.toThrow(/CROSSSLOT/)
  })

  it('reports: publish, consume, rebuild', async () => {
    const reports: string[] = []
    const consumer = new ReportConsumer({
      redis: tracker,
      consumerName: 'tracker-a',
      blockMs: 200,
      onReport: (report) => {
        reports.push(report.sidecarId)
      },
    })
    consumer.start()
    try {
      await eventually(async () => expect(await tracker.exists(keysOf(tracker).reports)).toBe(1))
      await publishReport(sidecar, makeReport({ sidecarId: 'a' }), { intervalMs: 10_000 })
      await publishReport(sidecar, makeReport({ sidecarId: 'b' }), { intervalMs: 10_000 })
      await eventually(() => expect(reports).toEqual(['a', 'b']))
      expect([...(await loadAllReports(tracker)).reports.keys()].sort()).toEqual(['a', 'b'])
    } finally {
      await consumer.stop()
    }
  })

  it('leader election, epoch pre-check on write, and the sidecar-side epoch fence', async () => {
    let elected = 0
    const election = new LeaderElection({
      redis: tracker,
      candidateId: 'tracker-a',
      leaseMs: 1000,
      onElected: (epoch) => {
        elected = epoch
      },
    })
    election.start()
    try {
      await eventually(() => expect(election.isLeader()).toBe(true))
      expect(await readLeader(sidecar)).toMatchObject({ holder: 'tracker-a', epoch: elected })

      let wakes = 0
      const subscription = subscribeDesiredState(sidecar, 'osmosis-a', () => {
        wakes += 1
      })
      await subscription.ready
      const ds = makeDesired({ epoch: elected, generation: 1 })
      expect(await writeDesiredState(tracker, ds)).toMatchObject({ status: 'written' })
      expect(await writeDesiredState(tracker, ds)).toMatchObject({ status: 'duplicate' })
      expect(
        await writeDesiredState(tracker, makeDesired({ epoch: elected, generation: 1, mode: 'normal' })),
      ).toMatchObject({
        status: 'conflict',
      })
      expect(await writeDesiredState(tracker, makeDesired({ epoch: elected + 1 }))).toMatchObject({
        status: 'not-leader-epoch',
        leaderEpoch: elected,
      })
      await eventually(() => expect(wakes).toBe(1))
      await subscription.close()
      expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(ds)

      // A state written straight into Redis under an epoch no election handed out is overwritten (the script
      // cannot see the counter in its slot; the proof is made outside and the exact token passed in).
      await tracker.hset(
        keysOf(tracker).desired('osmosis-a'),
        encodeHash(makeDesired({ epoch: elected + 1000, generation: 2 })),
      )
      await expect(readDesiredState(sidecar, 'osmosis-a')).rejects.toThrow(UnelectedEpochDesiredStateError)
      const next = makeDesired({ epoch: elected, generation: 2, mode: 'normal', pruneToHeight: null })
      expect(await writeDesiredState(tracker, next, { expireAfterMs: 60_000 })).toMatchObject({
        status: 'written',
        replacedForged: { epoch: elected + 1000, generation: 2 },
      })
      expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(next)
      expect(await tracker.pttl(keysOf(tracker).desired('osmosis-a'))).toBeGreaterThan(0)

      // A newer leader exists: what the old epoch wrote is no longer applied, even though it is stored.
      await tracker.incr(keysOf(tracker).epoch)
      await expect(readDesiredState(sidecar, 'osmosis-a')).rejects.toThrow(FencedDesiredStateError)
    } finally {
      await election.stop()
    }
  })

  it('pool progress', async () => {
    const record = {
      v: 1 as const,
      chainId: 'osmosis-1',
      poolId: 1,
      poolHeightKey: '100',
      poolHeight: 100,
      maxBundleSize: 100,
      uploadInterval: 60,
      status: 'POOL_STATUS_ACTIVE',
      disabled: false,
      endpoint: 'https://api.kyve.network',
      fetchedAt: 1,
      epoch: 1,
    }
    expect(await writePoolProgress(tracker, record)).toBe('written')
    expect(await readPoolProgress(sidecar, 'osmosis-1', 1)).toEqual(record)
  })
})

import { type SidecarReport, ValidationError } from '@ghostfleet/core'
import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  forgetSilentSidecars,
  keysOf,
  loadAllReports,
  publishReport,
  type RedisClient,
  ReportConsumer,
  type ReportEntry,
  type ReportReject,
} from '../src/index.js'
import { connect, makeReport } from './fixtures.js'

let server: TestRedis
let sidecar: RedisClient
let tracker: RedisClient
const consumers: ReportConsumer[] = []

beforeAll(async () => {
  server = await startRedis()
  sidecar = connect({ role: 'sidecar', url: server.url })
  tracker = connect({ role: 'tracker', url: server.url })
  await eventually(() => expect(sidecar.status).toBe('ready'))
})
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  await tracker.flushall()
})
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()))
})

function consume(name: string, options: { claimIdleMs?: number } = {}) {
  const reports: { report: SidecarReport; entry: ReportEntry }[] = []
  const rejects: ReportReject[] = []
  const consumer = new ReportConsumer({
    redis: tracker,
    consumerName: name,
    blockMs: 200,
    ...options,
    onReport: (report, entry) => {
      reports.push({ report, entry })
    },
    onReject: (reject) => rejects.push(reject),
  })
  consumers.push(consumer)
  consumer.start()
  return { consumer, reports, rejects }
}

async function groupReady() {
  await eventually(async () => expect(await tracker.xinfo('GROUPS', keysOf(tracker).reports)).toHaveLength(1))
}

async function pendingCount(): Promise<number> {
  const summary = (await tracker.xpending(keysOf(tracker).reports, 'tracker')) as [number, ...unknown[]]
  return summary[0]
}

describe('publishReport', () => {
  it('writes the hash, the index and the stream; the hash expires after 3 report intervals', async () => {
    const keys = keysOf(tracker)
    const report = makeReport({ lastPrune: { height: 900_000, at: 1_700_000_000_000 } })
    await publishReport(sidecar, report, { intervalMs: 150 })

    const ttl = await tracker.pttl(keys.report('osmosis-a'))
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(3 * 150)
    expect(await tracker.hget(keys.report('osmosis-a'), 'mode')).toBe('"normal"')
    expect(await tracker.zscore(keys.sidecars, 'osmosis-a')).toBe(String(report.reportedAt))
    expect(await tracker.xlen(keys.reports)).toBe(1)
    expect((await loadAllReports(tracker)).reports.get('osmosis-a')).toEqual(report)

    // Silence turns the sidecar into "unknown", it does not stay "fine".
    await eventually(async () => expect(await tracker.exists(keys.report('osmosis-a'))).toBe(0))
    const fleet = await loadAllReports(tracker)
    expect(fleet.reports.size).toBe(0)
    expect(fleet.silent).toEqual([{ sidecarId: 'osmosis-a', lastReportAt: report.reportedAt }])
  })

  it('refuses an invalid report and writes nothing', async () => {
    const bad = makeReport({ nodeHeight: -1 })
    await expect(publishReport(sidecar, bad, { intervalMs: 1000 })).rejects.toThrow(ValidationError)
    await expect(publishReport(sidecar, bad, { intervalMs: 1000 })).rejects.toThrow('nodeHeight')
    expect(await tracker.dbsize()).toBe(0)
  })

  it('keeps the newest report time in the index and caps the stream', async () => {
    const keys = keysOf(tracker)
    await publishReport(sidecar, makeReport({ reportedAt: 2000 }), { intervalMs: 10_000, streamMaxLen: 5 })
    await publishReport(sidecar, makeReport({ reportedAt: 1000 }), { intervalMs: 10_000, streamMaxLen: 5 })
    expect(await tracker.zscore(keys.sidecars, 'osmosis-a')).toBe('2000')
    for (let i = 0; i < 300; i += 1) {
      await publishReport(sidecar, makeReport({ reportedAt: 3000 + i }), {
        intervalMs: 10_000,
        streamMaxLen: 5,
      })
    }
    // MAXLEN ~ trims whole macro nodes (100 entries by default), so "about 5" means well under 300.
    expect(await tracker.xlen(keys.reports)).toBeLessThan(200)
  })
})

describe('loadAllReports', () => {
  it('rebuilds live reports, lists silent sidecars and rejects bad hashes with the reason', async () => {
    const keys = keysOf(tracker)
    await publishReport(sidecar, makeReport({ sidecarId: 'a' }), { intervalMs: 10_000 })
    await publishReport(sidecar, makeReport({ sidecarId: 'b', mode: 'ghost' }), { intervalMs: 10_000 })
    await tracker.zadd(keys.sidecars, 1234, 'silent-one')
    await tracker.zadd(keys.sidecars, 1, 'bad-mode', 1, 'not-json', 1, 'impostor', 1, 'bad:id')
    await tracker.hset(keys.report('bad-mode'), {
      ...encode(makeReport({ sidecarId: 'bad-mode' })),
      mode: '"x"',
    })
    await tracker.hset(keys.report('not-json'), { mode: 'ghost' })
    await tracker.hset(keys.report('impostor'), encode(makeReport({ sidecarId: 'a' })))

    const fleet = await loadAllReports(tracker)
    expect([...fleet.reports.keys()].sort()).toEqual(['a', 'b'])
    expect(fleet.reports.get('b')?.mode).toBe('ghost')
    expect(fleet.silent).toEqual([{ sidecarId: 'silent-one', lastReportAt: 1234 }])
    const reasons = Object.fromEntries(fleet.rejected.map((reject) => [reject.sidecarId, reject.reason]))
    expect(Object.keys(reasons).sort()).toEqual(['bad-mode', 'bad:id', 'impostor', 'not-json'])
    expect(reasons['bad-mode']).toMatch(/mode: expected one of "normal", "ghost"/)
    expect(reasons['not-json']).toMatch(/field "mode" is not JSON/)
    expect(reasons['impostor']).toMatch(/holds the report of sidecar a/)
    expect(reasons['bad:id']).toMatch(/invalid sidecar id/)
  })

  it('forgets sidecars silent since a given time', async () => {
    const keys = keysOf(tracker)
    await tracker.zadd(keys.sidecars, 1000, 'old', 5000, 'recent')
    expect(await forgetSilentSidecars(tracker, 5000)).toBe(1)
    expect(await tracker.zrange(keys.sidecars, 0, -1)).toEqual(['recent'])
  })
})

function encode(report: SidecarReport): Record<string, string> {
  return Object.fromEntries(Object.entries(report).map(([field, value]) => [field, JSON.stringify(value)]))
}

describe('ReportConsumer', () => {
  it('delivers reports through the consumer group and acknowledges them', async () => {
    const { reports, consumer } = consume('tracker-a')
    await groupReady()
    for (const id of ['a', 'b', 'c']) {
      await publishReport(sidecar, makeReport({ sidecarId: id }), { intervalMs: 10_000 })
    }
    await eventually(() => expect(reports.map((r) => r.report.sidecarId)).toEqual(['a', 'b', 'c']))
    expect(reports.every((r) => !r.entry.claimed)).toBe(true)
    await eventually(async () => expect(await pendingCount()).toBe(0))
    expect(consumer.stats()).toMatchObject({ delivered: 3, rejected: 0 })
  })

  it('rejects invalid entries with the reason, acknowledges them and keeps going', async () => {
    const keys = keysOf(tracker)
    const { reports, rejects, consumer } = consume('tracker-a')
    await groupReady()
    await tracker.xadd(keys.reports, '*', 'report', '{not json')
    await tracker.xadd(keys.reports, '*', 'report', JSON.stringify({ ...makeReport(), v: 2 }))
    await tracker.xadd(keys.reports, '*', 'something', 'else')
    await tracker.xadd(keys.reports, '*', 'report', JSON.stringify({ ...makeReport(), sidecarId: 'a{b}' }))
    await publishReport(sidecar, makeReport({ sidecarId: 'good' }), { intervalMs: 10_000 })

    await eventually(() => expect(reports.map((r) => r.report.sidecarId)).toEqual(['good']))
    expect(rejects.map((reject) => reject.reason)).toEqual([
      expect.stringMatching(/is not JSON/),
      expect.stringMatching(/v: expected wire version 1/),
      expect.stringMatching(/no "report" field/),
      expect.stringMatching(/sidecarId: expected a sidecar id/),
    ])
    await eventually(async () => expect(await pendingCount()).toBe(0))
    expect(consumer.stats()).toMatchObject({ delivered: 1, rejected: 4 })
  })

  it('takes over entries a dead consumer left unacknowledged (XAUTOCLAIM) and removes that consumer', async () => {
    const keys = keysOf(tracker)
    await tracker.xgroup('CREATE', keys.reports, 'tracker', '$', 'MKSTREAM')
    await publishReport(sidecar, makeReport({ sidecarId: 'x' }), { intervalMs: 10_000 })
    await publishReport(sidecar, makeReport({ sidecarId: 'y' }), { intervalMs: 10_000 })
    // The old leader read both entries and died before acknowledging them.
    const read = await tracker.xreadgroup(
      'GROUP',
      'tracker',
      'dead-leader',
      'COUNT',
      10,
      'STREAMS',
      keys.reports,
      '>',
    )
    expect(read).not.toBeNull()
    expect(await pendingCount()).toBe(2)

    const { reports, consumer } = consume('new-leader', { claimIdleMs: 300 })
    await eventually(() => expect(reports.map((r) => r.report.sidecarId).sort()).toEqual(['x', 'y']))
    expect(reports.every((r) => r.entry.claimed)).toBe(true)
    expect(await pendingCount()).toBe(0)
    expect(consumer.stats().claimed).toBe(2)
    await eventually(async () => {
      const names = ((await tracker.xinfo('CONSUMERS', keys.reports, 'tracker')) as string[][]).map(
        (row) => row[1],
      )
      expect(names).not.toContain('dead-leader')
    })
  })

  it('re-reads its own pending entries after a restart under the same name', async () => {
    const keys = keysOf(tracker)
    await tracker.xgroup('CREATE', keys.reports, 'tracker', '$', 'MKSTREAM')
    await publishReport(sidecar, makeReport({ sidecarId: 'p' }), { intervalMs: 10_000 })
    await tracker.xreadgroup('GROUP', 'tracker', 'tracker-a', 'COUNT', 10, 'STREAMS', keys.reports, '>')
    const { reports } = consume('tracker-a')
    await eventually(() => expect(reports.map((r) => r.report.sidecarId)).toEqual(['p']))
    expect(await pendingCount()).toBe(0)
  })

  it('counts a failing handler, acknowledges the entry and continues', async () => {
    let calls = 0
    const consumer = new ReportConsumer({
      redis: tracker,
      consumerName: 'tracker-a',
      blockMs: 200,
      onReport: () => {
        calls += 1
        if (calls === 1) throw new Error('boom')
      },
    })
    consumers.push(consumer)
    consumer.start()
    await groupReady()
    await publishReport(sidecar, makeReport({ sidecarId: 'a' }), { intervalMs: 10_000 })
    await publishReport(sidecar, makeReport({ sidecarId: 'b' }), { intervalMs: 10_000 })
    await eventually(() => expect(consumer.stats()).toMatchObject({ delivered: 1, handlerErrors: 1 }))
    await eventually(async () => expect(await pendingCount()).toBe(0))
  })

  it('survives a Redis restart that lost the stream and its group', async () => {
    const { reports, consumer } = consume('tracker-a')
    await groupReady()
    await publishReport(sidecar, makeReport({ sidecarId: 'before' }), { intervalMs: 10_000 })
    await eventually(() => expect(reports).toHaveLength(1))

    await server.kill()
    await server.restart()
    await eventually(() => expect(sidecar.status).toBe('ready'), { timeoutMs: 15_000 })
    await groupReady()
    await publishReport(sidecar, makeReport({ sidecarId: 'after' }), { intervalMs: 10_000 })
    await eventually(() => expect(reports.map((r) => r.report.sidecarId)).toEqual(['before', 'after']), {
      timeoutMs: 15_000,
    })
    expect(consumer.stats().readErrors).toBeGreaterThan(0)
  })

  it('stops while blocked in a read, and when started again receives what was published meanwhile', async () => {
    const { consumer, reports } = consume('tracker-a')
    await groupReady()
    await consumer.stop()
    // Nothing reads while stopped (a tracker that lost leadership)…
    await publishReport(sidecar, makeReport({ sidecarId: 'gap' }), { intervalMs: 10_000 })
    expect(await pendingCount()).toBe(0)
    expect(reports).toEqual([])
    // …and the group's position survives, so the next leadership gets the gap.
    consumer.start()
    await eventually(() => expect(reports.map((r) => r.report.sidecarId)).toEqual(['gap']))
  })
})

import { startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  type BootstrapRecord,
  InvalidBootstrapRecordError,
  keysOf,
  loadBootstrapRecords,
  type RedisClient,
  readBootstrapRecord,
  writeBootstrapRecord,
} from '../src/index.js'
import { connect } from './fixtures.js'

const NOW = 1_700_000_000_000

function record(overrides: Partial<BootstrapRecord> = {}): BootstrapRecord {
  return {
    bootstrapId: 'b-12345678',
    chainId: 'osmosis-1',
    poolId: 1,
    requestedBy: 'osmo-new',
    state: 'pending',
    donor: null,
    donorPeerUrl: null,
    checkpointId: null,
    detail: null,
    expiresAt: NOW + 60_000,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  }
}

let server: TestRedis
let tracker: RedisClient
beforeAll(async () => {
  server = await startRedis()
  tracker = connect({ role: 'tracker', url: server.url })
})
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  await tracker.flushall()
})

describe('bootstrap records', () => {
  it('round-trip, and expire retainMs after the request does', async () => {
    await writeBootstrapRecord(tracker, record(), { now: NOW, retainMs: 5_000 })
    expect(await readBootstrapRecord(tracker, 'b-12345678')).toEqual(record())
    const ttl = await tracker.pttl(keysOf(tracker).bootstrap('b-12345678'))
    expect(ttl).toBeGreaterThan(60_000)
    expect(ttl).toBeLessThanOrEqual(65_000)
    expect(await readBootstrapRecord(tracker, 'b-00000000')).toBeNull()
  })

  it('load every live request for a new leader, dropping index entries past their drop time', async () => {
    await writeBootstrapRecord(tracker, record(), { now: NOW })
    const ready = record({
      bootstrapId: 'b-87654321',
      state: 'ready',
      donor: 'osmo-a',
      donorPeerUrl: 'http://10.0.0.1:26671',
      checkpointId: '1500-20261207T064512123Z',
    })
    await writeBootstrapRecord(tracker, ready, { now: NOW })
    // An entry dropped long ago (its record is gone too).
    await tracker.zadd(keysOf(tracker).bootstraps, 5, 'b-gone-0000')
    const loaded = await loadBootstrapRecords(tracker, NOW)
    expect(loaded.rejected).toEqual([])
    expect(loaded.records.sort((a, b) => a.bootstrapId.localeCompare(b.bootstrapId))).toEqual([
      record(),
      ready,
    ])
    expect(await tracker.zscore(keysOf(tracker).bootstraps, 'b-gone-0000')).toBeNull()
  })

  it('refuse to write an invalid record, and skip a corrupted one on load with the reason', async () => {
    await expect(
      writeBootstrapRecord(tracker, record({ state: 'done' as BootstrapRecord['state'] }), { now: NOW }),
    ).rejects.toThrow(InvalidBootstrapRecordError)
    expect(await tracker.exists(keysOf(tracker).bootstrap('b-12345678'))).toBe(0)
    await writeBootstrapRecord(tracker, record(), { now: NOW })
    await tracker.set(keysOf(tracker).bootstrap('b-12345678'), '{"bootstrapId":"b-12345678"')
    await expect(readBootstrapRecord(tracker, 'b-12345678')).rejects.toThrow(/not JSON/)
    const loaded = await loadBootstrapRecords(tracker, NOW)
    expect(loaded.records).toEqual([])
    expect(loaded.rejected).toEqual([
      { key: 'gf:bootstrap:b-12345678', reason: expect.stringMatching(/not JSON/) },
    ])
  })
})

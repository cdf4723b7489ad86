import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  InvalidPoolProgressError,
  keysOf,
  type PoolProgressRecord,
  type RedisClient,
  readPoolProgress,
  writePoolProgress,
} from '../src/index.js'
import { connect } from './fixtures.js'

function progress(overrides: Partial<PoolProgressRecord> = {}): PoolProgressRecord {
  return {
    v: 1,
    chainId: 'osmosis-1',
    poolId: 1,
    poolHeightKey: '1000000',
    poolHeight: 1_000_000,
    maxBundleSize: 100,
    uploadInterval: 60,
    status: 'POOL_STATUS_ACTIVE',
    disabled: false,
    endpoint: 'https://api.kyve.network',
    fetchedAt: 1_700_000_000_000,
    epoch: 1,
    ...overrides,
  }
}

let server: TestRedis
let tracker: RedisClient
let sidecar: RedisClient
beforeAll(async () => {
  server = await startRedis()
  tracker = connect({ role: 'tracker', url: server.url })
  sidecar = connect({ role: 'sidecar', url: server.url })
  await eventually(() => expect(sidecar.status).toBe('ready'))
})
afterAll(async () => {
  await server.stop()
})
beforeEach(async () => {
  await tracker.flushall()
})

describe('pool progress', () => {
  it('round-trips and drops fields it does not know', async () => {
    const record = progress()
    expect(await writePoolProgress(tracker, { ...record, latencyMs: 12 } as PoolProgressRecord)).toBe(
      'written',
    )
    expect(await readPoolProgress(sidecar, 'osmosis-1', 1)).toEqual(record)
    expect(await readPoolProgress(sidecar, 'osmosis-1', 2)).toBeNull()
  })

  it('keeps a state-sync key without a height', async () => {
    const record = progress({ poolHeightKey: '1000000/3', poolHeight: null })
    await writePoolProgress(tracker, record)
    expect(await readPoolProgress(sidecar, 'osmosis-1', 1)).toEqual(record)
  })

  it('refuses records from an older epoch or fetched earlier in the same epoch', async () => {
    await writePoolProgress(tracker, progress({ epoch: 2, fetchedAt: 2000 }))
    expect(await writePoolProgress(tracker, progress({ epoch: 1, fetchedAt: 9000 }))).toBe('stale-epoch')
    expect(await writePoolProgress(tracker, progress({ epoch: 2, fetchedAt: 1000 }))).toBe('stale-fetch')
    expect(
      await writePoolProgress(
        tracker,
        progress({ epoch: 2, fetchedAt: 3000, poolHeightKey: '1000100', poolHeight: 1_000_100 }),
      ),
    ).toBe('written')
    expect((await readPoolProgress(sidecar, 'osmosis-1', 1))?.poolHeight).toBe(1_000_100)
  })

  it('expires when asked to', async () => {
    await writePoolProgress(tracker, progress(), { expireAfterMs: 100 })
    await eventually(async () => expect(await readPoolProgress(sidecar, 'osmosis-1', 1)).toBeNull())
  })

  it.each([
    ['a height that does not match its key', progress({ poolHeight: 5 }), /poolHeight 5 does not match/],
    ['a negative height', progress({ poolHeight: -1 }), /poolHeight/],
    ['a non-http endpoint', progress({ endpoint: 'ftp://x' }), /endpoint/],
  ])('refuses to write %s', async (_what, record, reason) => {
    await expect(writePoolProgress(tracker, record)).rejects.toThrow(InvalidPoolProgressError)
    await expect(writePoolProgress(tracker, record)).rejects.toThrow(reason)
    expect(await tracker.dbsize()).toBe(0)
  })

  it('refuses a tampered record on read', async () => {
    await writePoolProgress(tracker, progress())
    await tracker.hset(keysOf(tracker).poolProgress('osmosis-1', 1), 'poolHeight', '2000000')
    await expect(readPoolProgress(sidecar, 'osmosis-1', 1)).rejects.toThrow(InvalidPoolProgressError)
    await expect(readPoolProgress(sidecar, 'osmosis-1', 1)).rejects.toThrow(/does not match poolHeightKey/)
  })

  it('refuses a record stored under another pool key', async () => {
    await writePoolProgress(tracker, progress())
    await tracker.copy(
      keysOf(tracker).poolProgress('osmosis-1', 1),
      keysOf(tracker).poolProgress('osmosis-1', 7),
    )
    await expect(readPoolProgress(sidecar, 'osmosis-1', 7)).rejects.toThrow(/holds pool 1 of osmosis-1/)
  })
})

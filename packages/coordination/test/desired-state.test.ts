import { ValidationError } from '@ghostfleet/core'
import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { encodeHash } from '../src/hash-codec.js'
import {
  compareFencingTokens,
  FencedDesiredStateError,
  InvalidDesiredStateError,
  isDesiredWriteAccepted,
  keysOf,
  type RedisClient,
  readDesiredState,
  refreshDesiredStateExpiry,
  subscribeDesiredState,
  UnelectedEpochDesiredStateError,
  writeDesiredState,
} from '../src/index.js'
import { connect, makeDesired } from './fixtures.js'

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

/** What an election would have left behind: the current leader epoch. */
async function leaderEpochIs(epoch: number) {
  await tracker.set(keysOf(tracker).epoch, String(epoch))
}

describe('writeDesiredState fencing (single Redis: one Lua script checks leader epoch and stored token)', () => {
  it('accepts a first state, then only newer generations; a re-write of the same state is a duplicate', async () => {
    await leaderEpochIs(3)
    const first = makeDesired({ epoch: 3, generation: 5 })
    expect(await writeDesiredState(tracker, first)).toEqual({
      status: 'written',
      stored: null,
      leaderEpoch: null,
      replacedForged: null,
    })
    expect(await writeDesiredState(tracker, first)).toEqual({
      status: 'duplicate',
      stored: { epoch: 3, generation: 5 },
      leaderEpoch: null,
      replacedForged: null,
    })
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 3, generation: 4 }))).toMatchObject({
      status: 'stale-generation',
      stored: { epoch: 3, generation: 5 },
    })
    expect(
      await writeDesiredState(tracker, makeDesired({ epoch: 3, generation: 5, mode: 'normal' })),
    ).toMatchObject({
      status: 'conflict',
    })
    expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(first)

    const next = makeDesired({ epoch: 3, generation: 6, mode: 'normal', pruneToHeight: null })
    expect(await writeDesiredState(tracker, next)).toMatchObject({
      status: 'written',
      stored: { generation: 5 },
    })
    expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(next)
  })

  it('refuses a state whose epoch is not the current leader epoch, even for a sidecar not written yet', async () => {
    await leaderEpochIs(4)
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 3 }))).toEqual({
      status: 'not-leader-epoch',
      stored: null,
      leaderEpoch: 4,
      replacedForged: null,
    })
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 5 }))).toMatchObject({
      status: 'not-leader-epoch',
    })
    expect(await tracker.exists(keysOf(tracker).desired('osmosis-a'))).toBe(0)
  })

  it('overwrites, and reports, a stored state whose epoch is above the epoch counter (no election made it)', async () => {
    await leaderEpochIs(7)
    // Written straight into Redis, bypassing the script: what a forger (or a restore gone wrong) leaves.
    await tracker.hset(
      keysOf(tracker).desired('osmosis-a'),
      encodeHash(makeDesired({ epoch: 1_000_000, generation: 3, mode: 'normal', pruneToHeight: null })),
    )
    const mine = makeDesired({ epoch: 7, generation: 1 })
    const result = await writeDesiredState(tracker, mine)
    expect(result).toEqual({
      status: 'written',
      stored: { epoch: 1_000_000, generation: 3 },
      leaderEpoch: null,
      replacedForged: { epoch: 1_000_000, generation: 3 },
    })
    expect(isDesiredWriteAccepted(result)).toBe(true)
    expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(mine)
    // A legitimate newer state is never taken for a forged one: the next write is an ordinary one.
    expect(await writeDesiredState(tracker, makeDesired({ epoch: 7, generation: 2 }))).toMatchObject({
      status: 'written',
      replacedForged: null,
    })
  })

  it('a sidecar never applies a state from an epoch no election handed out', async () => {
    await leaderEpochIs(2)
    await tracker.hset(keysOf(tracker).desired('osmosis-a'), encodeHash(makeDesired({ epoch: 1_000_000 })))
    const error = await readDesiredState(sidecar, 'osmosis-a').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnelectedEpochDesiredStateError)
    expect(error).toMatchObject({ code: 'unelected-epoch', stateEpoch: 1_000_000, leaderEpoch: 2 })
    // Not even a new leader reading its predecessors' states (no stale-epoch fence) takes it.
    await expect(
      readDesiredState(tracker, 'osmosis-a', { fenceByLeaderEpoch: false }),
    ).rejects.toBeInstanceOf(UnelectedEpochDesiredStateError)
  })

  it('lets the hash expire when asked, and refreshes the expiry only of a hash that exists', async () => {
    await leaderEpochIs(1)
    const key = keysOf(tracker).desired('osmosis-a')
    await writeDesiredState(tracker, makeDesired({ epoch: 1 }))
    expect(await tracker.pttl(key)).toBe(-1)
    await writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 2 }), { expireAfterMs: 60_000 })
    const ttl = await tracker.pttl(key)
    expect(ttl).toBeGreaterThan(50_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    expect(await refreshDesiredStateExpiry(tracker, 'osmosis-a', 600_000)).toBe(true)
    expect(await tracker.pttl(key)).toBeGreaterThan(60_000)
    expect(await refreshDesiredStateExpiry(tracker, 'osmosis-b', 600_000)).toBe(false)
    expect(await tracker.exists(keysOf(tracker).desired('osmosis-b'))).toBe(0)
    await expect(
      writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 3 }), { expireAfterMs: 5 }),
    ).rejects.toThrow(/expireAfterMs/)
  })

  it('a newer epoch replaces any generation of an older one, and drops fields the new state lacks', async () => {
    await leaderEpochIs(1)
    await writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 50, signature: 'ab'.repeat(32) }))
    await leaderEpochIs(2)
    const fresh = makeDesired({ epoch: 2, generation: 1 })
    expect(await writeDesiredState(tracker, fresh)).toMatchObject({ status: 'written', stored: { epoch: 1 } })
    expect(await tracker.hexists(keysOf(tracker).desired('osmosis-a'), 'signature')).toBe(0)
    expect(await readDesiredState(sidecar, 'osmosis-a')).toEqual(fresh)
  })

  it('validates before writing', async () => {
    await leaderEpochIs(1)
    const unsafe = makeDesired({ pruneToHeight: 1_000_000, basedOnPoolHeight: 1_000_000 })
    await expect(writeDesiredState(tracker, unsafe)).rejects.toThrow(ValidationError)
    await expect(writeDesiredState(tracker, makeDesired({ sidecarId: 'a:b' }))).rejects.toThrow('sidecarId')
    expect(await tracker.exists(keysOf(tracker).desired('osmosis-a'))).toBe(0)
  })
})

describe('readDesiredState', () => {
  it('returns null when the tracker has written nothing', async () => {
    expect(await readDesiredState(sidecar, 'osmosis-a')).toBeNull()
  })

  it('refuses a state from an epoch older than the current leader epoch', async () => {
    await leaderEpochIs(1)
    await writeDesiredState(tracker, makeDesired({ epoch: 1 }))
    await leaderEpochIs(2) // a new leader was elected and has not rewritten this sidecar yet
    const error = await readDesiredState(sidecar, 'osmosis-a').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FencedDesiredStateError)
    expect(error).toMatchObject({ code: 'stale-epoch', stateEpoch: 1, leaderEpoch: 2 })
  })

  it.each([
    ['a field that is not JSON', { mode: 'ghost' }, 'malformed', /field "mode" is not JSON/],
    ['a schema violation', { pruneToHeight: '"high"' }, 'malformed', /pruneToHeight/],
    [
      'a state for another sidecar',
      { sidecarId: '"osmosis-b"' },
      'wrong-sidecar',
      /addressed to sidecar osmosis-b/,
    ],
  ])('refuses %s with a typed error and the reason', async (_what, tamper, code, reason) => {
    await leaderEpochIs(1)
    await writeDesiredState(tracker, makeDesired({ epoch: 1 }))
    await tracker.hset(keysOf(tracker).desired('osmosis-a'), tamper)
    const error = await readDesiredState(sidecar, 'osmosis-a').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidDesiredStateError)
    expect(error).toMatchObject({ code, sidecarId: 'osmosis-a' })
    expect(String(error)).toMatch(reason)
  })
})

describe('subscribeDesiredState', () => {
  it('wakes the sidecar on every accepted write, not on refused or duplicate ones', async () => {
    await leaderEpochIs(1)
    let wakes = 0
    let otherWakes = 0
    const subscription = subscribeDesiredState(sidecar, 'osmosis-a', () => {
      wakes += 1
    })
    const other = subscribeDesiredState(sidecar, 'osmosis-b', () => {
      otherWakes += 1
    })
    await subscription.ready
    await other.ready
    try {
      await writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 1 }))
      await eventually(() => expect(wakes).toBe(1))
      await writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 1 })) // duplicate
      await writeDesiredState(tracker, makeDesired({ epoch: 2, generation: 9 })) // not the leader epoch
      await writeDesiredState(tracker, makeDesired({ epoch: 1, generation: 2 }))
      await eventually(() => expect(wakes).toBe(2))
      expect(otherWakes).toBe(0)
    } finally {
      await subscription.close()
      await other.close()
    }
  })

  it('wakes the sidecar after its subscriber reconnects (notifications published meanwhile are lost)', async () => {
    let wakes = 0
    const subscription = subscribeDesiredState(sidecar, 'osmosis-a', () => {
      wakes += 1
    })
    await subscription.ready
    try {
      await server.kill()
      await server.restart()
      await eventually(() => expect(wakes).toBe(1), { timeoutMs: 15_000 })
      await eventually(() => expect(tracker.status).toBe('ready'), { timeoutMs: 15_000 })
      await leaderEpochIs(1)
      await writeDesiredState(tracker, makeDesired({ epoch: 1 }))
      await eventually(() => expect(wakes).toBe(2))
    } finally {
      await subscription.close()
    }
  })
})

describe('compareFencingTokens', () => {
  it('orders by epoch first, then generation, like the storage does', () => {
    expect(compareFencingTokens({ epoch: 2, generation: 1 }, { epoch: 1, generation: 99 })).toBeGreaterThan(0)
    expect(compareFencingTokens({ epoch: 1, generation: 99 }, { epoch: 2, generation: 1 })).toBeLessThan(0)
    expect(compareFencingTokens({ epoch: 3, generation: 4 }, { epoch: 3, generation: 5 })).toBeLessThan(0)
    expect(compareFencingTokens({ epoch: 3, generation: 5 }, { epoch: 3, generation: 5 })).toBe(0)
  })
})

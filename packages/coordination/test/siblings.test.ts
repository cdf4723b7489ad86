import { eventually, startRedis, type TestRedis } from '@ghostfleet/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  aclSetUserArgs,
  generateAclPassword,
  InvalidOptionsError,
  keysOf,
  publishReport,
  type RedisClient,
  readSiblings,
  sidecarAclUser,
} from '../src/index.js'
import { connect, makeReport } from './fixtures.js'

let server: TestRedis
let admin: RedisClient
/** Logs in as sidecar `a`'s ACL user: every read below goes through the real sidecar rules. */
let sidecarA: RedisClient
let sidecarB: RedisClient

async function sidecarClient(id: string): Promise<RedisClient> {
  const password = generateAclPassword()
  const [command, ...args] = aclSetUserArgs(sidecarAclUser(id), password)
  await admin.call(command as string, ...args)
  return connect({ role: 'sidecar', url: `redis://gf-sidecar-${id}:${password}@127.0.0.1:${server.port}` })
}

const own = { chainId: 'kyve-1', poolId: 1, selfId: 'a', maxAgeMs: 60_000 }

beforeAll(async () => {
  server = await startRedis()
  admin = connect({ role: 'tracker', url: server.url })
  sidecarA = await sidecarClient('a')
  sidecarB = await sidecarClient('b')
  await eventually(() => {
    expect(sidecarA.status).toBe('ready')
    expect(sidecarB.status).toBe('ready')
  })
})
afterAll(async () => {
  await server.stop()
})

describe('readSiblings, as a sidecar ACL user', () => {
  it('finds the members of its own pool that serve peers, with their heights, and nothing else', async () => {
    const now = Date.now()
    const base = { chainId: 'kyve-1', poolId: 1, reportedAt: now }
    const publish = (overrides: Parameters<typeof makeReport>[0]) =>
      publishReport(admin, makeReport({ ...base, ...overrides }), { intervalMs: 60_000 })
    await publish({ sidecarId: 'a', peerUrl: 'http://10.0.0.1:26672' })
    await publishReport(
      sidecarB,
      makeReport({
        ...base,
        sidecarId: 'b',
        nodeBase: 500,
        nodeHeight: 900,
        peerUrl: 'http://10.0.0.2:26672',
      }),
      { intervalMs: 60_000 },
    )
    await publish({
      sidecarId: 'c',
      activity: 'pruning',
      nodeReachable: false,
      peerUrl: 'https://c.example:443',
    })
    await publish({ sidecarId: 'other-pool', poolId: 2, peerUrl: 'http://10.0.0.4:26672' })
    await publish({ sidecarId: 'other-chain', chainId: 'kaon-1', peerUrl: 'http://10.0.0.5:26672' })
    await publish({ sidecarId: 'no-peer' })
    await publish({ sidecarId: 'old', reportedAt: now - 120_000, peerUrl: 'http://10.0.0.6:26672' })

    const siblings = await readSiblings(sidecarA, { ...own, now })
    expect(siblings).toEqual([
      {
        sidecarId: 'b',
        peerUrl: 'http://10.0.0.2:26672',
        base: 500,
        height: 900,
        serving: true,
        reportedAt: now,
      },
      {
        sidecarId: 'c',
        peerUrl: 'https://c.example:443',
        base: 900_000,
        height: 1_000_500,
        serving: false,
        reportedAt: now,
      },
    ])
  })

  it('skips a report hash that does not validate, and one that has expired', async () => {
    const keys = keysOf(admin)
    await admin.hset(keys.report('broken'), { sidecarId: '"broken"', chainId: '"kyve-1"', poolId: '1' })
    await admin.zadd(keys.sidecars, Date.now(), 'broken')
    await admin.zadd(keys.sidecars, Date.now(), 'expired')
    const ids = (await readSiblings(sidecarA, own)).map((sibling) => sibling.sidecarId)
    expect(ids).toEqual(['b', 'c'])
  })

  it('refuses options it cannot use before asking Redis', async () => {
    await expect(readSiblings(sidecarA, { ...own, maxAgeMs: 0 })).rejects.toBeInstanceOf(InvalidOptionsError)
  })

  it('cannot write what it reads', async () => {
    const keys = keysOf(sidecarA)
    await expect(sidecarA.hset(keys.report('b'), 'nodeHeight', '1')).rejects.toThrow(/NOPERM/)
    await expect(sidecarA.zrem(keys.sidecars, 'b')).rejects.toThrow(/NOPERM/)
  })
})

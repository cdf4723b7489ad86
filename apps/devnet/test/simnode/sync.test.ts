import { readFile } from 'node:fs/promises'
import { eventually, runProcess } from '@ghostfleet/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, Fleet, rpcGet, waitForHeight } from './helpers.js'

const fleet = new Fleet()
afterAll(() => fleet.cleanup())

describe('followers sync only from peers they can find', () => {
  it('a follower via seeds + PEX and one via persistent_peers copy the producer block for block', async () => {
    const chainId = 'sim-sync-1'
    const [p, s, a, b] = await Promise.all([
      fleet.init(chainId, 'producer'),
      fleet.init(chainId, 'seed'),
      fleet.init(chainId, 'follower-a'),
      fleet.init(chainId, 'follower-b'),
    ])
    const producer = await fleet.start(p, ['--producer', '--block-time', '100', '--block-txs', '3'])
    // A seed-mode node knows the producer (persistent peer) and only hands out addresses: follower A can reach
    // the producer only through what PEX tells it.
    const seed = await fleet.start(s, ['--p2p.seed_mode', 'true', '--p2p.persistent_peers', producer.address])
    const followerA = await fleet.start(a, ['--p2p.seeds', seed.address, '--addrbook-flush-ms', '300'])
    const followerB = await fleet.start(b, ['--p2p.persistent_peers', producer.address])

    const target = (await producer.height()) + 20
    await Promise.all([waitForHeight(followerA, target), waitForHeight(followerB, target)])

    for (const h of [1, 2, Math.floor(target / 2), target]) {
      const path = `/block?height=${h}`
      const [fromP, fromA, fromB] = await Promise.all([
        rpcGet(producer.rpcPort, path),
        rpcGet(followerA.rpcPort, path),
        rpcGet(followerB.rpcPort, path),
      ])
      expect(fromP.status).toBe(200)
      expect(fromA.body.result).toEqual(fromP.body.result)
      expect(fromB.body.result).toEqual(fromP.body.result)
      const [resP, resA] = await Promise.all([
        rpcGet(producer.rpcPort, `/block_results?height=${h}`),
        rpcGet(followerA.rpcPort, `/block_results?height=${h}`),
      ])
      expect(resA.body.result).toEqual(resP.body.result)
    }

    // A learned the producer's address from the seed (src = seed) and, once connected, moved it to "old".
    await eventually(
      async () => {
        const book = JSON.parse(await readFile(`${a.home}/config/addrbook.json`, 'utf8'))
        const entry = book.addrs.find((x: { addr: { id: string } }) => x.addr.id === p.id)
        expect(entry).toBeDefined()
        expect(entry.src.id).toBe(s.id)
        expect(entry.bucket_type).toBe(2)
      },
      { timeoutMs: 10_000, description: 'follower A address book' },
    )
    const netInfo = await rpcGet(followerA.rpcPort, '/net_info')
    const peerIds = netInfo.body.result.peers.map((x: { node_info: { id: string } }) => x.node_info.id)
    expect(peerIds).toContain(p.id)
    // The seed answers an inbound peer's PEX request once and disconnects it.
    expect(seed.proc.output()).toContain('seed mode: addresses sent')

    await eventually(async () => {
      for (const n of [followerA, followerB]) {
        expect((await n.status()).body.result.sync_info.catching_up).toBe(false)
      }
    })
    for (const n of [producer, seed, followerA, followerB]) expect(await n.stop()).toBe(0)
  }, 120_000)

  it('a rate-capped follower reports catching_up until it has caught up, then consensus mode', async () => {
    const [p, f] = await Promise.all([
      fleet.init('sim-rate-1', 'producer'),
      fleet.init('sim-rate-1', 'follower'),
    ])
    const gen = await runProcess('node', [CLI, 'generate', '--home', p.home, '--blocks', '200'])
    expect(gen.code).toBe(0)
    const producer = await fleet.start(p, ['--producer', '--block-time', '200'])
    // 200 blocks at 20 blocks/s take 10 s: long enough that the first /status still sees the sync on a loaded machine.
    const follower = await fleet.start(f, ['--p2p.persistent_peers', producer.address, '--sync-rate', '20'])
    const early = (await follower.status()).body.result.sync_info
    expect(early.catching_up).toBe(true)
    expect(Number(early.latest_block_height)).toBeLessThan(200)
    await waitForHeight(follower, 200)
    await eventually(
      async () => expect((await follower.status()).body.result.sync_info.catching_up).toBe(false),
      {
        timeoutMs: 15_000,
      },
    )
    expect(follower.proc.output()).toContain('Time to switch to consensus reactor!')
  }, 60_000)

  it('refuses a peer whose node id is not the one dialed, and one on another chain', async () => {
    const [p, other, f] = await Promise.all([
      fleet.init('sim-auth-1', 'producer'),
      fleet.init('sim-auth-2', 'other-chain'),
      fleet.init('sim-auth-1', 'follower'),
    ])
    const producer = await fleet.start(p, ['--producer', '--block-time', '100'])
    const otherChain = await fleet.start(other, ['--producer', '--block-time', '100'])
    const wrongId = `${'ab'.repeat(20)}@127.0.0.1:${producer.p2pPort}`
    const follower = await fleet.start(f, ['--p2p.persistent_peers', `${wrongId},${otherChain.address}`])
    await waitForHeight(producer, 15)
    await eventually(
      () => {
        const out = follower.proc.output()
        expect(out).toContain('failed to authenticate peer')
        expect(out).toContain('peer is on a different network')
      },
      { timeoutMs: 15_000 },
    )
    expect(await follower.height()).toBe(0)
    expect((await rpcGet(follower.rpcPort, '/net_info')).body.result.n_peers).toBe('0')
  }, 60_000)
})

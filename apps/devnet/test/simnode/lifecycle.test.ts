import { pruneHome } from '@ghostfleet/cometbft'
import { runProcess } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterEach, describe, expect, it } from 'vitest'
import { Fleet, rpcGet, waitForHeight } from './helpers.js'

const fleet = new Fleet()
afterEach(() => fleet.cleanup())

function varint(n: number): number[] {
  const out: number[] = []
  let v = n
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return out
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0
  let shift = 1
  let i = at
  for (;;) {
    const b = buf[i++]!
    value += (b & 0x7f) * shift
    if (b < 0x80) return [value, i]
    shift *= 128
  }
}

/** `tendermint.store.BlockStoreState{base=1, height=2}`, encoded/decoded here without the code under test. */
function encodeBlockStoreState(base: number, height: number): Buffer {
  return Buffer.from([0x08, ...varint(base), 0x10, ...varint(height)])
}

function decodeBlockStoreState(buf: Buffer): { base: number; height: number } {
  const out = { base: 0, height: 0 }
  let i = 0
  while (i < buf.length) {
    const tag = buf[i++]!
    const [v, next] = readVarint(buf, i)
    i = next
    if (tag === 0x08) out.base = v
    else if (tag === 0x10) out.height = v
  }
  return out
}

async function openBlockstore(home: string): Promise<ClassicLevel<string, Buffer>> {
  const db = new ClassicLevel<string, Buffer>(`${home}/data/blockstore.db`, {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  await db.open()
  return db
}

describe('process lifecycle and restarts', () => {
  it('SIGTERM exits 0 and releases the LevelDB lock; a restart resumes from disk and respects a base moved offline', async () => {
    const h = await fleet.init('sim-life-1', 'producer')
    let node = await fleet.start(h, ['--producer', '--block-time', '100'])
    await waitForHeight(node, 25)
    const block20 = (await rpcGet(node.rpcPort, '/block?height=20')).body.result
    // Like goleveldb, the running node holds flock(2) on LOCK (what the sidecar checks before touching a home).
    const flockCheck = () => runProcess('flock', ['-n', `${h.home}/data/blockstore.db/LOCK`, 'true'])
    expect((await flockCheck()).code).not.toBe(0)
    expect(await node.stop()).toBe(0)
    expect((await flockCheck()).code).toBe(0)

    // LOCK released: another process can open the database.
    let db = await openBlockstore(h.home)
    const stored = decodeBlockStoreState((await db.get('blockStore'))!)
    expect(stored.base).toBe(1)
    expect(stored.height).toBeGreaterThanOrEqual(25)
    await db.close()

    node = await fleet.start(h, ['--producer', '--block-time', '100'])
    await waitForHeight(node, stored.height + 5)
    expect((await rpcGet(node.rpcPort, '/block?height=20')).body.result).toEqual(block20)
    const top = (await rpcGet(node.rpcPort, `/block?height=${stored.height}`)).body.result.block_id
    const next = (await rpcGet(node.rpcPort, `/block?height=${stored.height + 1}`)).body.result.block.header
    expect(next.last_block_id).toEqual(top)
    expect(await node.stop()).toBe(0)

    // An offline change moves the base (what a pruner writes last), the node starts on it.
    db = await openBlockstore(h.home)
    const now = decodeBlockStoreState((await db.get('blockStore'))!)
    await db.put('blockStore', encodeBlockStoreState(15, now.height))
    await db.close()
    node = await fleet.start(h)
    const status = (await node.status()).body.result.sync_info
    expect(status.earliest_block_height).toBe('15')
    expect(status.latest_block_height).toBe(String(now.height))
    const b15 = await rpcGet(node.rpcPort, '/block?height=15')
    expect(b15.status).toBe(200)
    expect(status.earliest_block_hash).toBe(b15.body.result.block_id.hash)
    for (const path of ['/block?height=5', '/block_results?height=14']) {
      const r = await rpcGet(node.rpcPort, path)
      expect(r.status).toBe(500)
      expect(r.body.error.data).toBe(
        `height ${path.endsWith('5') ? 5 : 14} is not available, lowest height is 15`,
      )
    }
  }, 90_000)

  it('a home pruned by the offline pruner: the node serves from the new base and keeps producing; peers can follow only above it', async () => {
    const [p, f, fresh] = await Promise.all([
      fleet.init('sim-life-4', 'producer'),
      fleet.init('sim-life-4', 'follower'),
      fleet.init('sim-life-4', 'fresh'),
    ])
    let producer = await fleet.start(p, ['--producer', '--block-time', '100', '--valset-interval', '7'])
    const follower = await fleet.start(f, ['--p2p.persistent_peers', producer.address])
    await waitForHeight(follower, 40)
    expect(await producer.stop()).toBe(0)
    const pruned = await pruneHome({ home: p.home, untilHeight: 30 })
    expect(pruned.toBase).toBe(30)

    producer = await fleet.start(p, [
      '--producer',
      '--block-time',
      '100',
      '--valset-interval',
      '7',
      '--p2p.laddr',
      `tcp://127.0.0.1:${producer.p2pPort}`,
    ])
    expect((await producer.status()).body.result.sync_info.earliest_block_height).toBe('30')
    const below = await rpcGet(producer.rpcPort, '/block?height=29')
    expect(below.body.error.data).toBe('height 29 is not available, lowest height is 30')
    const top = await producer.height()
    await waitForHeight(producer, top + 10)
    // The follower already holds blocks above the base: it keeps following.
    await waitForHeight(follower, top + 10)
    // A new node would need block 1, which only the follower still has; with the follower gone (the producer's
    // peer exchange would otherwise hand out its address), no reachable peer has it (no state sync here): the new
    // node stays empty.
    expect(await follower.stop()).toBe(0)
    const empty = await fleet.start(fresh, ['--p2p.persistent_peers', producer.address])
    await waitForHeight(producer, (await producer.height()) + 10)
    expect(await empty.height()).toBe(0)
    expect((await empty.status()).body.result.sync_info.catching_up).toBe(true)
  }, 90_000)

  it('--crash-after exits 1; a second node on a locked home exits non-zero; --shutdown-delay still exits 0', async () => {
    const h = await fleet.init('sim-life-2', 'node')
    const crashing = await fleet.start(h, ['--crash-after', '1000'])
    expect(await crashing.proc.exited).toBe(1)
    expect(crashing.proc.output()).toContain('simulated crash after 1000 ms')

    const slow = await fleet.start(h, ['--shutdown-delay', '3000'])
    const second = await fleet.start(h, [], { waitForRpc: false })
    expect(await second.proc.exited).not.toBe(0)
    expect(second.proc.output()).toContain('is locked by another process')

    slow.proc.child.kill('SIGTERM')
    // During the delay the node keeps serving, as a slow real node would.
    expect((await rpcGet(slow.rpcPort, '/health')).status).toBe(200)
    expect(await slow.proc.exited).toBe(0)
    expect(slow.proc.output()).toContain('Received signal, shutting down')
    const db = await openBlockstore(h.home)
    await db.close()
  }, 60_000)

  it('refuses bad flags and a busy port with a clear message', async () => {
    const h = await fleet.init('sim-life-3', 'node')
    const badBool = await fleet.start(h, ['--p2p.pex=maybe'], { waitForRpc: false })
    expect(await badBool.proc.exited).not.toBe(0)
    expect(badBool.proc.output()).toContain('invalid argument "maybe" for "--p2p.pex" flag')
    const badPeer = await fleet.start(h, ['--p2p.persistent_peers', 'nothex@127.0.0.1:1'], {
      waitForRpc: false,
    })
    expect(await badPeer.proc.exited).not.toBe(0)
    expect(badPeer.proc.output()).toContain('could not add peers from persistent_peers field')

    const running = await fleet.start(h)
    const other = await fleet.init('sim-life-3', 'other')
    const busy = await fleet.start(other, ['--p2p.laddr', `tcp://127.0.0.1:${running.p2pPort}`], {
      waitForRpc: false,
    })
    expect(await busy.proc.exited).not.toBe(0)
    expect(busy.proc.output()).toContain('EADDRINUSE')
  }, 60_000)
})

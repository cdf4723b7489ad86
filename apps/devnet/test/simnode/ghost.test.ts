import { access, copyFile, readFile, writeFile } from 'node:fs/promises'
import { eventually, freePort } from '@ghostfleet/testkit'
import { afterEach, describe, expect, it } from 'vitest'
import { Fleet, moveFile, type RunningNode, rpcGet, waitForHeight } from './helpers.js'

const fleet = new Fleet()
afterEach(() => fleet.cleanup())

const exists = (f: string) =>
  access(f).then(
    () => true,
    () => false,
  )

/** Asserts that `node` does not move while `producer` advances by at least `blocks`. */
async function assertStaysPut(node: RunningNode, producer: RunningNode, blocks: number): Promise<number> {
  const start = await node.height()
  const target = (await producer.height()) + blocks
  await waitForHeight(producer, target)
  expect(await node.height()).toBe(start)
  return start
}

async function readBook(home: string) {
  return JSON.parse(await readFile(`${home}/config/addrbook.json`, 'utf8')) as {
    key: string
    addrs: { addr: { id: string }; bucket_type: number }[]
  }
}

describe('ghost mode', () => {
  it('a node restarted with no seeds, no peers, PEX off, a fresh laddr and no address book stops syncing but serves RPC', async () => {
    const [p, f] = await Promise.all([
      fleet.init('sim-ghost-1', 'producer'),
      fleet.init('sim-ghost-1', 'follower'),
    ])
    const producer = await fleet.start(p, ['--producer', '--block-time', '100'])
    // The operator's config names the producer as seed and persistent peer: ghost mode's flags must beat it.
    const configFile = `${f.home}/config/config.toml`
    const config = await readFile(configFile, 'utf8')
    await writeFile(
      configFile,
      config
        .replace(/^seeds = ""$/m, `seeds = "${producer.address}"`)
        .replace(/^persistent_peers = ""$/m, `persistent_peers = "${producer.address}"`),
    )
    let follower = await fleet.start(f)
    await waitForHeight(follower, 15)
    expect(await follower.stop()).toBe(0)
    const stash = `${f.home}/addrbook.json`
    await moveFile(`${f.home}/config/addrbook.json`, stash)
    const stashed = await readFile(stash, 'utf8')

    const fresh = await freePort()
    follower = await fleet.start(f, [
      '--p2p.seeds',
      ' ',
      '--p2p.persistent_peers',
      ' ',
      '--p2p.pex=false',
      '--p2p.laddr',
      `tcp://127.0.0.1:${fresh}`,
    ])
    const frozen = await assertStaysPut(follower, producer, 20)
    expect(frozen).toBeGreaterThanOrEqual(15)

    // Still serving what the KYVE protocol node and the sidecar read.
    const status = (await follower.status()).body.result
    expect(status.sync_info.latest_block_height).toBe(String(frozen))
    expect(status.node_info.listen_addr).toBe(`tcp://127.0.0.1:${fresh}`)
    // v0.37 stays in blocksync while it has no peer: a ghost reports catching_up.
    expect(status.sync_info.catching_up).toBe(true)
    const block = await rpcGet(follower.rpcPort, `/block?height=${frozen}`)
    expect(block.status).toBe(200)
    expect(block.body.result.block.header.height).toBe(String(frozen))
    expect((await rpcGet(follower.rpcPort, `/block_results?height=${frozen}`)).body.result.height).toBe(
      String(frozen),
    )
    const abci = await rpcGet(follower.rpcPort, '/abci_info')
    expect(abci.body.result.response.last_block_height).toBe(String(frozen))
    expect((await rpcGet(follower.rpcPort, '/net_info')).body.result.n_peers).toBe('0')

    // DialPeersAsync saves the (never loaded) book at start: a fresh, empty address book appears at once.
    const ghostBook = await readBook(f.home)
    expect(ghostBook.addrs).toEqual([])
    expect(ghostBook.key).toMatch(/^[0-9a-f]{24}$/)
    expect(await readFile(stash, 'utf8')).toBe(stashed)
    expect(await follower.stop()).toBe(0)
  }, 90_000)

  it('removing and restoring the address book: no sync without it, sync again from its entries', async () => {
    const [p, f] = await Promise.all([
      fleet.init('sim-ghost-2', 'producer'),
      fleet.init('sim-ghost-2', 'follower'),
    ])
    const producer = await fleet.start(p, ['--producer', '--block-time', '100'])
    let follower = await fleet.start(f, ['--p2p.persistent_peers', producer.address])
    await waitForHeight(follower, 10)
    expect(await follower.stop()).toBe(0)
    const book = await readBook(f.home)
    expect(book.addrs.find((a) => a.addr.id === p.id)?.bucket_type).toBe(2)

    // Book moved away; no seeds or persistent peers configured; PEX on (config default); new port so that the
    // producer, which knows our old address, cannot dial us.
    const stash = `${f.home}/addrbook.json`
    await moveFile(`${f.home}/config/addrbook.json`, stash)
    follower = await fleet.start(f, [
      '--p2p.laddr',
      `tcp://127.0.0.1:${await freePort()}`,
      '--addrbook-flush-ms',
      '200',
    ])
    await assertStaysPut(follower, producer, 20)
    await eventually(async () => expect((await readBook(f.home)).addrs).toEqual([]))
    expect(await follower.stop()).toBe(0)
    expect((await readBook(f.home)).addrs).toEqual([])

    // Restored: the node dials the producer from the book and catches up.
    await copyFile(stash, `${f.home}/config/addrbook.json`)
    follower = await fleet.start(f, ['--p2p.laddr', `tcp://127.0.0.1:${await freePort()}`])
    const target = await producer.height()
    await waitForHeight(follower, target)
    expect(await follower.stop()).toBe(0)
    expect(await exists(stash)).toBe(true)
  }, 90_000)

  it('with PEX off the address book is neither dialed nor kept: the start-up save empties it', async () => {
    const [p, f] = await Promise.all([
      fleet.init('sim-ghost-4', 'producer'),
      fleet.init('sim-ghost-4', 'follower'),
    ])
    const producer = await fleet.start(p, ['--producer', '--block-time', '100'])
    let follower = await fleet.start(f, ['--p2p.persistent_peers', producer.address])
    await waitForHeight(follower, 10)
    expect(await follower.stop()).toBe(0)
    expect((await readBook(f.home)).addrs.map((a) => a.addr.id)).toEqual([p.id])

    follower = await fleet.start(f, ['--p2p.pex=false', '--p2p.laddr', `tcp://127.0.0.1:${await freePort()}`])
    await eventually(async () => expect((await readBook(f.home)).addrs).toEqual([]))
    await assertStaysPut(follower, producer, 20)
    expect(await follower.stop()).toBe(0)
    expect((await readBook(f.home)).addrs).toEqual([])
  }, 60_000)

  it('a malformed address book stops the node at start (CometBFT panics), unless PEX is off', async () => {
    const f = await fleet.init('sim-ghost-3', 'follower')
    await writeFile(`${f.home}/config/addrbook.json`, '{"key": "abc", "addrs": [{')
    const node = await fleet.start(f, [], { waitForRpc: false })
    const code = await node.proc.exited
    expect(code).not.toBe(0)
    expect(node.proc.output()).toContain('Error reading file')
    expect(node.proc.output()).toContain('addrbook.json')

    // With PEX off the book is never loaded, and the start-up save replaces it.
    const off = await fleet.start(f, ['--p2p.pex', 'false'])
    await eventually(async () => expect((await readBook(f.home)).addrs).toEqual([]))
    expect(await off.stop()).toBe(0)
  }, 60_000)
})

import { fileURLToPath } from 'node:url'
import { runProcess } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import protobuf from 'protobufjs'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI, Fleet, waitForHeight } from './helpers.js'

const fleet = new Fleet()
afterAll(() => fleet.cleanup())

const fixtures = (name: string) => fileURLToPath(new URL(`../fixtures/simnode/${name}`, import.meta.url))

type Db = ClassicLevel<string, Buffer>

async function open(path: string): Promise<Db> {
  const db = new ClassicLevel<string, Buffer>(path, {
    keyEncoding: 'utf8',
    valueEncoding: 'buffer',
    createIfMissing: false,
  })
  await db.open()
  return db
}

// biome-ignore lint/suspicious/noExplicitAny: protobufjs objects are plain decoded JSON-like trees
type Obj = any

describe('an independent reader of the simulated node data', () => {
  it('decodes blockstore.db with protobufjs from .proto text; a synced follower holds byte-identical values', async () => {
    const chainId = 'sim-reader-1'
    const [p, f] = await Promise.all([fleet.init(chainId, 'producer'), fleet.init(chainId, 'follower')])
    // Multi-part blocks: 8 txs × 200 bytes in 512-byte parts.
    const gen = await runProcess('node', [
      CLI,
      'generate',
      '--home',
      p.home,
      '--blocks',
      '300',
      '--part-size',
      '512',
      '--block-txs',
      '8',
      '--tx-size',
      '200',
    ])
    expect(gen.code).toBe(0)
    expect(JSON.parse(gen.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      chain_id: chainId,
      last_height: 300,
    })

    const producer = await fleet.start(p, [
      '--producer',
      '--block-time',
      '100',
      '--part-size',
      '512',
      '--block-txs',
      '8',
      '--tx-size',
      '200',
    ])
    const follower = await fleet.start(f, ['--p2p.persistent_peers', producer.address])
    await waitForHeight(follower, 320)
    expect(await follower.stop()).toBe(0)
    expect(await producer.stop()).toBe(0)

    const root = new protobuf.Root().loadSync([fixtures('types.proto'), fixtures('store.proto')], {
      keepCase: true,
    })
    const T = (name: string) => root.lookupType(name)
    const decode = (name: string, bytes: Buffer): Obj =>
      T(name).toObject(T(name).decode(bytes), { longs: Number, defaults: true })

    const fb = await open(`${f.home}/data/blockstore.db`)
    const pb = await open(`${p.home}/data/blockstore.db`)
    const fs = await open(`${f.home}/data/state.db`)
    const ps = await open(`${p.home}/data/state.db`)
    try {
      const state = decode('tendermint.store.BlockStoreState', (await fb.get('blockStore'))!)
      expect(state.base).toBe(1)
      expect(state.height).toBeGreaterThanOrEqual(320)

      let multiPart = 0
      for (const h of [1, 2, 99, 100, 101, 102, 150, 250, 300, 301, 310, 320]) {
        const meta = decode('tendermint.types.BlockMeta', (await fb.get(`H:${h}`))!)
        const total = meta.block_id.part_set_header.total
        const parts: Buffer[] = []
        for (let i = 0; i < total; i++) {
          const part = decode('tendermint.types.Part', (await fb.get(`P:${h}:${i}`))!)
          expect(part.index).toBe(i)
          parts.push(Buffer.from(part.bytes))
        }
        if (total > 1) multiPart++
        const blockBytes = Buffer.concat(parts)
        expect(blockBytes.length).toBe(meta.block_size)
        const block = decode('tendermint.types.Block', blockBytes)
        expect(block.header.height).toBe(h)
        expect(block.header.chain_id).toBe(chainId)
        expect(block.header).toEqual(meta.header)
        expect(block.data.txs).toHaveLength(8)
        expect(meta.num_txs).toBe(8)
        expect(block.last_commit.height).toBe(h === 1 ? 0 : h - 1)
        // BH:<lowercase hex hash> → ASCII height.
        const hash = Buffer.from(meta.block_id.hash).toString('hex')
        expect((await fb.get(`BH:${hash}`))!.toString('latin1')).toBe(String(h))
        // C:<h-1> holds block h's last_commit.
        if (h > 1)
          expect(decode('tendermint.types.Commit', (await fb.get(`C:${h - 1}`))!)).toEqual(block.last_commit)
        expect(decode('tendermint.types.Commit', (await fb.get(`SC:${h}`))!).height).toBe(h)
      }
      expect(multiPart).toBeGreaterThan(0)

      // Byte-identical copies, block store and state store alike.
      for (let h = 1; h <= 320; h++) {
        const meta = (await pb.get(`H:${h}`))!
        expect((await fb.get(`H:${h}`))!.equals(meta)).toBe(true)
        const total = decode('tendermint.types.BlockMeta', meta).block_id.part_set_header.total
        for (let i = 0; i < total; i++)
          expect((await fb.get(`P:${h}:${i}`))!.equals((await pb.get(`P:${h}:${i}`))!)).toBe(true)
        for (const key of [`SC:${h}`, `C:${h - 1}`]) {
          const a = await pb.get(key)
          if (a !== undefined) expect((await fb.get(key))?.equals(a)).toBe(true)
        }
        for (const key of [`abciResponsesKey:${h}`, `validatorsKey:${h}`, `consensusParamsKey:${h}`]) {
          expect((await fs.get(key))?.equals((await ps.get(key))!)).toBe(true)
        }
      }
    } finally {
      await Promise.all([fb.close(), pb.close(), fs.close(), ps.close()])
    }
  }, 120_000)
})

import { cp, rm } from 'node:fs/promises'
import path from 'node:path'
import {
  BLOCK_STORE_STATE_KEY,
  DatabaseLockedError,
  decodeConsensusParamsInfo,
  decodeValidatorsInfo,
  defaultConsensusParams,
  encodeBlockStoreState,
  encodeCommit,
  encodeValidatorSet,
  isEmptyConsensusParams,
  StoreNotFoundError,
  validatorSetHash,
} from '@ghostfleet/cometbft'
import { type TempDir, tempDir } from '@ghostfleet/testkit'
import { ClassicLevel } from 'classic-level'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ChainStoreError } from '../../src/simnode/errors.js'
import { ChainStore } from '../../src/simnode/store/chain-store.js'
import { blockHash, makeSyntheticBlock } from '../../src/simnode/store/synthetic.js'
import { SyntheticChain } from '../../src/simnode/store/synthetic-chain.js'
import {
  CHANGED_PARAMS,
  chainOptions,
  GENESIS_SET,
  SECOND_SET,
  STANDARD_CHANGES,
  THIRD_SET,
  writeChain,
} from './chain-fixtures.js'
import { dumpDb, hex, plain } from './store-helpers.js'

let tmp: TempDir
let dataDir: string

beforeEach(async () => {
  tmp = await tempDir('gf-chainstore-')
  dataDir = path.join(tmp.path, 'data')
})

afterEach(async () => {
  await tmp.remove()
})

describe('ChainStore.open', () => {
  it('refuses a missing store by default, naming the path', async () => {
    const err = await ChainStore.open(dataDir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreNotFoundError)
    expect((err as Error).message).toContain(path.join(dataDir, 'blockstore.db'))
  })

  it('creates an empty store with create: true', async () => {
    const store = await ChainStore.open(dataDir, { create: true })
    expect([store.base(), store.height()]).toEqual([0, 0])
    expect(await store.loadState()).toBeNull()
    expect(await store.loadBlock(1)).toBeNull()
    await store.close()
  })

  it('holds the LevelDB lock until close', async () => {
    const store = await ChainStore.open(dataDir, { create: true })
    await expect(ChainStore.open(dataDir)).rejects.toBeInstanceOf(DatabaseLockedError)
    await store.close()
    const again = await ChainStore.open(dataDir)
    await again.close()
  })
})

describe('ChainStore.appendBlocks', () => {
  it('stores blocks that load back identical, with consistent hashes and commits', async () => {
    const { blocks } = await writeChain(dataDir, 60, { batch: 7, changes: STANDARD_CHANGES })
    const store = await ChainStore.open(dataDir, { readOnly: true })
    try {
      expect([store.base(), store.height()]).toEqual([1, 60])
      for (const input of blocks) {
        const h = input.block.header.height
        const loaded = await store.loadBlock(h)
        expect(loaded, `block ${h}`).not.toBeNull()
        expect(plain(loaded!.block)).toEqual(plain(input.block))
        const hash = blockHash(input.block)
        expect(hex(loaded!.meta.blockId.hash)).toBe(hex(hash))
        expect(loaded!.meta.blockId.partSetHeader.total).toBeGreaterThan(1)
        expect(loaded!.meta.numTxs).toBe(3)
        expect(await store.loadBlockHeightByHash(hash)).toBe(h)
        expect(plain(await store.loadSeenCommit(h))).toEqual(plain(input.seenCommit))
        if (h < 60) {
          // C:h comes from block h+1's last_commit and equals what this node saw.
          const next = blocks[h]!.block
          expect(hex(next.header.lastBlockId.hash)).toBe(hex(hash))
          expect(hex(encodeCommit((await store.loadCommit(h))!))).toBe(hex(encodeCommit(next.lastCommit!)))
          expect(hex(encodeCommit((await store.loadCommit(h))!))).toBe(hex(encodeCommit(input.seenCommit!)))
        }
        expect(plain(await store.loadBlockResults(h))).toEqual(plain(input.results))
      }
      expect(await store.loadCommit(60)).toBeNull()
      expect(await store.loadBlock(0)).toBeNull()
      expect(await store.loadBlock(61)).toBeNull()
      expect(await store.loadSeenCommit(61)).toBeNull()
    } finally {
      await store.close()
    }
  })

  it('writes exactly the CometBFT keys', async () => {
    await writeChain(dataDir, 30, { batch: 30, changes: STANDARD_CHANGES })
    const blockKeys = [...(await dumpDb(path.join(dataDir, 'blockstore.db'))).keys()]
    const count = (prefix: string) => blockKeys.filter((k) => k.startsWith(prefix)).length
    expect(count('H:')).toBe(30)
    expect(count('SC:')).toBe(30)
    expect(count('BH:')).toBe(30)
    // C:0 .. C:29: SaveBlock(h) writes C:(h-1), including the initial block's empty commit at C:0.
    expect(count('C:')).toBe(30)
    expect(blockKeys).toContain('C:0')
    expect(blockKeys).not.toContain('C:30')
    expect(count('P:')).toBeGreaterThan(60)
    expect(blockKeys.filter((k) => !/^(H|SC|BH|C|P):/.test(k))).toEqual(['blockStore'])
    expect(blockKeys.some((k) => k.startsWith('EC:'))).toBe(false)

    const stateKeys = [...(await dumpDb(path.join(dataDir, 'state.db'))).keys()].sort()
    const expected = [
      ...Array.from({ length: 30 }, (_, i) => `abciResponsesKey:${i + 1}`),
      ...Array.from({ length: 31 }, (_, i) => `consensusParamsKey:${i + 1}`),
      ...Array.from({ length: 32 }, (_, i) => `validatorsKey:${i + 1}`),
      'lastABCIResponseKey',
      'stateKey',
    ].sort()
    expect(stateKeys).toEqual(expected)
  })

  it('stores full validator sets at change heights and pointers elsewhere (validators h+2, params h+1)', async () => {
    await writeChain(dataDir, 60, { batch: 13, changes: STANDARD_CHANGES })
    const state = await dumpDb(path.join(dataDir, 'state.db'))
    const vals = (h: number) => decodeValidatorsInfo(state.get(`validatorsKey:${h}`)!)
    const params = (h: number) => decodeConsensusParamsInfo(state.get(`consensusParamsKey:${h}`)!)
    for (let h = 1; h <= 62; h++) {
      const v = vals(h)
      const lhc = h < 12 ? 1 : h < 42 ? 12 : 42
      expect(v.lastHeightChanged, `validatorsKey:${h}`).toBe(lhc)
      expect(v.validatorSet !== null, `validatorsKey:${h} full?`).toBe(h === 1 || h === 12 || h === 42)
    }
    expect(hex(encodeValidatorSet(vals(1).validatorSet!))).toBe(hex(encodeValidatorSet(GENESIS_SET)))
    expect(hex(encodeValidatorSet(vals(12).validatorSet!))).toBe(hex(encodeValidatorSet(SECOND_SET)))
    expect(hex(encodeValidatorSet(vals(42).validatorSet!))).toBe(hex(encodeValidatorSet(THIRD_SET)))
    for (let h = 1; h <= 61; h++) {
      const p = params(h)
      expect(p.lastHeightChanged, `consensusParamsKey:${h}`).toBe(h < 21 ? 1 : 21)
      expect(isEmptyConsensusParams(p.consensusParams), `consensusParamsKey:${h} empty?`).toBe(
        h !== 1 && h !== 21,
      )
    }
    expect(plain(params(21).consensusParams)).toEqual(plain(CHANGED_PARAMS))
    expect(plain(params(1).consensusParams)).toEqual(plain(defaultConsensusParams()))
    // Pointer entries are the v0.37 empty encoding.
    expect(state.get('consensusParamsKey:2')!.toString('hex')).toBe('0a001001')

    const store = await ChainStore.open(dataDir, { readOnly: true })
    try {
      const s = (await store.loadState())!
      expect(s.lastBlockHeight).toBe(60)
      expect(s.lastHeightValidatorsChanged).toBe(42)
      expect(s.lastHeightConsensusParamsChanged).toBe(21)
      expect(hex(encodeValidatorSet(s.validators!))).toBe(hex(encodeValidatorSet(THIRD_SET)))
      expect(hex(encodeValidatorSet((await store.loadValidators(11))!))).toBe(
        hex(encodeValidatorSet(GENESIS_SET)),
      )
      expect(hex(encodeValidatorSet((await store.loadValidators(12))!))).toBe(
        hex(encodeValidatorSet(SECOND_SET)),
      )
      expect(plain(await store.loadConsensusParams(20))).toEqual(plain(defaultConsensusParams()))
      expect(plain(await store.loadConsensusParams(21))).toEqual(plain(CHANGED_PARAMS))
      // Headers agree with the state: the set of height 12 is SECOND_SET, announced as next at 11.
      const b11 = (await store.loadBlock(11))!.block.header
      const b12 = (await store.loadBlock(12))!.block.header
      expect(hex(b11.validatorsHash)).toBe(hex(validatorSetHash(GENESIS_SET)))
      expect(hex(b11.nextValidatorsHash)).toBe(hex(validatorSetHash(SECOND_SET)))
      expect(hex(b12.validatorsHash)).toBe(hex(validatorSetHash(SECOND_SET)))
      // Block 12 is signed by SECOND_SET.
      expect((await store.loadSeenCommit(12))!.signatures.length).toBe(4)
      expect((await store.loadSeenCommit(11))!.signatures.length).toBe(3)
    } finally {
      await store.close()
    }
  })

  it('stores a full validator set at every multiple of 100000 (checkpoint)', async () => {
    await writeChain(dataDir, 20, { chain: { initialHeight: 99_990 } })
    const state = await dumpDb(path.join(dataDir, 'state.db'))
    const v = (h: number) => decodeValidatorsInfo(state.get(`validatorsKey:${h}`)!)
    expect(v(99_990).validatorSet).not.toBeNull()
    expect(v(99_999).validatorSet).toBeNull()
    expect(v(100_000).validatorSet).not.toBeNull()
    expect(v(100_000).lastHeightChanged).toBe(99_990)
    expect(v(100_001).validatorSet).toBeNull()
    expect(state.has('validatorsKey:99989')).toBe(false)
    const store = await ChainStore.open(dataDir, { readOnly: true })
    expect([store.base(), store.height()]).toEqual([99_990, 100_009])
    await store.close()
  })

  it('accepts plain makeSyntheticBlock blocks with default seen commits and results', async () => {
    const store = await ChainStore.open(dataDir, { create: true })
    try {
      const common = { chainId: 'plain-1', txCount: 1, txSize: 10, validators: GENESIS_SET }
      const b1 = makeSyntheticBlock({
        ...common,
        height: 1,
        time: new Date(1000),
        lastBlockId: null,
        lastCommit: null,
      })
      await store.appendBlocks([{ block: b1, partSize: 65536 }], {
        genesis: { chainId: 'plain-1', genesisTime: new Date(0), validators: GENESIS_SET },
      })
      const meta1 = (await store.loadBlockMeta(1))!
      const b2 = makeSyntheticBlock({
        ...common,
        height: 2,
        time: new Date(2000),
        lastBlockId: meta1.blockId,
        lastCommit: await store.loadSeenCommit(1),
      })
      await store.appendBlocks([{ block: b2, partSize: 65536 }])
      expect(store.height()).toBe(2)
      expect((await store.loadBlockResults(2))!.deliverTxs.length).toBe(1)
      expect((await store.loadSeenCommit(2))!.signatures.length).toBe(3)
    } finally {
      await store.close()
    }
  })

  it('rejects non-contiguous heights, foreign chains, wrong parents and a missing genesis', async () => {
    const chain = new SyntheticChain(chainOptions())
    const [b1, b2, b3] = chain.take(3)
    const store = await ChainStore.open(dataDir, { create: true })
    try {
      await expect(store.appendBlocks([b1!])).rejects.toThrow(/first append must pass options.genesis/)
      await store.appendBlocks([b1!], { genesis: chain.genesis })
      await expect(store.appendBlocks([b3!])).rejects.toThrow(/contiguous, the next height is 2/)
      await expect(store.appendBlocks([b1!])).rejects.toThrow(ChainStoreError)
      const other = new SyntheticChain(chainOptions({ chainId: 'other-1' }))
      other.next()
      await expect(store.appendBlocks([other.next()])).rejects.toThrow(/chain id other-1/)
      const forked = new SyntheticChain(chainOptions({ genesisTime: new Date('2020-01-01T00:00:00Z') }))
      forked.next()
      await expect(store.appendBlocks([forked.next()])).rejects.toThrow(/points at last block/)
      // A failed call writes nothing.
      expect(store.height()).toBe(1)
      await store.appendBlocks([b2!, b3!])
      expect(store.height()).toBe(3)
    } finally {
      await store.close()
    }
  })

  it('refuses writes when opened read-only', async () => {
    const { chain } = await writeChain(dataDir, 3)
    const store = await ChainStore.open(dataDir, { readOnly: true })
    await expect(store.appendBlocks([chain.next()])).rejects.toThrow(/read-only/)
    await store.close()
  })

  it('respects a base moved by an offline pruner and keeps appending after a restart', async () => {
    await writeChain(dataDir, 40)
    const raw = new ClassicLevel<Buffer, Buffer>(path.join(dataDir, 'blockstore.db'), {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    })
    await raw.put(BLOCK_STORE_STATE_KEY, Buffer.from(encodeBlockStoreState({ base: 30, height: 40 })))
    await raw.close()
    const store = await ChainStore.open(dataDir)
    try {
      expect([store.base(), store.height()]).toEqual([30, 40])
      expect(await store.loadBlock(29)).toBeNull()
      expect(await store.loadBlockResults(29)).toBeNull()
      expect(await store.loadBlock(30)).not.toBeNull()
      const chain = await SyntheticChain.resume(store, chainOptions())
      expect(chain.nextHeight).toBe(41)
      await store.appendBlocks(chain.take(5))
      expect([store.base(), store.height()]).toEqual([30, 45])
    } finally {
      await store.close()
    }
    // The resumed chain equals the chain written in one go.
    const fresh = path.join(tmp.path, 'fresh')
    const { blocks } = await writeChain(fresh, 45)
    const a = await ChainStore.open(dataDir, { readOnly: true })
    expect(hex(blockHash((await a.loadBlock(45))!.block))).toBe(hex(blockHash(blocks[44]!.block)))
    await a.close()
  })

  it('repairs blocks written without their state (crash between the two batches)', async () => {
    const shorter = path.join(tmp.path, 'shorter')
    await writeChain(shorter, 10, { changes: STANDARD_CHANGES })
    await writeChain(dataDir, 14, { changes: STANDARD_CHANGES })
    // Blocks 11-14 on disk, state at 10.
    await rm(path.join(dataDir, 'state.db'), { recursive: true })
    await cp(path.join(shorter, 'state.db'), path.join(dataDir, 'state.db'), { recursive: true })
    const store = await ChainStore.open(dataDir)
    expect(store.height()).toBe(10)
    await store.close()
    expect(
      [...(await dumpDb(path.join(dataDir, 'blockstore.db')))].map(([k, v]) => [k, v.toString('hex')]),
    ).toEqual(
      [...(await dumpDb(path.join(shorter, 'blockstore.db')))].map(([k, v]) => [k, v.toString('hex')]),
    )
  })
})

describe('raw block copy (a syncing follower)', () => {
  it('produces byte-identical databases', async () => {
    const { chain } = await writeChain(dataDir, 50, { changes: STANDARD_CHANGES })
    const followerDir = path.join(tmp.path, 'follower')
    const leader = await ChainStore.open(dataDir, { readOnly: true })
    const follower = await ChainStore.open(followerDir, { create: true })
    try {
      for (const [from, to] of [
        [1, 1],
        [2, 33],
        [34, 50],
      ] as const) {
        const raws = []
        for (let h = from; h <= to; h++) raws.push((await leader.loadRawBlock(h))!)
        await follower.appendRawBlocks(raws, { genesis: chain.genesis })
      }
      expect(await leader.loadRawBlock(51)).toBeNull()
      expect(follower.height()).toBe(50)
    } finally {
      await leader.close()
      await follower.close()
    }
    for (const db of ['blockstore.db', 'state.db']) {
      const a = [...(await dumpDb(path.join(dataDir, db)))].map(([k, v]) => `${k}=${v.toString('hex')}`)
      const b = [...(await dumpDb(path.join(followerDir, db)))].map(([k, v]) => `${k}=${v.toString('hex')}`)
      expect(b, db).toEqual(a)
    }
  })

  it('rejects raw blocks whose parts do not match their meta', async () => {
    const { chain } = await writeChain(dataDir, 2)
    const leader = await ChainStore.open(dataDir, { readOnly: true })
    const follower = await ChainStore.open(path.join(tmp.path, 'f'), { create: true })
    try {
      const raw = (await leader.loadRawBlock(1))!
      const tampered = { ...raw, parts: [...raw.parts].reverse() }
      await expect(follower.appendRawBlocks([tampered], { genesis: chain.genesis })).rejects.toThrow(
        /do not hash to the part set header/,
      )
      await expect(
        follower.appendRawBlocks([{ ...raw, parts: raw.parts.slice(1) }], { genesis: chain.genesis }),
      ).rejects.toThrow(/parts, its meta says/)
      expect(follower.height()).toBe(0)
    } finally {
      await leader.close()
      await follower.close()
    }
  })
})

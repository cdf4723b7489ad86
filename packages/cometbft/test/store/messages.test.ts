import fc from 'fast-check'
import type protobuf from 'protobufjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  decodeABCIResponses,
  decodeABCIResponsesInfo,
  decodeBlock,
  decodeBlockId,
  decodeBlockMeta,
  decodeBlockMetaIds,
  decodeBlockStoreState,
  decodeCommit,
  decodeCommitSig,
  decodeConsensus,
  decodeConsensusParams,
  decodeConsensusParamsInfo,
  decodeData,
  decodeEvent,
  decodeEventAttribute,
  decodeEvidenceList,
  decodeHeader,
  decodePart,
  decodePartSetHeader,
  decodeProof,
  decodePublicKey,
  decodeResponseBeginBlock,
  decodeResponseDeliverTx,
  decodeResponseEndBlock,
  decodeState,
  decodeTimestamp,
  decodeValidator,
  decodeValidatorSet,
  decodeValidatorsInfo,
  decodeValidatorUpdate,
  defaultConsensusParams,
  emptyConsensusParams,
  encodeABCIResponses,
  encodeABCIResponsesInfo,
  encodeBlock,
  encodeBlockId,
  encodeBlockMeta,
  encodeBlockStoreState,
  encodeCommit,
  encodeCommitSig,
  encodeConsensus,
  encodeConsensusParams,
  encodeConsensusParamsInfo,
  encodeData,
  encodeEvent,
  encodeEventAttribute,
  encodeEvidenceList,
  encodeHeader,
  encodePart,
  encodePartSetHeader,
  encodeProof,
  encodePublicKey,
  encodeResponseBeginBlock,
  encodeResponseDeliverTx,
  encodeResponseEndBlock,
  encodeState,
  encodeTimestamp,
  encodeValidator,
  encodeValidatorSet,
  encodeValidatorsInfo,
  encodeValidatorUpdate,
  extractLastCommitBytes,
  isEmptyConsensusParams,
  type State,
  timestampFromDate,
  timestampToDate,
} from '../../src/store/index.js'
import { fromHex, hex, loadFixtureProtos, plain } from './helpers.js'
import {
  bytes,
  sampleBlock,
  sampleCommit,
  sampleHeader,
  sampleMeta,
  sampleParams,
  samplePart,
  sampleResults,
  sampleState,
  sampleValidatorSet,
} from './samples.js'

function roundTrip<T>(value: T, encode: (v: T) => Uint8Array, decode: (b: Uint8Array) => T): Uint8Array {
  const encoded = encode(value)
  const decoded = decode(encoded)
  expect(plain(decoded)).toEqual(plain(value))
  // Canonical: re-encoding the decoded value gives the same bytes.
  expect(hex(encode(decoded))).toBe(hex(encoded))
  return encoded
}

describe('message round trips', () => {
  it('block store messages', () => {
    roundTrip({ block: 11, app: 2 }, encodeConsensus, decodeConsensus)
    roundTrip({ seconds: -62135596800, nanos: 0 }, encodeTimestamp, decodeTimestamp)
    roundTrip({ seconds: 1_700_000_000, nanos: 999_999_999 }, encodeTimestamp, decodeTimestamp)
    roundTrip({ total: 4, hash: bytes(32) }, encodePartSetHeader, decodePartSetHeader)
    roundTrip(sampleMeta().blockId, encodeBlockId, decodeBlockId)
    roundTrip(sampleHeader(), encodeHeader, decodeHeader)
    roundTrip(sampleBlock().data, encodeData, decodeData)
    roundTrip(sampleCommit().signatures[1]!, encodeCommitSig, decodeCommitSig)
    roundTrip(sampleCommit(), encodeCommit, decodeCommit)
    roundTrip({ evidence: [bytes(40), bytes(8, 3)] }, encodeEvidenceList, decodeEvidenceList)
    roundTrip(sampleBlock(), encodeBlock, decodeBlock)
    roundTrip({ ...sampleBlock(), lastCommit: null }, encodeBlock, decodeBlock)
    roundTrip(samplePart().proof, encodeProof, decodeProof)
    roundTrip(samplePart(), encodePart, decodePart)
    roundTrip(sampleMeta(), encodeBlockMeta, decodeBlockMeta)
    roundTrip({ base: 1000, height: 2500 }, encodeBlockStoreState, decodeBlockStoreState)
  })

  it('state store messages', () => {
    const set = sampleValidatorSet()
    roundTrip(set.validators[0]!.pubKey, encodePublicKey, decodePublicKey)
    roundTrip(set.validators[1]!.pubKey, encodePublicKey, decodePublicKey)
    roundTrip(set.validators[0]!, encodeValidator, decodeValidator)
    roundTrip(set, encodeValidatorSet, decodeValidatorSet)
    roundTrip({ validatorSet: set, lastHeightChanged: 77 }, encodeValidatorsInfo, decodeValidatorsInfo)
    roundTrip({ validatorSet: null, lastHeightChanged: 77 }, encodeValidatorsInfo, decodeValidatorsInfo)
    roundTrip(sampleParams(), encodeConsensusParams, decodeConsensusParams)
    roundTrip(emptyConsensusParams(), encodeConsensusParams, decodeConsensusParams)
    roundTrip(
      { consensusParams: sampleParams(), lastHeightChanged: 5 },
      encodeConsensusParamsInfo,
      decodeConsensusParamsInfo,
    )
    roundTrip(sampleState(), encodeState, decodeState)
    const genesisLike: State = { ...sampleState(), lastBlockHeight: 0, lastValidators: null }
    roundTrip(genesisLike, encodeState, decodeState)
  })

  it('ABCI messages', () => {
    const r = sampleResults()
    roundTrip(r.deliverTxs[0]!.events[0]!.attributes[0]!, encodeEventAttribute, decodeEventAttribute)
    roundTrip(r.deliverTxs[0]!.events[0]!, encodeEvent, decodeEvent)
    roundTrip(r.deliverTxs[0]!, encodeResponseDeliverTx, decodeResponseDeliverTx)
    roundTrip(r.beginBlock!, encodeResponseBeginBlock, decodeResponseBeginBlock)
    roundTrip(r.endBlock!.validatorUpdates[0]!, encodeValidatorUpdate, decodeValidatorUpdate)
    roundTrip(r.endBlock!, encodeResponseEndBlock, decodeResponseEndBlock)
    roundTrip(r, encodeABCIResponses, decodeABCIResponses)
    roundTrip({ deliverTxs: [], endBlock: null, beginBlock: null }, encodeABCIResponses, decodeABCIResponses)
    roundTrip({ abciResponses: r, height: 12 }, encodeABCIResponsesInfo, decodeABCIResponsesInfo)
  })

  it('round-trips arbitrary headers and commits (property)', () => {
    const b = (n: number) => fc.uint8Array({ minLength: 0, maxLength: n })
    const ts = fc.record({
      seconds: fc.integer({ min: -62135596800, max: 253402300799 }),
      nanos: fc.integer({ min: 0, max: 999_999_999 }),
    })
    const blockId = fc.record({
      hash: b(32),
      partSetHeader: fc.record({ total: fc.nat(2 ** 32 - 1), hash: b(32) }),
    })
    const header = fc.record({
      version: fc.record({ block: fc.nat(), app: fc.maxSafeNat() }),
      chainId: fc.string(),
      height: fc.maxSafeNat(),
      time: ts,
      lastBlockId: blockId,
      lastCommitHash: b(32),
      dataHash: b(32),
      validatorsHash: b(32),
      nextValidatorsHash: b(32),
      consensusHash: b(32),
      appHash: b(40),
      lastResultsHash: b(32),
      evidenceHash: b(32),
      proposerAddress: b(20),
    })
    const commit = fc.record({
      height: fc.maxSafeNat(),
      round: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      blockId,
      signatures: fc.array(
        fc.record({
          blockIdFlag: fc.integer({ min: 0, max: 3 }),
          validatorAddress: b(20),
          timestamp: ts,
          signature: b(64),
        }),
        { maxLength: 5 },
      ),
    })
    fc.assert(
      fc.property(header, commit, (h, c) => {
        expect(plain(decodeHeader(encodeHeader(h)))).toEqual(plain(h))
        expect(plain(decodeCommit(encodeCommit(c)))).toEqual(plain(c))
      }),
      { numRuns: 200 },
    )
  })
})

describe('golden bytes', () => {
  it('BlockStoreState', () => {
    expect(hex(encodeBlockStoreState({ base: 1, height: 2500 }))).toBe('080110c413')
    expect(hex(encodeBlockStoreState({ base: 1000, height: 2500 }))).toBe('08e80710c413')
    expect(decodeBlockStoreState(fromHex('08e80710c413'))).toEqual({ base: 1000, height: 2500 })
  })

  it('BlockStoreState load rule: height > 0 and base 0 means base 1', () => {
    expect(decodeBlockStoreState(fromHex('10c413'))).toEqual({ base: 1, height: 2500 })
    expect(decodeBlockStoreState(new Uint8Array(0))).toEqual({ base: 0, height: 0 })
  })

  it('empty ConsensusParamsInfo (v0.37): 0a 00 10 <lhc>', () => {
    expect(
      hex(encodeConsensusParamsInfo({ consensusParams: emptyConsensusParams(), lastHeightChanged: 5 })),
    ).toBe('0a001005')
    expect(
      hex(encodeConsensusParamsInfo({ consensusParams: emptyConsensusParams(), lastHeightChanged: 300 })),
    ).toBe('0a0010ac02')
  })

  it('isEmptyConsensusParams: v0.37 and v0.34 empty encodings are empty, real params are not', () => {
    expect(isEmptyConsensusParams(decodeConsensusParamsInfo(fromHex('0a001005')).consensusParams)).toBe(true)
    const v034 = decodeConsensusParamsInfo(fromHex('0a0a0a00120212001a002200 1005'))
    expect(v034.lastHeightChanged).toBe(5)
    expect(isEmptyConsensusParams(v034.consensusParams)).toBe(true)
    expect(isEmptyConsensusParams(defaultConsensusParams())).toBe(false)
    expect(isEmptyConsensusParams({ ...emptyConsensusParams(), block: { maxBytes: -1, maxGas: -1 } })).toBe(
      false,
    )
  })

  it('non-nullable embedded messages are always emitted (gogoproto)', () => {
    // Commit{} : block_id (3) always present, containing an always-present part_set_header (2).
    expect(
      hex(encodeCommit({ height: 0, round: 0, blockId: decodeBlockId(new Uint8Array(0)), signatures: [] })),
    ).toBe('1a021200')
    // Header{}: version (1), time (4), last_block_id (5) present.
    expect(hex(encodeHeader(decodeHeader(new Uint8Array(0))))).toBe('0a0022002a021200')
    // ValidatorsInfo pointer: only last_height_changed.
    expect(hex(encodeValidatorsInfo({ validatorSet: null, lastHeightChanged: 1 }))).toBe('1001')
    // Default params: all four sub-messages, max_gas -1 as 10 bytes, duration 48h.
    expect(hex(encodeConsensusParams(defaultConsensusParams()))).toBe(
      '0a10088080c00a10ffffffffffffffffff01' +
        '120e08a08d0612040880c60a18808040' +
        '1a090a0765643235353139' +
        '2200',
    )
  })

  it('State writes initial_height (14) after app_hash (13)', () => {
    const bytesOut = hex(encodeState(sampleState()))
    expect(bytesOut.endsWith('7001')).toBe(true) // field 14 varint = tag 0x70, value 1
  })
})

describe('decoding details', () => {
  it('decodeBlockMetaIds reads hash, part total and height', () => {
    const meta = sampleMeta()
    const ids = decodeBlockMetaIds(encodeBlockMeta(meta))
    expect(hex(ids.hash)).toBe(hex(meta.blockId.hash))
    expect(ids.partsTotal).toBe(2)
    expect(ids.height).toBe(12345)
  })

  it('extractLastCommitBytes returns the encoded last commit, or null', () => {
    const block = sampleBlock()
    expect(hex(extractLastCommitBytes(encodeBlock(block))!)).toBe(hex(encodeCommit(block.lastCommit!)))
    expect(extractLastCommitBytes(encodeBlock({ ...block, lastCommit: null }))).toBeNull()
  })

  it('ignores unknown fields', () => {
    const withUnknown = new Uint8Array([
      ...encodeBlockStoreState({ base: 3, height: 9 }),
      0xf8,
      0x01,
      0x05,
      0x22,
      0x01,
      0x00,
    ])
    expect(decodeBlockStoreState(withUnknown)).toEqual({ base: 3, height: 9 })
  })

  it('timestamps convert to and from Date', () => {
    const d = new Date('2024-05-06T07:08:09.123Z')
    expect(timestampFromDate(d)).toEqual({ seconds: 1714979289, nanos: 123_000_000 })
    expect(timestampToDate(timestampFromDate(d)).toISOString()).toBe(d.toISOString())
    expect(timestampFromDate(new Date('1969-12-31T23:59:59.500Z'))).toEqual({
      seconds: -1,
      nanos: 500_000_000,
    })
  })
})

/** Drops proto3 defaults and renames keys to camelCase, so a protobufjs object and ours compare. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return value.length === 0 ? undefined : hex(value)
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map(normalize)
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>
    // Our PublicKey {type, key} ⇔ protobufjs oneof {ed25519: bytes}
    if (typeof obj.type === 'string' && obj.key instanceof Uint8Array && Object.keys(obj).length === 2) {
      return { [obj.type]: hex(obj.key) }
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(obj)) {
      const n = normalize(v)
      if (n === undefined) continue
      out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = n
    }
    return out
  }
  if (value === 0 || value === '' || value === false || value === null) return undefined
  return value
}

describe('protobufjs (fixture .proto) decodes our encodings to the same values', () => {
  let root: protobuf.Root
  beforeAll(async () => {
    root = await loadFixtureProtos()
  })

  const pb = (type: string, encoded: Uint8Array) => {
    const t = root.lookupType(type)
    return t.toObject(t.decode(encoded), { longs: Number, enums: Number, defaults: false })
  }

  it.each([
    ['tendermint.types.Header', () => sampleHeader(), encodeHeader],
    ['tendermint.types.Commit', () => sampleCommit(), encodeCommit],
    ['tendermint.types.Block', () => sampleBlock(), encodeBlock],
    ['tendermint.types.Part', () => samplePart(), encodePart],
    ['tendermint.types.BlockMeta', () => sampleMeta(), encodeBlockMeta],
    ['tendermint.types.ValidatorSet', () => sampleValidatorSet(), encodeValidatorSet],
    ['tendermint.types.ConsensusParams', () => sampleParams(), encodeConsensusParams],
    ['tendermint.state.State', () => sampleState(), encodeState],
    ['tendermint.state.ABCIResponses', () => sampleResults(), encodeABCIResponses],
    ['tendermint.store.BlockStoreState', () => ({ base: 7, height: 99 }), encodeBlockStoreState],
  ] as Array<[string, () => unknown, (v: never) => Uint8Array]>)('%s', (type, make, encode) => {
    const value = make()
    expect(normalize(pb(type, encode(value as never)))).toEqual(normalize(value))
  })

  it('ValidatorsInfo and ConsensusParamsInfo', () => {
    const vi = { validatorSet: sampleValidatorSet(), lastHeightChanged: 100000 }
    expect(normalize(pb('tendermint.state.ValidatorsInfo', encodeValidatorsInfo(vi)))).toEqual(normalize(vi))
    const ci = { consensusParams: sampleParams(), lastHeightChanged: 42 }
    expect(normalize(pb('tendermint.state.ConsensusParamsInfo', encodeConsensusParamsInfo(ci)))).toEqual(
      normalize(ci),
    )
  })
})

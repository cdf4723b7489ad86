/**
 * Block store messages of CometBFT v0.37 (`proto/tendermint/types/{types,block,evidence}.proto`,
 * `tendermint/version/types.proto`, `tendermint/crypto/proof.proto`, `google/protobuf/timestamp.proto`),
 * encoded byte for byte as gogoproto does: ascending field numbers, proto3 zero scalars omitted, non-nullable
 * embedded messages always present. Field numbers are written next to each field.
 */
import { type FieldTag, ProtoReader, ProtoWriter } from './proto-wire.js'

/** `tendermint.version.Consensus { uint64 block = 1; uint64 app = 2; }` */
export interface Consensus {
  block: number
  app: number
}

/** `google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }` */
export interface Timestamp {
  seconds: number
  nanos: number
}

/** `tendermint.types.PartSetHeader { uint32 total = 1; bytes hash = 2; }` */
export interface PartSetHeader {
  total: number
  hash: Uint8Array
}

/** `tendermint.types.BlockID { bytes hash = 1; PartSetHeader part_set_header = 2 (non-nullable); }` */
export interface BlockID {
  hash: Uint8Array
  partSetHeader: PartSetHeader
}

/** `tendermint.types.Header`, all 14 fields. */
export interface Header {
  /** 1, non-nullable */
  version: Consensus
  /** 2 */
  chainId: string
  /** 3 */
  height: number
  /** 4, non-nullable */
  time: Timestamp
  /** 5, non-nullable */
  lastBlockId: BlockID
  /** 6 */
  lastCommitHash: Uint8Array
  /** 7 */
  dataHash: Uint8Array
  /** 8 */
  validatorsHash: Uint8Array
  /** 9 */
  nextValidatorsHash: Uint8Array
  /** 10 */
  consensusHash: Uint8Array
  /** 11 */
  appHash: Uint8Array
  /** 12 */
  lastResultsHash: Uint8Array
  /** 13 */
  evidenceHash: Uint8Array
  /** 14 */
  proposerAddress: Uint8Array
}

/** `tendermint.types.Data { repeated bytes txs = 1; }` */
export interface Data {
  txs: Uint8Array[]
}

/** `tendermint.types.BlockIDFlag` */
export const BlockIDFlag = { Unknown: 0, Absent: 1, Commit: 2, Nil: 3 } as const

/** `tendermint.types.CommitSig { BlockIDFlag block_id_flag = 1; bytes validator_address = 2; Timestamp timestamp = 3 (non-nullable); bytes signature = 4; }` */
export interface CommitSig {
  blockIdFlag: number
  validatorAddress: Uint8Array
  timestamp: Timestamp
  signature: Uint8Array
}

/** `tendermint.types.Commit { int64 height = 1; int32 round = 2; BlockID block_id = 3 (non-nullable); repeated CommitSig signatures = 4; }` */
export interface Commit {
  height: number
  round: number
  blockId: BlockID
  signatures: CommitSig[]
}

/**
 * `tendermint.types.EvidenceList { repeated Evidence evidence = 1; }`. Evidence is kept as the encoded
 * `tendermint.types.Evidence` messages: we never interpret it, and keeping the bytes makes round trips exact.
 */
export interface EvidenceList {
  evidence: Uint8Array[]
}

/** `tendermint.types.Block { Header header = 1; Data data = 2; EvidenceList evidence = 3 (all non-nullable); Commit last_commit = 4; }` */
export interface Block {
  header: Header
  data: Data
  evidence: EvidenceList
  /** Nullable in the proto; CometBFT always sets it (an empty commit at the initial height). */
  lastCommit: Commit | null
}

/** `tendermint.crypto.Proof { int64 total = 1; int64 index = 2; bytes leaf_hash = 3; repeated bytes aunts = 4; }` */
export interface Proof {
  total: number
  index: number
  leafHash: Uint8Array
  aunts: Uint8Array[]
}

/** `tendermint.types.Part { uint32 index = 1; bytes bytes = 2; Proof proof = 3 (non-nullable); }` */
export interface Part {
  index: number
  bytes: Uint8Array
  proof: Proof
}

/** `tendermint.types.BlockMeta { BlockID block_id = 1; int64 block_size = 2; Header header = 3; int64 num_txs = 4; }` */
export interface BlockMeta {
  blockId: BlockID
  blockSize: number
  header: Header
  numTxs: number
}

const EMPTY: Uint8Array = new Uint8Array(0)

/** Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z), what an absent vote's timestamp encodes to. */
export const GO_ZERO_TIME_SECONDS = -62135596800

/** Converts a JS Date (millisecond precision) to a Timestamp. */
export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('timestampFromDate: invalid date')
  const seconds = Math.floor(ms / 1000)
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 }
}

/** Converts a Timestamp to a JS Date (sub-millisecond precision is dropped). */
export function timestampToDate(ts: Timestamp): Date {
  return new Date(ts.seconds * 1000 + Math.floor(ts.nanos / 1_000_000))
}

export function emptyBlockId(): BlockID {
  return { hash: EMPTY, partSetHeader: { total: 0, hash: EMPTY } }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoders

export function encodeConsensus(m: Consensus): Uint8Array {
  const w = new ProtoWriter(24)
  w.uint64(1, m.block)
  w.uint64(2, m.app)
  return w.finish()
}

export function encodeTimestamp(m: Timestamp): Uint8Array {
  const w = new ProtoWriter(24)
  w.int64(1, m.seconds)
  w.int32(2, m.nanos)
  return w.finish()
}

export function encodePartSetHeader(m: PartSetHeader): Uint8Array {
  const w = new ProtoWriter(48)
  w.uint32(1, m.total)
  w.bytes(2, m.hash)
  return w.finish()
}

export function encodeBlockId(m: BlockID): Uint8Array {
  const w = new ProtoWriter(96)
  w.bytes(1, m.hash)
  w.lengthDelimited(2, encodePartSetHeader(m.partSetHeader))
  return w.finish()
}

export function encodeHeader(m: Header): Uint8Array {
  const w = new ProtoWriter(512)
  w.lengthDelimited(1, encodeConsensus(m.version))
  w.string(2, m.chainId)
  w.int64(3, m.height)
  w.lengthDelimited(4, encodeTimestamp(m.time))
  w.lengthDelimited(5, encodeBlockId(m.lastBlockId))
  w.bytes(6, m.lastCommitHash)
  w.bytes(7, m.dataHash)
  w.bytes(8, m.validatorsHash)
  w.bytes(9, m.nextValidatorsHash)
  w.bytes(10, m.consensusHash)
  w.bytes(11, m.appHash)
  w.bytes(12, m.lastResultsHash)
  w.bytes(13, m.evidenceHash)
  w.bytes(14, m.proposerAddress)
  return w.finish()
}

export function encodeData(m: Data): Uint8Array {
  const w = new ProtoWriter(64)
  for (const tx of m.txs) w.lengthDelimited(1, tx)
  return w.finish()
}

export function encodeCommitSig(m: CommitSig): Uint8Array {
  const w = new ProtoWriter(128)
  w.enumValue(1, m.blockIdFlag)
  w.bytes(2, m.validatorAddress)
  w.lengthDelimited(3, encodeTimestamp(m.timestamp))
  w.bytes(4, m.signature)
  return w.finish()
}

export function encodeCommit(m: Commit): Uint8Array {
  const w = new ProtoWriter(256)
  w.int64(1, m.height)
  w.int32(2, m.round)
  w.lengthDelimited(3, encodeBlockId(m.blockId))
  for (const sig of m.signatures) w.lengthDelimited(4, encodeCommitSig(sig))
  return w.finish()
}

export function encodeEvidenceList(m: EvidenceList): Uint8Array {
  const w = new ProtoWriter(16)
  for (const ev of m.evidence) w.lengthDelimited(1, ev)
  return w.finish()
}

export function encodeBlock(m: Block): Uint8Array {
  const w = new ProtoWriter(1024)
  w.lengthDelimited(1, encodeHeader(m.header))
  w.lengthDelimited(2, encodeData(m.data))
  w.lengthDelimited(3, encodeEvidenceList(m.evidence))
  if (m.lastCommit !== null) w.lengthDelimited(4, encodeCommit(m.lastCommit))
  return w.finish()
}

export function encodeProof(m: Proof): Uint8Array {
  const w = new ProtoWriter(128)
  w.int64(1, m.total)
  w.int64(2, m.index)
  w.bytes(3, m.leafHash)
  for (const aunt of m.aunts) w.lengthDelimited(4, aunt)
  return w.finish()
}

export function encodePart(m: Part): Uint8Array {
  const w = new ProtoWriter(m.bytes.length + 256)
  w.uint32(1, m.index)
  w.bytes(2, m.bytes)
  w.lengthDelimited(3, encodeProof(m.proof))
  return w.finish()
}

export function encodeBlockMeta(m: BlockMeta): Uint8Array {
  const w = new ProtoWriter(640)
  w.lengthDelimited(1, encodeBlockId(m.blockId))
  w.int64(2, m.blockSize)
  w.lengthDelimited(3, encodeHeader(m.header))
  w.int64(4, m.numTxs)
  return w.finish()
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders. Every decoder accepts unknown fields (skipped) and missing fields (proto3 defaults).

type FieldHandler<T> = (r: ProtoReader, tag: FieldTag, m: T) => boolean

/** Runs `handle` for every field; fields it does not claim are skipped. */
export function decodeFields<T>(bytes: Uint8Array, what: string, m: T, handle: FieldHandler<T>): T {
  const r = new ProtoReader(bytes, what)
  while (!r.done) {
    const tag = r.next()
    if (!handle(r, tag, m)) r.skip(tag)
  }
  return m
}

export function decodeConsensus(bytes: Uint8Array): Consensus {
  return decodeFields(bytes, 'Consensus', { block: 0, app: 0 }, (r, t, m) => {
    if (t.field === 1) m.block = r.uint64(t)
    else if (t.field === 2) m.app = r.uint64(t)
    else return false
    return true
  })
}

export function decodeTimestamp(bytes: Uint8Array): Timestamp {
  return decodeFields(bytes, 'Timestamp', { seconds: 0, nanos: 0 }, (r, t, m) => {
    if (t.field === 1) m.seconds = r.int64(t)
    else if (t.field === 2) m.nanos = r.int32(t)
    else return false
    return true
  })
}

export function decodePartSetHeader(bytes: Uint8Array): PartSetHeader {
  return decodeFields(bytes, 'PartSetHeader', { total: 0, hash: EMPTY }, (r, t, m) => {
    if (t.field === 1) m.total = r.uint32(t)
    else if (t.field === 2) m.hash = r.bytes(t)
    else return false
    return true
  })
}

export function decodeBlockId(bytes: Uint8Array): BlockID {
  return decodeFields(bytes, 'BlockID', emptyBlockId(), (r, t, m) => {
    if (t.field === 1) m.hash = r.bytes(t)
    else if (t.field === 2) m.partSetHeader = decodePartSetHeader(r.bytes(t))
    else return false
    return true
  })
}

export function emptyHeader(): Header {
  return {
    version: { block: 0, app: 0 },
    chainId: '',
    height: 0,
    time: { seconds: 0, nanos: 0 },
    lastBlockId: emptyBlockId(),
    lastCommitHash: EMPTY,
    dataHash: EMPTY,
    validatorsHash: EMPTY,
    nextValidatorsHash: EMPTY,
    consensusHash: EMPTY,
    appHash: EMPTY,
    lastResultsHash: EMPTY,
    evidenceHash: EMPTY,
    proposerAddress: EMPTY,
  }
}

export function decodeHeader(bytes: Uint8Array): Header {
  return decodeFields(bytes, 'Header', emptyHeader(), (r, t, m) => {
    switch (t.field) {
      case 1:
        m.version = decodeConsensus(r.bytes(t))
        break
      case 2:
        m.chainId = r.string(t)
        break
      case 3:
        m.height = r.int64(t)
        break
      case 4:
        m.time = decodeTimestamp(r.bytes(t))
        break
      case 5:
        m.lastBlockId = decodeBlockId(r.bytes(t))
        break
      case 6:
        m.lastCommitHash = r.bytes(t)
        break
      case 7:
        m.dataHash = r.bytes(t)
        break
      case 8:
        m.validatorsHash = r.bytes(t)
        break
      case 9:
        m.nextValidatorsHash = r.bytes(t)
        break
      case 10:
        m.consensusHash = r.bytes(t)
        break
      case 11:
        m.appHash = r.bytes(t)
        break
      case 12:
        m.lastResultsHash = r.bytes(t)
        break
      case 13:
        m.evidenceHash = r.bytes(t)
        break
      case 14:
        m.proposerAddress = r.bytes(t)
        break
      default:
        return false
    }
    return true
  })
}

export function decodeData(bytes: Uint8Array): Data {
  return decodeFields<Data>(bytes, 'Data', { txs: [] }, (r, t, m) => {
    if (t.field !== 1) return false
    m.txs.push(r.bytes(t))
    return true
  })
}

export function decodeCommitSig(bytes: Uint8Array): CommitSig {
  const init: CommitSig = {
    blockIdFlag: 0,
    validatorAddress: EMPTY,
    timestamp: { seconds: 0, nanos: 0 },
    signature: EMPTY,
  }
  return decodeFields(bytes, 'CommitSig', init, (r, t, m) => {
    if (t.field === 1) m.blockIdFlag = r.enumValue(t)
    else if (t.field === 2) m.validatorAddress = r.bytes(t)
    else if (t.field === 3) m.timestamp = decodeTimestamp(r.bytes(t))
    else if (t.field === 4) m.signature = r.bytes(t)
    else return false
    return true
  })
}

export function decodeCommit(bytes: Uint8Array): Commit {
  const init: Commit = { height: 0, round: 0, blockId: emptyBlockId(), signatures: [] }
  return decodeFields(bytes, 'Commit', init, (r, t, m) => {
    if (t.field === 1) m.height = r.int64(t)
    else if (t.field === 2) m.round = r.int32(t)
    else if (t.field === 3) m.blockId = decodeBlockId(r.bytes(t))
    else if (t.field === 4) m.signatures.push(decodeCommitSig(r.bytes(t)))
    else return false
    return true
  })
}

export function decodeEvidenceList(bytes: Uint8Array): EvidenceList {
  return decodeFields<EvidenceList>(bytes, 'EvidenceList', { evidence: [] }, (r, t, m) => {
    if (t.field !== 1) return false
    m.evidence.push(r.bytes(t))
    return true
  })
}

export function decodeBlock(bytes: Uint8Array): Block {
  const init: Block = {
    header: emptyHeader(),
    data: { txs: [] },
    evidence: { evidence: [] },
    lastCommit: null,
  }
  return decodeFields(bytes, 'Block', init, (r, t, m) => {
    if (t.field === 1) m.header = decodeHeader(r.bytes(t))
    else if (t.field === 2) m.data = decodeData(r.bytes(t))
    else if (t.field === 3) m.evidence = decodeEvidenceList(r.bytes(t))
    else if (t.field === 4) m.lastCommit = decodeCommit(r.bytes(t))
    else return false
    return true
  })
}

/** The encoded `header` (field 1) and `last_commit` (field 4, null when absent) of an encoded Block, as they appear. */
export function splitEncodedBlock(blockBytes: Uint8Array): {
  header: Uint8Array
  lastCommit: Uint8Array | null
} {
  const out: { header: Uint8Array; lastCommit: Uint8Array | null } = { header: EMPTY, lastCommit: null }
  decodeFields(blockBytes, 'Block', out, (r, t, m) => {
    if (t.field === 1) m.header = r.bytes(t)
    else if (t.field === 4) m.lastCommit = r.bytes(t)
    else return false
    return true
  })
  return out
}

/**
 * Returns the encoded `last_commit` (field 4) of an encoded Block exactly as it appears, or null when absent.
 * CometBFT stores `C:<h-1>` as the re-encoding of that commit, which equals these bytes (gogoproto output is
 * canonical), so a follower can write `C:` without a decode/encode round trip.
 */
export function extractLastCommitBytes(blockBytes: Uint8Array): Uint8Array | null {
  return splitEncodedBlock(blockBytes).lastCommit
}

/** A BlockMeta from an already encoded header (the same bytes as {@link encodeBlockMeta} of the decoded header). */
export function encodeBlockMetaWithHeaderBytes(
  blockId: BlockID,
  blockSize: number,
  headerBytes: Uint8Array,
  numTxs: number,
): Uint8Array {
  const w = new ProtoWriter(headerBytes.length + 128)
  w.lengthDelimited(1, encodeBlockId(blockId))
  w.int64(2, blockSize)
  w.lengthDelimited(3, headerBytes)
  w.int64(4, numTxs)
  return w.finish()
}

export function decodeProof(bytes: Uint8Array): Proof {
  const init: Proof = { total: 0, index: 0, leafHash: EMPTY, aunts: [] }
  return decodeFields(bytes, 'Proof', init, (r, t, m) => {
    if (t.field === 1) m.total = r.int64(t)
    else if (t.field === 2) m.index = r.int64(t)
    else if (t.field === 3) m.leafHash = r.bytes(t)
    else if (t.field === 4) m.aunts.push(r.bytes(t))
    else return false
    return true
  })
}

export function decodePart(bytes: Uint8Array): Part {
  const init: Part = { index: 0, bytes: EMPTY, proof: { total: 0, index: 0, leafHash: EMPTY, aunts: [] } }
  return decodeFields(bytes, 'Part', init, (r, t, m) => {
    if (t.field === 1) m.index = r.uint32(t)
    else if (t.field === 2) m.bytes = r.bytes(t)
    else if (t.field === 3) m.proof = decodeProof(r.bytes(t))
    else return false
    return true
  })
}

export function decodeBlockMeta(bytes: Uint8Array): BlockMeta {
  const init: BlockMeta = { blockId: emptyBlockId(), blockSize: 0, header: emptyHeader(), numTxs: 0 }
  return decodeFields(bytes, 'BlockMeta', init, (r, t, m) => {
    if (t.field === 1) m.blockId = decodeBlockId(r.bytes(t))
    else if (t.field === 2) m.blockSize = r.int64(t)
    else if (t.field === 3) m.header = decodeHeader(r.bytes(t))
    else if (t.field === 4) m.numTxs = r.int64(t)
    else return false
    return true
  })
}

/**
 * Decodes only what the pruner needs from a BlockMeta: `block_id.hash` (1→1) and `block_id.part_set_header.total`
 * (1→2→1), plus the header height (3→3) for a consistency check. Skips the rest of the header without decoding it.
 */
export function decodeBlockMetaIds(bytes: Uint8Array): {
  hash: Uint8Array
  partsTotal: number
  height: number
} {
  const out = { hash: EMPTY, partsTotal: 0, height: 0 }
  decodeFields(bytes, 'BlockMeta', out, (r, t, m) => {
    if (t.field === 1) {
      const id = decodeBlockId(r.bytes(t))
      m.hash = id.hash
      m.partsTotal = id.partSetHeader.total
      return true
    }
    if (t.field === 3) {
      decodeFields(r.bytes(t), 'Header', m, (hr, ht, hm) => {
        if (ht.field !== 3) return false
        hm.height = hr.int64(ht)
        return true
      })
      return true
    }
    return false
  })
  return out
}

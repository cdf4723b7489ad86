/**
 * CometBFT's hashes, with exact parity (checked against CometBFT's own test vectors in the tests):
 * the RFC-6962 style merkle tree of `crypto/merkle` (leaf prefix 0x00, inner prefix 0x01, split at the largest power
 * of two below n, empty tree = sha256("")), block header hash, commit hash, txs hash, validator-set hash,
 * consensus-params hash, results hash and validator addresses.
 */
import { createHash, hash } from 'node:crypto'
import { type ABCIResponses, encodeResponseDeliverTx, encodeValidatorUpdate } from './abci-messages.js'
import {
  type Commit,
  type Data,
  encodeBlockId,
  encodeCommitSig,
  encodeConsensus,
  encodeTimestamp,
  type Header,
} from './block-messages.js'
import { ProtoWriter } from './proto-wire.js'
import type { ConsensusParams, PublicKey, ValidatorSet } from './state-messages.js'

// One-shot crypto.hash is markedly faster than createHash() for the many tiny inputs of a merkle tree; prefixes are
// joined in a scratch buffer to keep it one call.
let scratch = Buffer.allocUnsafe(4096)

function scratchFor(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafe(Math.max(size, scratch.length * 2))
  return scratch
}

/** sha256 of the concatenation of `chunks`. */
export function sha256(...chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return hash('sha256', chunks[0]!, 'buffer')
  let size = 0
  for (const c of chunks) size += c.length
  const buf = scratchFor(size)
  let off = 0
  for (const c of chunks) {
    buf.set(c, off)
    off += c.length
  }
  return hash('sha256', buf.subarray(0, size), 'buffer')
}

function leafHash(leaf: Uint8Array): Uint8Array {
  const buf = scratchFor(leaf.length + 1)
  buf[0] = 0
  buf.set(leaf, 1)
  return hash('sha256', buf.subarray(0, leaf.length + 1), 'buffer')
}

function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const size = 1 + left.length + right.length
  const buf = scratchFor(size)
  buf[0] = 1
  buf.set(left, 1)
  buf.set(right, 1 + left.length)
  return hash('sha256', buf.subarray(0, size), 'buffer')
}

/** Largest power of two strictly less than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** `merkle.HashFromByteSlices` */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  return rootOf(items, 0, items.length)
}

const EMPTY_TREE_HASH = hash('sha256', new Uint8Array(0), 'buffer')

function rootOf(items: readonly Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from
  if (n === 0) return Buffer.from(EMPTY_TREE_HASH)
  if (n === 1) return leafHash(items[from]!)
  const k = splitPoint(n)
  return innerHash(rootOf(items, from, from + k), rootOf(items, from + k, to))
}

/** The merkle root over already computed leaf hashes (n ≥ 1). */
function rootOfLeafHashes(leaves: readonly Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from
  if (n === 1) return leaves[from]!
  const k = splitPoint(n)
  return innerHash(rootOfLeafHashes(leaves, from, from + k), rootOfLeafHashes(leaves, from + k, to))
}

/** A merkle inclusion proof: `aunts` are sibling hashes from the leaf upwards (`merkle.Proof`). */
export interface MerkleProof {
  total: number
  index: number
  leafHash: Uint8Array
  aunts: Uint8Array[]
}

/** `merkle.ProofsFromByteSlices`: the root and one proof per item. */
export function merkleProofs(items: readonly Uint8Array[]): { root: Uint8Array; proofs: MerkleProof[] } {
  const total = items.length
  const proofs: MerkleProof[] = items.map((_, index) => ({
    total,
    index,
    leafHash: new Uint8Array(0),
    aunts: [],
  }))
  // Returns the subtree root; appends each subtree sibling to the aunts of every leaf below it (bottom-up order,
  // because the recursion returns from the leaves first).
  const build = (from: number, to: number): Uint8Array => {
    const n = to - from
    if (n === 0) return sha256()
    if (n === 1) {
      const h = leafHash(items[from]!)
      proofs[from]!.leafHash = h
      return h
    }
    const mid = from + splitPoint(n)
    const left = build(from, mid)
    const right = build(mid, to)
    for (let i = from; i < mid; i++) proofs[i]!.aunts.push(right)
    for (let i = mid; i < to; i++) proofs[i]!.aunts.push(left)
    return innerHash(left, right)
  }
  const root = build(0, total)
  return { root, proofs }
}

/** Verifies `proof` for `leaf` against `root` (`merkle.Proof.Verify`). */
export function verifyMerkleProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  if (proof.total <= 0 || proof.index < 0 || proof.index >= proof.total) return false
  const lh = leafHash(leaf)
  if (Buffer.compare(lh, proof.leafHash) !== 0) return false
  const computed = computeFromAunts(proof.index, proof.total, lh, proof.aunts)
  return computed !== null && Buffer.compare(computed, root) === 0
}

function computeFromAunts(
  index: number,
  total: number,
  leaf: Uint8Array,
  aunts: readonly Uint8Array[],
): Uint8Array | null {
  if (total === 1) return aunts.length === 0 ? leaf : null
  if (aunts.length === 0) return null
  const k = splitPoint(total)
  const last = aunts[aunts.length - 1]!
  const rest = aunts.slice(0, -1)
  if (index < k) {
    const left = computeFromAunts(index, k, leaf, rest)
    return left === null ? null : innerHash(left, last)
  }
  const right = computeFromAunts(index - k, total - k, leaf, rest)
  return right === null ? null : innerHash(last, right)
}

// ---------------------------------------------------------------------------------------------------------------
// cdcEncode: gogotypes wrappers (StringValue/Int64Value/BytesValue) with field 1; empty values encode to nothing.

function cdcString(s: string): Uint8Array {
  const w = new ProtoWriter(s.length + 4)
  w.string(1, s)
  return w.finish()
}

function cdcInt64(n: number): Uint8Array {
  const w = new ProtoWriter(12)
  w.int64(1, n)
  return w.finish()
}

function cdcBytes(b: Uint8Array): Uint8Array {
  const w = new ProtoWriter(b.length + 4)
  w.bytes(1, b)
  return w.finish()
}

// Leaf hashes of header fields that repeat from block to block (chain id, version, validator/params hashes, evidence
// hash, proposer): generation hashes millions of headers, and a third of the leaves are the same each time. Byte
// fields are cached by array identity (hashes and addresses are never mutated once built); strings by value.
const sharedBytesLeaves = new WeakMap<Uint8Array, Uint8Array>()
const stringLeaves = new Map<string, Uint8Array>()

function sharedBytesLeaf(b: Uint8Array): Uint8Array {
  let h = sharedBytesLeaves.get(b)
  if (h === undefined) {
    h = leafHash(cdcBytes(b))
    sharedBytesLeaves.set(b, h)
  }
  return h
}

function stringLeaf(key: string, encode: () => Uint8Array): Uint8Array {
  let h = stringLeaves.get(key)
  if (h === undefined) {
    if (stringLeaves.size > 256) stringLeaves.clear()
    h = leafHash(encode())
    stringLeaves.set(key, h)
  }
  return h
}

/** `Header.Hash()`: merkle root of the 14 fields, each encoded as CometBFT does. Empty when validators_hash is empty. */
export function headerHash(h: Header): Uint8Array {
  if (h.validatorsHash.length === 0) return new Uint8Array(0)
  const leaves = [
    stringLeaf(`v/${h.version.block}/${h.version.app}`, () => encodeConsensus(h.version)),
    stringLeaf(`c/${h.chainId}`, () => cdcString(h.chainId)),
    leafHash(cdcInt64(h.height)),
    leafHash(encodeTimestamp(h.time)),
    leafHash(encodeBlockId(h.lastBlockId)),
    leafHash(cdcBytes(h.lastCommitHash)),
    leafHash(cdcBytes(h.dataHash)),
    sharedBytesLeaf(h.validatorsHash),
    sharedBytesLeaf(h.nextValidatorsHash),
    sharedBytesLeaf(h.consensusHash),
    leafHash(cdcBytes(h.appHash)),
    leafHash(cdcBytes(h.lastResultsHash)),
    sharedBytesLeaf(h.evidenceHash),
    sharedBytesLeaf(h.proposerAddress),
  ]
  return rootOfLeafHashes(leaves, 0, leaves.length)
}

/** `Commit.Hash()`: merkle root of the encoded CommitSigs. */
export function commitHash(c: Commit): Uint8Array {
  return merkleRoot(c.signatures.map(encodeCommitSig))
}

/** `Data.Hash()` / `Txs.Hash()`: merkle root of sha256(tx). */
export function txsHash(data: Data): Uint8Array {
  return merkleRoot(data.txs.map((tx) => sha256(tx)))
}

/** `EvidenceList.Hash()`: merkle root of the encoded evidence (sha256("") when there is none). */
export function evidenceHash(evidence: readonly Uint8Array[]): Uint8Array {
  return evidence.length === 0 ? EMPTY_EVIDENCE_HASH : merkleRoot(evidence)
}

// One shared instance, so the header leaf cache recognises it.
const EMPTY_EVIDENCE_HASH: Uint8Array = Buffer.from(EMPTY_TREE_HASH)

/**
 * `ValidatorSet.Hash()`: merkle root of `SimpleValidator{pub_key=1, voting_power=2}` per validator, which encodes
 * byte for byte like `ValidatorUpdate{pub_key=1, power=2}`.
 */
export function validatorSetHash(set: ValidatorSet): Uint8Array {
  return merkleRoot(
    set.validators.map((v) => encodeValidatorUpdate({ pubKey: v.pubKey, power: v.votingPower })),
  )
}

/** `ConsensusParams.Hash()`: sha256 of `HashedParams{block_max_bytes=1, block_max_gas=2}`. */
export function consensusParamsHash(params: ConsensusParams): Uint8Array {
  const w = new ProtoWriter(24)
  w.int64(1, params.block?.maxBytes ?? 0)
  w.int64(2, params.block?.maxGas ?? 0)
  return sha256(w.finish())
}

/** `ABCIResults.Hash()` (LastResultsHash): merkle root of the deterministic part {code, data, gas_wanted, gas_used}. */
export function resultsHash(results: ABCIResponses): Uint8Array {
  return merkleRoot(
    results.deliverTxs.map((d) =>
      encodeResponseDeliverTx({
        code: d.code,
        data: d.data,
        log: '',
        info: '',
        gasWanted: d.gasWanted,
        gasUsed: d.gasUsed,
        events: [],
        codespace: '',
      }),
    ),
  )
}

/** A validator address: ed25519 = first 20 bytes of sha256(key); secp256k1 = ripemd160(sha256(key)) (Bitcoin style). */
export function addressFromPubKey(pubKey: PublicKey): Uint8Array {
  if (pubKey.type === 'ed25519') return sha256(pubKey.key).subarray(0, 20)
  return new Uint8Array(createHash('ripemd160').update(sha256(pubKey.key)).digest())
}

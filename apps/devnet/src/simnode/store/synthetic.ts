/**
 * Deterministic synthetic chain content for the simulated node and for tests: blocks, part sets, commits,
 * validator sets. Everything structural is what CometBFT v0.37 computes, with exact hash parity: the block hash is
 * `Header.Hash()` (merkle of the 14 header fields), the part set hash and leaf proofs are CometBFT's merkle tree,
 * header hashes (`data_hash`, `last_commit_hash`, `validators_hash`, `consensus_hash`, `evidence_hash`,
 * `last_results_hash`) are computed from the block's own content.
 *
 * What is synthetic (not cryptographically real): public keys (sha256 of a seed), commit signatures (sha512 of
 * the vote's identity, 64 bytes like ed25519), app hashes ({@link syntheticAppHash}). Proposer priorities are not
 * rotated (no `IncrementProposerPriority`): every validator keeps priority 0 and the first validator proposes.
 * A real node would reject these signatures; the block store, the pruner and the RPC shapes don't look at them.
 */

import { createHash } from 'node:crypto'
import {
  type ABCIResponses,
  addressFromPubKey,
  type Block,
  type BlockID,
  BlockIDFlag,
  type Commit,
  type CommitSig,
  type ConsensusParams,
  commitHash,
  consensusParamsHash,
  defaultConsensusParams,
  emptyBlockId,
  emptyResponseDeliverTx,
  encodeBlock,
  encodeConsensusParams,
  encodePublicKey,
  encodeValidatorSet,
  evidenceHash,
  type Header,
  headerHash,
  merkleProofs,
  type Part,
  type PartSetHeader,
  type PublicKey,
  resultsHash,
  sha256,
  type Timestamp,
  timestampFromDate,
  txsHash,
  type Validator,
  type ValidatorSet,
  type ValidatorUpdate,
  validatorSetHash,
} from '@ghostfleet/cometbft'

/** CometBFT `types.BlockPartSizeBytes`. */
export const BLOCK_PART_SIZE_BYTES = 65536
/** CometBFT v0.37 `version.BlockProtocol`. */
export const BLOCK_PROTOCOL_VERSION = 11

const textEncoder = new TextEncoder()

/** The empty commit CometBFT puts into the block at the initial height (`NewCommit(0, 0, BlockID{}, nil)`). */
export function emptyCommit(): Commit {
  return { height: 0, round: 0, blockId: emptyBlockId(), signatures: [] }
}

/**
 * A validator set as CometBFT stores it: validators sorted by voting power (descending) then address (ascending),
 * addresses derived from the keys, the first validator as proposer, `total_voting_power` 0 (CometBFT's `ToProto`
 * always writes 0).
 */
export function makeValidatorSet(
  members: ReadonlyArray<{ pubKey: PublicKey; votingPower: number }>,
): ValidatorSet {
  if (members.length === 0)
    throw new RangeError('makeValidatorSet: a validator set needs at least one validator')
  const validators: Validator[] = members.map((m) => {
    if (!Number.isSafeInteger(m.votingPower) || m.votingPower <= 0) {
      throw new RangeError(`makeValidatorSet: voting power ${m.votingPower} must be a positive integer`)
    }
    return {
      address: addressFromPubKey(m.pubKey),
      pubKey: m.pubKey,
      votingPower: m.votingPower,
      proposerPriority: 0,
    }
  })
  validators.sort((a, b) => b.votingPower - a.votingPower || Buffer.compare(a.address, b.address))
  return { validators, proposer: validators[0]!, totalVotingPower: 0 }
}

/** `count` validators with synthetic ed25519 keys `sha256("<seed>/validator/<i>")` and equal voting power. */
export function makeSyntheticValidatorSet(params: {
  count: number
  seed?: string
  votingPower?: number
}): ValidatorSet {
  const seed = params.seed ?? 'ghostfleet'
  const members = Array.from({ length: params.count }, (_, i) => ({
    pubKey: { type: 'ed25519' as const, key: sha256(textEncoder.encode(`${seed}/validator/${i}`)) },
    votingPower: params.votingPower ?? 10,
  }))
  return makeValidatorSet(members)
}

/** The ValidatorUpdates (EndBlock) that turn `from` into `to`: changed or new validators, removed ones at power 0. */
export function validatorUpdatesBetween(from: ValidatorSet, to: ValidatorSet): ValidatorUpdate[] {
  const key = (pk: PublicKey) => Buffer.from(encodePublicKey(pk)).toString('hex')
  const before = new Map(from.validators.map((v) => [key(v.pubKey), v.votingPower]))
  const after = new Map(to.validators.map((v) => [key(v.pubKey), v]))
  const updates: ValidatorUpdate[] = []
  for (const v of to.validators) {
    if (before.get(key(v.pubKey)) !== v.votingPower) updates.push({ pubKey: v.pubKey, power: v.votingPower })
  }
  for (const v of from.validators) {
    if (!after.has(key(v.pubKey))) updates.push({ pubKey: v.pubKey, power: 0 })
  }
  return updates
}

/** True when two validator sets encode to the same bytes. */
export function sameValidatorSet(a: ValidatorSet, b: ValidatorSet): boolean {
  return a === b || Buffer.compare(encodeValidatorSet(a), encodeValidatorSet(b)) === 0
}

/** True when two consensus params encode to the same bytes. */
export function sameConsensusParams(a: ConsensusParams, b: ConsensusParams): boolean {
  return a === b || Buffer.compare(encodeConsensusParams(a), encodeConsensusParams(b)) === 0
}

/** `compute`, remembered per argument object. */
function memoizedByIdentity<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>()
  return (key) => {
    let value = cache.get(key)
    if (value === undefined) {
      value = compute(key)
      cache.set(key, value)
    }
    return value
  }
}

// Validator sets and params are immutable values here, and recomputing their hashes per block would dominate
// generation time.
const cachedValidatorSetHash = memoizedByIdentity(validatorSetHash)
const cachedParamsHash = memoizedByIdentity(consensusParamsHash)

/**
 * The synthetic app hash after executing block `height`: `sha256("<chainId>/app/<height>")`. CometBFT puts the app
 * hash after block h into header h+1 and into the state saved after h; using one function for both keeps them equal.
 */
export function syntheticAppHash(chainId: string, height: number): Uint8Array {
  return sha256(textEncoder.encode(`${chainId}/app/${height}`))
}

/** Deterministic tx bytes: sha256("<chainId>/<height>/<index>") repeated to `size` bytes. */
export function syntheticTx(chainId: string, height: number, index: number, size: number): Uint8Array {
  const seed = sha256(textEncoder.encode(`${chainId}/${height}/${index}`))
  const tx = new Uint8Array(size)
  for (let off = 0; off < size; off += seed.length)
    tx.set(seed.subarray(0, Math.min(seed.length, size - off)), off)
  return tx
}

/** The results CometBFT would store for a block whose txs all succeeded without events (one DeliverTx per tx). */
export function defaultBlockResults(
  txCount: number,
  validatorUpdates: ValidatorUpdate[] = [],
  paramsUpdate: ConsensusParams | null = null,
): ABCIResponses {
  return {
    deliverTxs: Array.from({ length: txCount }, () => emptyResponseDeliverTx()),
    endBlock: { validatorUpdates, consensusParamUpdates: paramsUpdate, events: [] },
    beginBlock: { events: [] },
  }
}

/** Parameters of {@link makeSyntheticBlock}. */
export interface SyntheticBlockParams {
  chainId: string
  height: number
  time: Date
  /** null at the initial height (CometBFT's empty BlockID). */
  lastBlockId: BlockID | null
  /** null at the initial height: the block then carries CometBFT's empty commit. */
  lastCommit: Commit | null
  txCount: number
  txSize: number
  /** The validators of this height (`validators_hash`, proposer, commit signers). */
  validators: ValidatorSet
  /** The validators of the next height (`next_validators_hash`); defaults to `validators`. */
  nextValidators?: ValidatorSet
  /** The consensus params in force at this height (`consensus_hash`); defaults to CometBFT's defaults. */
  consensusParams?: ConsensusParams
  /** Defaults to {@link syntheticAppHash}(chainId, height - 1), and empty at the initial height. */
  appHash?: Uint8Array
  /**
   * Results hash of the previous block. Defaults to empty at the initial height, otherwise to the hash of
   * {@link defaultBlockResults} with `txCount` txs (right when every block has the same tx count).
   */
  lastResultsHash?: Uint8Array
  /** Consensus app version in the header; defaults to `consensusParams.version.app` or 0. */
  appVersion?: number
}

/** A deterministic block with CometBFT's header hashes filled in. */
export function makeSyntheticBlock(params: SyntheticBlockParams): Block {
  const initial = params.lastBlockId === null
  const txs = Array.from({ length: params.txCount }, (_, i) =>
    syntheticTx(params.chainId, params.height, i, params.txSize),
  )
  const lastCommit = params.lastCommit ?? emptyCommit()
  const consensusParams = params.consensusParams ?? defaultParamsSingleton
  const proposer = params.validators.proposer ?? params.validators.validators[0]
  if (proposer === undefined) throw new RangeError('makeSyntheticBlock: empty validator set')
  const header: Header = {
    version: { block: BLOCK_PROTOCOL_VERSION, app: params.appVersion ?? consensusParams.version?.app ?? 0 },
    chainId: params.chainId,
    height: params.height,
    time: timestampFromDate(params.time),
    lastBlockId: params.lastBlockId ?? emptyBlockId(),
    lastCommitHash: commitHash(lastCommit),
    dataHash: txsHash({ txs }),
    validatorsHash: cachedValidatorSetHash(params.validators),
    nextValidatorsHash: cachedValidatorSetHash(params.nextValidators ?? params.validators),
    consensusHash: cachedParamsHash(consensusParams),
    appHash:
      params.appHash ?? (initial ? new Uint8Array(0) : syntheticAppHash(params.chainId, params.height - 1)),
    lastResultsHash:
      params.lastResultsHash ??
      (initial ? new Uint8Array(0) : resultsHash(defaultBlockResults(params.txCount))),
    evidenceHash: evidenceHash([]),
    proposerAddress: proposer.address,
  }
  return { header, data: { txs }, evidence: { evidence: [] }, lastCommit }
}

const defaultParamsSingleton = defaultConsensusParams()

/** `Block.Hash()` = `Header.Hash()`: 32 bytes. */
export function blockHash(block: Block): Uint8Array {
  const h = headerHash(block.header)
  if (h.length === 0) throw new RangeError(`block ${block.header.height} has no validators_hash, so no hash`)
  return h
}

/**
 * `NewPartSetFromData`: splits encoded block bytes into `partSize` chunks with CometBFT's merkle proofs.
 * The part bytes are views into `blockBytes`.
 */
export function splitIntoParts(
  blockBytes: Uint8Array,
  partSize: number,
): { header: PartSetHeader; parts: Part[] } {
  if (!Number.isSafeInteger(partSize) || partSize <= 0)
    throw new RangeError(`splitIntoParts: bad part size ${partSize}`)
  const total = Math.ceil(blockBytes.length / partSize)
  const chunks: Uint8Array[] = []
  for (let i = 0; i < total; i++)
    chunks.push(blockBytes.subarray(i * partSize, Math.min(blockBytes.length, (i + 1) * partSize)))
  const { root, proofs } = merkleProofs(chunks)
  const parts: Part[] = chunks.map((bytes, index) => ({ index, bytes, proof: proofs[index]! }))
  return { header: { total, hash: root }, parts }
}

/** A block's encoding split into parts, and its BlockID. */
export interface BlockParts {
  blockId: BlockID
  blockBytes: Uint8Array
  parts: Part[]
}

// The generator computes a block's id to sign it, then ChainStore needs the same parts: remember the last result
// per block object instead of encoding and hashing twice. Blocks are treated as immutable once built.
const partsCache = new WeakMap<Block, { partSize: number; parts: BlockParts }>()

/** The BlockID of a block split with `partSize`, together with its encoding and parts. */
export function makeBlockParts(block: Block, partSize: number): BlockParts {
  const cached = partsCache.get(block)
  if (cached !== undefined && cached.partSize === partSize) return cached.parts
  const blockBytes = encodeBlock(block)
  const { header, parts } = splitIntoParts(blockBytes, partSize)
  const result = { blockId: { hash: blockHash(block), partSetHeader: header }, blockBytes, parts }
  partsCache.set(block, { partSize, parts: result })
  return result
}

/** Parameters of {@link makeSyntheticCommit}. */
export interface SyntheticCommitParams {
  chainId: string
  height: number
  blockId: BlockID
  /** The validators of `height`: every one of them signs. */
  validators: ValidatorSet
  /** Timestamp of every signature. */
  timestamp: Date | Timestamp
  round?: number
}

/** A commit in which every validator precommitted `blockId`, with deterministic 64-byte synthetic signatures. */
export function makeSyntheticCommit(params: SyntheticCommitParams): Commit {
  const timestamp = params.timestamp instanceof Date ? timestampFromDate(params.timestamp) : params.timestamp
  const round = params.round ?? 0
  const signatures: CommitSig[] = params.validators.validators.map((v) => ({
    blockIdFlag: BlockIDFlag.Commit,
    validatorAddress: v.address,
    timestamp,
    signature: new Uint8Array(
      createHash('sha512')
        .update(`${params.chainId}/${params.height}/${round}/`)
        .update(params.blockId.hash)
        .update(v.address)
        .digest(),
    ),
  }))
  return { height: params.height, round, blockId: params.blockId, signatures }
}

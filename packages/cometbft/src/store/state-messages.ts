/**
 * State store messages of CometBFT v0.37 (`proto/tendermint/state/types.proto`, `tendermint/types/{validator,params}.proto`,
 * `tendermint/crypto/keys.proto`, `tendermint/store/types.proto`), encoded as gogoproto does.
 */
import {
  type BlockID,
  type Consensus,
  decodeBlockId,
  decodeConsensus,
  decodeFields,
  decodeTimestamp,
  emptyBlockId,
  encodeBlockId,
  encodeConsensus,
  encodeTimestamp,
  type Timestamp,
} from './block-messages.js'
import { ProtoWriter } from './proto-wire.js'

const EMPTY: Uint8Array = new Uint8Array(0)

/** `tendermint.crypto.PublicKey { oneof sum { bytes ed25519 = 1; bytes secp256k1 = 2; } }` */
export interface PublicKey {
  type: 'ed25519' | 'secp256k1'
  key: Uint8Array
}

/** `tendermint.types.Validator { bytes address = 1; PublicKey pub_key = 2 (non-nullable); int64 voting_power = 3; int64 proposer_priority = 4; }` */
export interface Validator {
  address: Uint8Array
  pubKey: PublicKey
  votingPower: number
  proposerPriority: number
}

/**
 * `tendermint.types.ValidatorSet { repeated Validator validators = 1; Validator proposer = 2; int64 total_voting_power = 3; }`.
 * CometBFT's `ToProto` always writes `total_voting_power = 0` (so it is absent on disk); keep it 0 when encoding
 * to produce the same bytes.
 */
export interface ValidatorSet {
  validators: Validator[]
  proposer: Validator | null
  totalVotingPower: number
}

/** `tendermint.state.ValidatorsInfo { ValidatorSet validator_set = 1 (nullable); int64 last_height_changed = 2; }` */
export interface ValidatorsInfo {
  /** null ⇔ this height only points at `lastHeightChanged` (or a checkpoint) for the full set. */
  validatorSet: ValidatorSet | null
  lastHeightChanged: number
}

/** `google.protobuf.Duration { int64 seconds = 1; int32 nanos = 2; }` */
export interface Duration {
  seconds: number
  nanos: number
}

/** `tendermint.types.BlockParams { int64 max_bytes = 1; int64 max_gas = 2; }` */
export interface BlockParams {
  maxBytes: number
  maxGas: number
}

/** `tendermint.types.EvidenceParams { int64 max_age_num_blocks = 1; Duration max_age_duration = 2 (non-nullable); int64 max_bytes = 3; }` */
export interface EvidenceParams {
  maxAgeNumBlocks: number
  maxAgeDuration: Duration
  maxBytes: number
}

/** `tendermint.types.ValidatorParams { repeated string pub_key_types = 1; }` */
export interface ValidatorParams {
  pubKeyTypes: string[]
}

/** `tendermint.types.VersionParams { uint64 app = 1; }` */
export interface VersionParams {
  app: number
}

/** `tendermint.types.ConsensusParams` (v0.37: every sub-message is a nullable pointer). */
export interface ConsensusParams {
  block: BlockParams | null
  evidence: EvidenceParams | null
  validator: ValidatorParams | null
  version: VersionParams | null
}

/** `tendermint.state.ConsensusParamsInfo { ConsensusParams consensus_params = 1 (non-nullable); int64 last_height_changed = 2; }` */
export interface ConsensusParamsInfo {
  consensusParams: ConsensusParams
  lastHeightChanged: number
}

/** `tendermint.state.Version { Consensus consensus = 1 (non-nullable); string software = 2; }` */
export interface StateVersion {
  consensus: Consensus
  software: string
}

/** `tendermint.state.State` (stored under `stateKey`). */
export interface State {
  /** 1, non-nullable */
  version: StateVersion
  /** 2 */
  chainId: string
  /** 14 */
  initialHeight: number
  /** 3 */
  lastBlockHeight: number
  /** 4, non-nullable */
  lastBlockId: BlockID
  /** 5, non-nullable */
  lastBlockTime: Timestamp
  /** 6 */
  nextValidators: ValidatorSet | null
  /** 7 */
  validators: ValidatorSet | null
  /** 8 (absent in the genesis state, present from height 1 on) */
  lastValidators: ValidatorSet | null
  /** 9 */
  lastHeightValidatorsChanged: number
  /** 10, non-nullable */
  consensusParams: ConsensusParams
  /** 11 */
  lastHeightConsensusParamsChanged: number
  /** 12 */
  lastResultsHash: Uint8Array
  /** 13 */
  appHash: Uint8Array
}

/** `tendermint.store.BlockStoreState { int64 base = 1; int64 height = 2; }` (the `blockStore` key). */
export interface BlockStoreState {
  base: number
  height: number
}

/** CometBFT's `types.DefaultConsensusParams()` (v0.37). */
export function defaultConsensusParams(): ConsensusParams {
  return {
    block: { maxBytes: 22020096, maxGas: -1 },
    evidence: {
      maxAgeNumBlocks: 100000,
      maxAgeDuration: { seconds: 48 * 3600, nanos: 0 },
      maxBytes: 1048576,
    },
    validator: { pubKeyTypes: ['ed25519'] },
    version: { app: 0 },
  }
}

/**
 * "Empty" params (what a `consensusParamsKey:<h>` pointer entry holds): `block.max_bytes` is 0 or absent.
 * Version-independent: v0.34 writes empty sub-messages, v0.37+ writes none; valid params always
 * have max_bytes > 0 or −1.
 */
export function isEmptyConsensusParams(params: ConsensusParams): boolean {
  return params.block === null || params.block.maxBytes === 0
}

export function emptyConsensusParams(): ConsensusParams {
  return { block: null, evidence: null, validator: null, version: null }
}

// ---------------------------------------------------------------------------------------------------------------
// Encoders

export function encodePublicKey(m: PublicKey): Uint8Array {
  const w = new ProtoWriter(40)
  // A oneof member is written even when empty: presence is what selects it.
  w.lengthDelimited(m.type === 'ed25519' ? 1 : 2, m.key)
  return w.finish()
}

export function encodeValidator(m: Validator): Uint8Array {
  const w = new ProtoWriter(96)
  w.bytes(1, m.address)
  w.lengthDelimited(2, encodePublicKey(m.pubKey))
  w.int64(3, m.votingPower)
  w.int64(4, m.proposerPriority)
  return w.finish()
}

export function encodeValidatorSet(m: ValidatorSet): Uint8Array {
  const w = new ProtoWriter(128 * (m.validators.length + 1))
  for (const v of m.validators) w.lengthDelimited(1, encodeValidator(v))
  if (m.proposer !== null) w.lengthDelimited(2, encodeValidator(m.proposer))
  w.int64(3, m.totalVotingPower)
  return w.finish()
}

export function encodeValidatorsInfo(m: ValidatorsInfo): Uint8Array {
  const set = m.validatorSet === null ? null : encodeValidatorSet(m.validatorSet)
  const w = new ProtoWriter((set?.length ?? 0) + 16)
  if (set !== null) w.lengthDelimited(1, set)
  w.int64(2, m.lastHeightChanged)
  return w.finish()
}

export function encodeDuration(m: Duration): Uint8Array {
  // Same wire shape as Timestamp.
  return encodeTimestamp(m)
}

export function encodeBlockParams(m: BlockParams): Uint8Array {
  const w = new ProtoWriter(24)
  w.int64(1, m.maxBytes)
  w.int64(2, m.maxGas)
  return w.finish()
}

export function encodeEvidenceParams(m: EvidenceParams): Uint8Array {
  const w = new ProtoWriter(40)
  w.int64(1, m.maxAgeNumBlocks)
  w.lengthDelimited(2, encodeDuration(m.maxAgeDuration))
  w.int64(3, m.maxBytes)
  return w.finish()
}

export function encodeValidatorParams(m: ValidatorParams): Uint8Array {
  const w = new ProtoWriter(32)
  for (const t of m.pubKeyTypes) w.repeatedString(1, t)
  return w.finish()
}

export function encodeVersionParams(m: VersionParams): Uint8Array {
  const w = new ProtoWriter(12)
  w.uint64(1, m.app)
  return w.finish()
}

export function encodeConsensusParams(m: ConsensusParams): Uint8Array {
  const w = new ProtoWriter(96)
  if (m.block !== null) w.lengthDelimited(1, encodeBlockParams(m.block))
  if (m.evidence !== null) w.lengthDelimited(2, encodeEvidenceParams(m.evidence))
  if (m.validator !== null) w.lengthDelimited(3, encodeValidatorParams(m.validator))
  if (m.version !== null) w.lengthDelimited(4, encodeVersionParams(m.version))
  return w.finish()
}

export function encodeConsensusParamsInfo(m: ConsensusParamsInfo): Uint8Array {
  const w = new ProtoWriter(112)
  w.lengthDelimited(1, encodeConsensusParams(m.consensusParams))
  w.int64(2, m.lastHeightChanged)
  return w.finish()
}

export function encodeStateVersion(m: StateVersion): Uint8Array {
  const w = new ProtoWriter(32)
  w.lengthDelimited(1, encodeConsensus(m.consensus))
  w.string(2, m.software)
  return w.finish()
}

export function encodeState(m: State): Uint8Array {
  const w = new ProtoWriter(1024)
  w.lengthDelimited(1, encodeStateVersion(m.version))
  w.string(2, m.chainId)
  w.int64(3, m.lastBlockHeight)
  w.lengthDelimited(4, encodeBlockId(m.lastBlockId))
  w.lengthDelimited(5, encodeTimestamp(m.lastBlockTime))
  if (m.nextValidators !== null) w.lengthDelimited(6, encodeValidatorSet(m.nextValidators))
  if (m.validators !== null) w.lengthDelimited(7, encodeValidatorSet(m.validators))
  if (m.lastValidators !== null) w.lengthDelimited(8, encodeValidatorSet(m.lastValidators))
  w.int64(9, m.lastHeightValidatorsChanged)
  w.lengthDelimited(10, encodeConsensusParams(m.consensusParams))
  w.int64(11, m.lastHeightConsensusParamsChanged)
  w.bytes(12, m.lastResultsHash)
  w.bytes(13, m.appHash)
  // gogoproto marshals by field number, so initial_height (14) comes last although it is declared third.
  w.int64(14, m.initialHeight)
  return w.finish()
}

export function encodeBlockStoreState(m: BlockStoreState): Uint8Array {
  const w = new ProtoWriter(24)
  w.int64(1, m.base)
  w.int64(2, m.height)
  return w.finish()
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders

export function decodePublicKey(bytes: Uint8Array): PublicKey {
  return decodeFields<PublicKey>(bytes, 'PublicKey', { type: 'ed25519', key: EMPTY }, (r, t, m) => {
    if (t.field === 1) {
      m.type = 'ed25519'
      m.key = r.bytes(t)
    } else if (t.field === 2) {
      m.type = 'secp256k1'
      m.key = r.bytes(t)
    } else return false
    return true
  })
}

export function decodeValidator(bytes: Uint8Array): Validator {
  const init: Validator = {
    address: EMPTY,
    pubKey: { type: 'ed25519', key: EMPTY },
    votingPower: 0,
    proposerPriority: 0,
  }
  return decodeFields(bytes, 'Validator', init, (r, t, m) => {
    if (t.field === 1) m.address = r.bytes(t)
    else if (t.field === 2) m.pubKey = decodePublicKey(r.bytes(t))
    else if (t.field === 3) m.votingPower = r.int64(t)
    else if (t.field === 4) m.proposerPriority = r.int64(t)
    else return false
    return true
  })
}

export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  const init: ValidatorSet = { validators: [], proposer: null, totalVotingPower: 0 }
  return decodeFields(bytes, 'ValidatorSet', init, (r, t, m) => {
    if (t.field === 1) m.validators.push(decodeValidator(r.bytes(t)))
    else if (t.field === 2) m.proposer = decodeValidator(r.bytes(t))
    else if (t.field === 3) m.totalVotingPower = r.int64(t)
    else return false
    return true
  })
}

export function decodeValidatorsInfo(bytes: Uint8Array): ValidatorsInfo {
  const init: ValidatorsInfo = { validatorSet: null, lastHeightChanged: 0 }
  return decodeFields(bytes, 'ValidatorsInfo', init, (r, t, m) => {
    if (t.field === 1) m.validatorSet = decodeValidatorSet(r.bytes(t))
    else if (t.field === 2) m.lastHeightChanged = r.int64(t)
    else return false
    return true
  })
}

export function decodeDuration(bytes: Uint8Array): Duration {
  return decodeTimestamp(bytes)
}

export function decodeBlockParams(bytes: Uint8Array): BlockParams {
  return decodeFields(bytes, 'BlockParams', { maxBytes: 0, maxGas: 0 }, (r, t, m) => {
    if (t.field === 1) m.maxBytes = r.int64(t)
    else if (t.field === 2) m.maxGas = r.int64(t)
    else return false
    return true
  })
}

export function decodeEvidenceParams(bytes: Uint8Array): EvidenceParams {
  const init: EvidenceParams = { maxAgeNumBlocks: 0, maxAgeDuration: { seconds: 0, nanos: 0 }, maxBytes: 0 }
  return decodeFields(bytes, 'EvidenceParams', init, (r, t, m) => {
    if (t.field === 1) m.maxAgeNumBlocks = r.int64(t)
    else if (t.field === 2) m.maxAgeDuration = decodeDuration(r.bytes(t))
    else if (t.field === 3) m.maxBytes = r.int64(t)
    else return false
    return true
  })
}

export function decodeValidatorParams(bytes: Uint8Array): ValidatorParams {
  return decodeFields<ValidatorParams>(bytes, 'ValidatorParams', { pubKeyTypes: [] }, (r, t, m) => {
    if (t.field !== 1) return false
    m.pubKeyTypes.push(r.string(t))
    return true
  })
}

export function decodeVersionParams(bytes: Uint8Array): VersionParams {
  return decodeFields(bytes, 'VersionParams', { app: 0 }, (r, t, m) => {
    if (t.field !== 1) return false
    m.app = r.uint64(t)
    return true
  })
}

export function decodeConsensusParams(bytes: Uint8Array): ConsensusParams {
  return decodeFields(bytes, 'ConsensusParams', emptyConsensusParams(), (r, t, m) => {
    if (t.field === 1) m.block = decodeBlockParams(r.bytes(t))
    else if (t.field === 2) m.evidence = decodeEvidenceParams(r.bytes(t))
    else if (t.field === 3) m.validator = decodeValidatorParams(r.bytes(t))
    else if (t.field === 4) m.version = decodeVersionParams(r.bytes(t))
    else return false
    return true
  })
}

export function decodeConsensusParamsInfo(bytes: Uint8Array): ConsensusParamsInfo {
  const init: ConsensusParamsInfo = { consensusParams: emptyConsensusParams(), lastHeightChanged: 0 }
  return decodeFields(bytes, 'ConsensusParamsInfo', init, (r, t, m) => {
    if (t.field === 1) m.consensusParams = decodeConsensusParams(r.bytes(t))
    else if (t.field === 2) m.lastHeightChanged = r.int64(t)
    else return false
    return true
  })
}

export function decodeStateVersion(bytes: Uint8Array): StateVersion {
  const init: StateVersion = { consensus: { block: 0, app: 0 }, software: '' }
  return decodeFields(bytes, 'Version', init, (r, t, m) => {
    if (t.field === 1) m.consensus = decodeConsensus(r.bytes(t))
    else if (t.field === 2) m.software = r.string(t)
    else return false
    return true
  })
}

export function decodeState(bytes: Uint8Array): State {
  const init: State = {
    version: { consensus: { block: 0, app: 0 }, software: '' },
    chainId: '',
    initialHeight: 0,
    lastBlockHeight: 0,
    lastBlockId: emptyBlockId(),
    lastBlockTime: { seconds: 0, nanos: 0 },
    nextValidators: null,
    validators: null,
    lastValidators: null,
    lastHeightValidatorsChanged: 0,
    consensusParams: emptyConsensusParams(),
    lastHeightConsensusParamsChanged: 0,
    lastResultsHash: EMPTY,
    appHash: EMPTY,
  }
  return decodeFields(bytes, 'State', init, (r, t, m) => {
    switch (t.field) {
      case 1:
        m.version = decodeStateVersion(r.bytes(t))
        break
      case 2:
        m.chainId = r.string(t)
        break
      case 3:
        m.lastBlockHeight = r.int64(t)
        break
      case 4:
        m.lastBlockId = decodeBlockId(r.bytes(t))
        break
      case 5:
        m.lastBlockTime = decodeTimestamp(r.bytes(t))
        break
      case 6:
        m.nextValidators = decodeValidatorSet(r.bytes(t))
        break
      case 7:
        m.validators = decodeValidatorSet(r.bytes(t))
        break
      case 8:
        m.lastValidators = decodeValidatorSet(r.bytes(t))
        break
      case 9:
        m.lastHeightValidatorsChanged = r.int64(t)
        break
      case 10:
        m.consensusParams = decodeConsensusParams(r.bytes(t))
        break
      case 11:
        m.lastHeightConsensusParamsChanged = r.int64(t)
        break
      case 12:
        m.lastResultsHash = r.bytes(t)
        break
      case 13:
        m.appHash = r.bytes(t)
        break
      case 14:
        m.initialHeight = r.int64(t)
        break
      default:
        return false
    }
    return true
  })
}

/** Decodes the `blockStore` value, applying CometBFT's load rule `height > 0 && base == 0 ⇒ base = 1`. */
export function decodeBlockStoreState(bytes: Uint8Array): BlockStoreState {
  const m = decodeFields(bytes, 'BlockStoreState', { base: 0, height: 0 }, (r, t, s) => {
    if (t.field === 1) s.base = r.int64(t)
    else if (t.field === 2) s.height = r.int64(t)
    else return false
    return true
  })
  if (m.height > 0 && m.base === 0) m.base = 1
  return m
}

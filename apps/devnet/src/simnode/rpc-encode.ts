/**
 * CometBFT v0.37 RPC JSON (cmtjson) of the stored objects: int64/uint64 as strings, int32/uint32/bool as
 * numbers, `[]byte` base64, `HexBytes` uppercase hex, times RFC3339Nano in UTC, `omitempty` honoured, and nil
 * slices as `null` (what a Go value decoded from protobuf holds when a repeated field is empty).
 */
import type {
  ABCIResponses,
  Block,
  BlockID,
  BlockMeta,
  Commit,
  ConsensusParams,
  Event,
  Header,
  ResponseDeliverTx,
  Timestamp,
  ValidatorUpdate,
} from '@ghostfleet/cometbft'
import { rfc3339Nano } from './go-format.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** `HexBytes`: uppercase hex, `""` when empty. */
export function hexUpper(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase()
}

/** `[]byte`: base64; a nil/empty slice is `null` where Go would hold nil. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function timeJson(ts: Timestamp): string {
  return rfc3339Nano(ts.seconds, ts.nanos)
}

const nilIfEmpty = <T>(items: T[], f: (t: T) => Json): Json => (items.length === 0 ? null : items.map(f))

// omitempty: drop zero values the way cmtjson's `frv.IsZero()` does.
function omitEmpty(entries: [string, Json | undefined, boolean][]): { [key: string]: Json } {
  const out: { [key: string]: Json } = {}
  for (const [k, v, isZero] of entries) if (!isZero && v !== undefined) out[k] = v
  return out
}

export function blockIdJson(id: BlockID): Json {
  return {
    hash: hexUpper(id.hash),
    parts: { total: id.partSetHeader.total, hash: hexUpper(id.partSetHeader.hash) },
  }
}

export function headerJson(h: Header): Json {
  return {
    version: { block: String(h.version.block), app: String(h.version.app) },
    chain_id: h.chainId,
    height: String(h.height),
    time: timeJson(h.time),
    last_block_id: blockIdJson(h.lastBlockId),
    last_commit_hash: hexUpper(h.lastCommitHash),
    data_hash: hexUpper(h.dataHash),
    validators_hash: hexUpper(h.validatorsHash),
    next_validators_hash: hexUpper(h.nextValidatorsHash),
    consensus_hash: hexUpper(h.consensusHash),
    app_hash: hexUpper(h.appHash),
    last_results_hash: hexUpper(h.lastResultsHash),
    evidence_hash: hexUpper(h.evidenceHash),
    proposer_address: hexUpper(h.proposerAddress),
  }
}

export function commitJson(c: Commit): Json {
  return {
    height: String(c.height),
    round: c.round,
    block_id: blockIdJson(c.blockId),
    // CommitFromProto makes the slice with make(): empty is [], not null.
    signatures: c.signatures.map((s) => ({
      block_id_flag: s.blockIdFlag,
      validator_address: hexUpper(s.validatorAddress),
      timestamp: timeJson(s.timestamp),
      signature: s.signature.length === 0 ? null : b64(s.signature),
    })),
  }
}

/** `types.Block`: header, data{txs}, evidence{evidence}, last_commit. */
export function blockJson(b: Block): Json {
  return {
    header: headerJson(b.header),
    // DataFromProto / EvidenceData.FromProto allocate their slices: empty is [], not null.
    data: { txs: b.data.txs.map(b64) },
    evidence: { evidence: b.evidence.evidence.map(b64) },
    last_commit: b.lastCommit === null ? null : commitJson(b.lastCommit),
  }
}

/** `ResultBlock`. */
export function resultBlockJson(meta: BlockMeta, block: Block): Json {
  return { block_id: blockIdJson(meta.blockId), block: blockJson(block) }
}

export function eventJson(e: Event): Json {
  return omitEmpty([
    ['type', e.type, e.type === ''],
    [
      'attributes',
      e.attributes.map((a) =>
        omitEmpty([
          ['key', a.key, a.key === ''],
          ['value', a.value, a.value === ''],
          ['index', a.index, !a.index],
        ]),
      ),
      e.attributes.length === 0,
    ],
  ])
}

export function deliverTxJson(d: ResponseDeliverTx): Json {
  return omitEmpty([
    ['code', d.code, d.code === 0],
    ['data', b64(d.data), d.data.length === 0],
    ['log', d.log, d.log === ''],
    ['info', d.info, d.info === ''],
    ['gas_wanted', String(d.gasWanted), d.gasWanted === 0],
    ['gas_used', String(d.gasUsed), d.gasUsed === 0],
    ['events', d.events.map(eventJson), d.events.length === 0],
    ['codespace', d.codespace, d.codespace === ''],
  ])
}

/** `abci.ValidatorUpdate`: the protobuf oneof shows through as `Sum` with a registered type name. */
export function validatorUpdateJson(u: ValidatorUpdate): Json {
  const oneof =
    u.pubKey.type === 'ed25519'
      ? {
          type: 'tendermint.crypto.PublicKey_Ed25519',
          value: omitEmpty([['ed25519', b64(u.pubKey.key), u.pubKey.key.length === 0]]),
        }
      : {
          type: 'tendermint.crypto.PublicKey_Secp256K1',
          value: omitEmpty([['secp256k1', b64(u.pubKey.key), u.pubKey.key.length === 0]]),
        }
  return omitEmpty([
    ['pub_key', { Sum: oneof }, false],
    ['power', String(u.power), u.power === 0],
  ])
}

/** `tmproto.ConsensusParams` (every sub-message a pointer with omitempty; Duration as int64 nanoseconds). */
export function consensusParamsJson(p: ConsensusParams): Json {
  const block = p.block
  const ev = p.evidence
  const durationNs = ev
    ? BigInt(ev.maxAgeDuration.seconds) * 1_000_000_000n + BigInt(ev.maxAgeDuration.nanos)
    : 0n
  return omitEmpty([
    [
      'block',
      block
        ? omitEmpty([
            ['max_bytes', String(block.maxBytes), block.maxBytes === 0],
            ['max_gas', String(block.maxGas), block.maxGas === 0],
          ])
        : null,
      block === null,
    ],
    [
      'evidence',
      ev
        ? omitEmpty([
            ['max_age_num_blocks', String(ev.maxAgeNumBlocks), ev.maxAgeNumBlocks === 0],
            ['max_age_duration', durationNs.toString(), durationNs === 0n],
            ['max_bytes', String(ev.maxBytes), ev.maxBytes === 0],
          ])
        : null,
      ev === null,
    ],
    [
      'validator',
      p.validator
        ? omitEmpty([['pub_key_types', p.validator.pubKeyTypes, p.validator.pubKeyTypes.length === 0]])
        : null,
      p.validator === null,
    ],
    [
      'version',
      p.version ? omitEmpty([['app', String(p.version.app), p.version.app === 0]]) : null,
      p.version === null,
    ],
  ])
}

/** v0.37 `ResultBlockResults`. */
export function blockResultsJson(height: number, r: ABCIResponses): Json {
  return {
    height: String(height),
    txs_results: nilIfEmpty(r.deliverTxs, deliverTxJson),
    begin_block_events: nilIfEmpty(r.beginBlock?.events ?? [], eventJson),
    end_block_events: nilIfEmpty(r.endBlock?.events ?? [], eventJson),
    validator_updates: nilIfEmpty(r.endBlock?.validatorUpdates ?? [], validatorUpdateJson),
    consensus_param_updates: r.endBlock?.consensusParamUpdates
      ? consensusParamsJson(r.endBlock.consensusParamUpdates)
      : null,
  }
}

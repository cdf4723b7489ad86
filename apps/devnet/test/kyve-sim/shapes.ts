import type { FieldSpec } from './helpers.js'

/*
 * The response shapes of the KYVE REST API, keys in proto declaration order (KYVENetwork/chain proto files at v1.4.0
 * and v1.5.0), each with its JSON type.
 */

const COIN: FieldSpec = [
  ['denom', 'string'],
  ['amount', 'u64'],
]

const PROTOCOL: FieldSpec = [
  ['version', 'string'],
  ['binaries', 'string'],
  ['last_upgrade', 'u64'],
]

const UPGRADE_PLAN: FieldSpec = [
  ['version', 'string'],
  ['binaries', 'string'],
  ['scheduled_at', 'u64'],
  ['duration', 'u64'],
]

const POOL_DATA_COMMON_HEAD: FieldSpec = [
  ['id', 'u64'],
  ['name', 'string'],
  ['runtime', 'string'],
  ['logo', 'string'],
  ['config', 'string'],
  ['start_key', 'string'],
  ['current_key', 'string'],
  ['current_summary', 'string'],
  ['current_index', 'u64'],
  ['total_bundles', 'u64'],
  ['upload_interval', 'u64'],
]

const POOL_DATA_COMMON_TAIL: FieldSpec = [
  ['min_delegation', 'u64'],
  ['max_bundle_size', 'u64'],
  ['disabled', 'bool'],
  ['protocol', PROTOCOL],
  ['upgrade_plan', UPGRADE_PLAN],
  ['current_storage_provider_id', 'u32'],
  ['current_compression_id', 'u32'],
]

/** `kyve.pool.v1beta1.Pool` at v1.5+. */
export const POOL_DATA_V15: FieldSpec = [
  ...POOL_DATA_COMMON_HEAD,
  ['inflation_share_weight', 'legacyDec'],
  ...POOL_DATA_COMMON_TAIL,
  ['end_key', 'string'],
]

/** `kyve.pool.v1beta1.Pool` at v1.4. */
export const POOL_DATA_V14: FieldSpec = [
  ...POOL_DATA_COMMON_HEAD,
  ['inflation_share_weight', 'u64'],
  ...POOL_DATA_COMMON_TAIL,
]

/** `kyve.bundles.v1beta1.BundleProposal` (v1.0 … HEAD): to_key before from_key. */
export const BUNDLE_PROPOSAL: FieldSpec = [
  ['pool_id', 'u64'],
  ['storage_id', 'string'],
  ['uploader', 'string'],
  ['next_uploader', 'string'],
  ['data_size', 'u64'],
  ['bundle_size', 'u64'],
  ['to_key', 'string'],
  ['bundle_summary', 'string'],
  ['data_hash', 'string'],
  ['updated_at', 'u64'],
  ['voters_valid', 'stringArray'],
  ['voters_invalid', 'stringArray'],
  ['voters_abstain', 'stringArray'],
  ['from_key', 'string'],
  ['storage_provider_id', 'u32'],
  ['compression_id', 'u32'],
]

const FUNDING: FieldSpec = [
  ['funder_address', 'kyveAddress'],
  ['pool_id', 'u64'],
  ['amounts', { arrayOf: COIN }],
  ['amounts_per_bundle', { arrayOf: COIN }],
  ['total_funded', { arrayOf: COIN }],
]

const POOL_RESPONSE_HEAD = (data: FieldSpec): FieldSpec => [
  ['id', 'u64'],
  ['data', data],
  ['bundle_proposal', BUNDLE_PROPOSAL],
  ['stakers', 'stringArray'],
  ['total_self_delegation', 'u64'],
  ['total_delegation', 'u64'],
  ['status', 'status'],
  ['account', 'kyveAddress'],
  ['account_balance', 'u64'],
]

/** `kyve.query.v1beta1.PoolResponse` at v1.5+. */
export const POOL_RESPONSE_V15: FieldSpec = [
  ...POOL_RESPONSE_HEAD(POOL_DATA_V15),
  ['fundings', { arrayOf: FUNDING }],
]

/** `kyve.query.v1beta1.PoolResponse` at v1.4 (no fundings). */
export const POOL_RESPONSE_V14: FieldSpec = POOL_RESPONSE_HEAD(POOL_DATA_V14)

/** `kyve.query.v1beta1.FinalizedBundle` (also the single-bundle answer): from_key declared before to_key. */
export const FINALIZED_BUNDLE: FieldSpec = [
  ['pool_id', 'u64'],
  ['id', 'u64'],
  ['storage_id', 'string'],
  ['uploader', 'kyveAddress'],
  ['from_index', 'u64'],
  ['to_index', 'u64'],
  ['from_key', 'string'],
  ['to_key', 'string'],
  ['bundle_summary', 'string'],
  ['data_hash', 'string'],
  [
    'finalized_at',
    [
      ['height', 'u64'],
      ['timestamp', 'rfc3339'],
    ],
  ],
  ['storage_provider_id', 'u64'],
  ['compression_id', 'u64'],
  [
    'stake_security',
    [
      ['valid_vote_power', 'u64'],
      ['total_vote_power', 'u64'],
    ],
  ],
]

/** `cosmos.base.query.v1beta1.PageResponse`. */
export const PAGE_RESPONSE: FieldSpec = [
  ['next_key', 'nullOrBase64'],
  ['total', 'u64'],
]

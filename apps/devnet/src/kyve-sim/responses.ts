import type { ApiVersion, JsonValue } from './json-encoding.js'
import type { CoinAmount, FinalizedBundleState, SimulatedPool } from './pool-state.js'

/*
 * JSON trees of the KYVE query responses, keys in proto declaration order (KYVENetwork/chain
 * `proto/kyve/query/v1beta1/pools.proto`, `bundles.proto`, `proto/kyve/pool/v1beta1/pool.proto` at v1.4.0 and
 * v1.5.0): uint64/int64 and sdk.Int as strings, uint32 as numbers, enums by name, every field present.
 */

type JsonObject = { [key: string]: JsonValue }

/** How a pool is to be shown: the chain release, and the `regress` fault's offset. */
export interface PoolView {
  version: ApiVersion
  /** Answer with a `current_key` this many heights below the true one (0 = truthful). */
  regressBy: number
}

function coins(list: CoinAmount[]): JsonValue[] {
  return list.map((coin) => ({ denom: coin.denom, amount: coin.amount.toString() }))
}

/** `kyve.query.v1beta1.PoolResponse` (one entry of `/pools`, or `pool` of `/pool/{id}`). */
export function poolResponseJson(pool: SimulatedPool, view: PoolView): JsonObject {
  const currentKey = view.regressBy > 0 ? pool.lowerKey(pool.currentKey, view.regressBy) : pool.currentKey
  const data: JsonObject = {
    id: pool.id,
    name: pool.name,
    runtime: pool.runtime,
    logo: pool.logo,
    config: pool.config,
    start_key: pool.startKey,
    current_key: currentKey,
    current_summary: pool.currentSummary,
    current_index: String(pool.currentIndex),
    total_bundles: String(pool.totalBundles),
    upload_interval: String(pool.uploadInterval),
    // v1.4: uint64 (ukyve, renamed from operating_cost); v1.5 upgrade set every pool to LegacyDec "1".
    inflation_share_weight: view.version === '1.5' ? '1.000000000000000000' : '2500000000',
    min_delegation: pool.minDelegation.toString(),
    max_bundle_size: String(pool.maxBundleSize),
    disabled: pool.disabled,
    protocol: {
      version: pool.protocol.version,
      binaries: pool.protocol.binaries,
      last_upgrade: String(pool.protocol.lastUpgrade),
    },
    upgrade_plan: { version: '', binaries: '', scheduled_at: '0', duration: '0' },
    current_storage_provider_id: pool.currentStorageProviderId,
    current_compression_id: pool.currentCompressionId,
  }
  if (view.version === '1.5') data.end_key = pool.endKey
  const proposal = pool.proposal
  const response: JsonObject = {
    id: pool.id,
    data,
    bundle_proposal: {
      pool_id: pool.id,
      storage_id: proposal.storageId,
      uploader: proposal.uploader,
      next_uploader: proposal.nextUploader,
      data_size: String(proposal.dataSize),
      bundle_size: String(proposal.bundleSize),
      to_key: proposal.toKey,
      bundle_summary: proposal.bundleSummary,
      data_hash: proposal.dataHash,
      updated_at: String(proposal.updatedAt),
      voters_valid: [...proposal.votersValid],
      voters_invalid: [...proposal.votersInvalid],
      voters_abstain: [...proposal.votersAbstain],
      from_key: proposal.fromKey,
      storage_provider_id: proposal.storageProviderId,
      compression_id: proposal.compressionId,
    },
    stakers: [...pool.stakers],
    total_self_delegation: pool.totalSelfDelegation.toString(),
    total_delegation: pool.totalDelegation.toString(),
    status: pool.status,
    account: pool.account,
    account_balance: pool.accountBalance.toString(),
  }
  if (view.version === '1.5') {
    response.fundings = pool.fundings.map((funding) => ({
      funder_address: funding.funderAddress,
      pool_id: pool.id,
      amounts: coins(funding.amounts),
      amounts_per_bundle: coins(funding.amountsPerBundle),
      total_funded: coins(funding.totalFunded),
    }))
  }
  return response
}

/** Go's `time.Unix(s, 0).Format(time.RFC3339)` in this process's local zone, as the chain formats it. */
export function formatRfc3339Local(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000)
  const pad = (value: number) => String(value).padStart(2, '0')
  const offsetMinutes = -date.getTimezoneOffset()
  const zone =
    offsetMinutes === 0
      ? 'Z'
      : `${offsetMinutes > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
  )
}

/**
 * `kyve.query.v1beta1.FinalizedBundle` (list entries) and `QueryFinalizedBundleResponse` (single route): the same
 * fields, `from_key` declared before `to_key`, storage provider and compression as uint64 strings here.
 */
export function finalizedBundleJson(poolId: string, bundle: FinalizedBundleState): JsonObject {
  return {
    pool_id: poolId,
    id: String(bundle.id),
    storage_id: bundle.storageId,
    uploader: bundle.uploader,
    from_index: String(bundle.fromIndex),
    to_index: String(bundle.toIndex),
    from_key: bundle.fromKey,
    to_key: bundle.toKey,
    bundle_summary: bundle.bundleSummary,
    data_hash: bundle.dataHash,
    finalized_at: {
      height: String(bundle.finalizedAtHeight),
      timestamp: formatRfc3339Local(bundle.finalizedAtTimestamp),
    },
    storage_provider_id: String(bundle.storageProviderId),
    compression_id: String(bundle.compressionId),
    stake_security: {
      valid_vote_power: bundle.validVotePower.toString(),
      total_vote_power: bundle.totalVotePower.toString(),
    },
  }
}

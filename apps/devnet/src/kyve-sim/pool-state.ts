import { createHash } from 'node:crypto'
import { derivedAddress, moduleAddress } from './bech32.js'
import type { ResolvedPoolOptions } from './options.js'
import { type KeyRange, type KeyScheme, keySchemeFor } from './runtime-keys.js'

/*
 * One simulated pool, moved the way the chain moves it (KYVE chain
 * `x/bundles/keeper/logic_bundles.go`, `msg_server_submit_bundle_proposal.go`, `msg_server_skip_uploader_role.go`):
 *
 * - A round = the next uploader's transaction. It first finalizes the pending proposal (if it has a storage id):
 *   `FinalizedBundle{Id: total_bundles, FromIndex: current_index, ToIndex: current_index + bundle_size, …}`,
 *   then `current_index += bundle_size`, `current_key = to_key`, `current_summary = bundle_summary`,
 *   `total_bundles++`, and every active funding pays `amounts_per_bundle`.
 * - Then it proposes `nextKey(current_key) …` up to `max_bundle_size` items that exist on the data source
 *   (`SubmitBundleProposal`), or, when no data exists yet, leaves an empty proposal with only `next_uploader`
 *   and `updated_at` set (`SkipUploaderRole`).
 * - A pool whose status is neither ACTIVE nor NO_FUNDS does not run rounds (`AssertPoolCanRun`).
 */

/** Pool status names in `kyve.pool.v1beta1.PoolStatus` order. */
export const POOL_STATUS = {
  ACTIVE: 'POOL_STATUS_ACTIVE',
  DISABLED: 'POOL_STATUS_DISABLED',
  NO_FUNDS: 'POOL_STATUS_NO_FUNDS',
  END_KEY_REACHED: 'POOL_STATUS_END_KEY_REACHED',
} as const

/** A status the simulated pools can be in. */
export type SimulatedPoolStatus = (typeof POOL_STATUS)[keyof typeof POOL_STATUS]

/** `cosmos.base.v1beta1.Coin` with an exact amount. */
export interface CoinAmount {
  denom: string
  amount: bigint
}

/** `kyve.funders.v1beta1.Funding`. */
export interface FundingState {
  funderAddress: string
  amounts: CoinAmount[]
  amountsPerBundle: CoinAmount[]
  totalFunded: CoinAmount[]
}

/** `kyve.bundles.v1beta1.BundleProposal` (the pending, not yet validated range). */
export interface BundleProposalState {
  storageId: string
  uploader: string
  nextUploader: string
  dataSize: number
  bundleSize: number
  toKey: string
  bundleSummary: string
  dataHash: string
  updatedAt: number
  votersValid: string[]
  votersInvalid: string[]
  votersAbstain: string[]
  fromKey: string
  storageProviderId: number
  compressionId: number
}

/** A stored `kyve.bundles.v1beta1.FinalizedBundle`. */
export interface FinalizedBundleState {
  id: number
  storageId: string
  uploader: string
  fromIndex: number
  toIndex: number
  fromKey: string
  toKey: string
  bundleSummary: string
  dataHash: string
  finalizedAtHeight: number
  /** Unix seconds. */
  finalizedAtTimestamp: number
  storageProviderId: number
  compressionId: number
  validVotePower: bigint
  totalVotePower: bigint
}

/** What one round did. */
export type RoundOutcome =
  | { kind: 'halted'; status: SimulatedPoolStatus }
  | { kind: 'proposed'; finalized: FinalizedBundleState | null; proposed: KeyRange }
  | { kind: 'skipped'; finalized: FinalizedBundleState | null; nextKey: string }

/** When a round runs: the KYVE block it lands in and the data source's height. */
export interface RoundContext {
  kyveHeight: number
  /** Unix seconds. */
  now: number
  /** The data-source node's latest height (`/abci_info` `last_block_height`). */
  chainHeight: number
}

/** Settings a test or operator may change while the simulator runs. */
export interface PoolSettingsPatch {
  disabled?: boolean
  endKey?: string
  maxBundleSize?: number
  uploadInterval?: number
  lagBlocks?: number
  heightCap?: number | null
}

/** Thrown when a requested change is impossible for this pool; nothing was changed. */
export class PoolChangeRejectedError extends Error {
  constructor(
    readonly poolId: string,
    reason: string,
  ) {
    super(`pool ${poolId}: ${reason}`)
    this.name = 'PoolChangeRejectedError'
  }
}

// Gzip and Bundlr, the storage provider / compression most KYVE pools run with.
const STORAGE_PROVIDER_ID = 2
const COMPRESSION_ID = 1
const DENOM = 'ukyve'
const STAKER_COUNT = 4
// Self-delegation and delegation (ukyve) per staker, largest under 50 % of the total so that the pool is not
// VOTING_POWER_TOO_HIGH.
const SELF_DELEGATIONS = [1_500_000_000_000n, 1_100_000_000_000n, 900_000_000_000n, 600_000_000_000n]
const DELEGATIONS = [1_000_000_000_000n, 800_000_000_000n, 500_000_000_000n, 400_000_000_000n]

/** Math.min for bigints (Math.min throws on them). */
function smallerOf(a: bigint, b: bigint): bigint {
  return a <= b ? a : b
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function emptyProposal(nextUploader: string, updatedAt: number): BundleProposalState {
  return {
    storageId: '',
    uploader: '',
    nextUploader,
    dataSize: 0,
    bundleSize: 0,
    toKey: '',
    bundleSummary: '',
    dataHash: '',
    updatedAt,
    votersValid: [],
    votersInvalid: [],
    votersAbstain: [],
    fromKey: '',
    storageProviderId: 0,
    compressionId: 0,
  }
}

/** A simulated KYVE storage pool and its finalized bundles. */
export class SimulatedPool {
  readonly id: string
  readonly name: string
  readonly runtime: ResolvedPoolOptions['runtime']
  readonly startKey: string
  readonly config: string
  readonly logo = 'ar://u8kGlBx37seQCO1X5vQsc3Q8iO2CE-BHqsm0937poak'
  readonly minDelegation = 100_000_000_000n
  readonly currentStorageProviderId = STORAGE_PROVIDER_ID
  readonly currentCompressionId = COMPRESSION_ID
  /** Balance (ukyve) of the pool's module account; rewards pass through it within a block. */
  readonly accountBalance = 0n
  readonly account: string
  readonly stakers: string[]
  readonly selfDelegations: bigint[]
  readonly delegations: bigint[]
  readonly fundings: FundingState[]
  readonly protocol = {
    version: '1.2.3',
    binaries: JSON.stringify({
      'kyve-linux-arm64':
        'https://github.com/KYVENetwork/kyvejs/releases/download/%40kyvejs%2Ftendermint%401.2.3/kyve-linux-arm64.zip',
      'kyve-linux-x64':
        'https://github.com/KYVENetwork/kyvejs/releases/download/%40kyvejs%2Ftendermint%401.2.3/kyve-linux-x64.zip',
    }),
    lastUpgrade: 1_719_316_800,
  }

  currentKey = ''
  currentSummary = ''
  currentIndex = 0
  endKey: string
  disabled: boolean
  maxBundleSize: number
  uploadInterval: number
  lagBlocks: number
  /** Bundles end at or below this height (null: no cap); see pool-patch.ts. */
  heightCap: number | null = null
  proposal: BundleProposalState
  readonly bundles: FinalizedBundleState[] = []

  private readonly scheme: KeyScheme
  private nextUploaderIndex = 0

  /**
   * @param endKeySupported false when imitating chain v1.4, which has no `end_key` (and no END_KEY_REACHED).
   */
  constructor(
    options: ResolvedPoolOptions,
    private readonly endKeySupported: boolean,
  ) {
    this.id = options.id
    this.name = options.name
    this.runtime = options.runtime
    this.startKey = options.startKey
    this.endKey = endKeySupported ? options.endKey : ''
    this.disabled = options.disabled
    this.maxBundleSize = options.maxBundleSize
    this.uploadInterval = options.uploadInterval
    this.lagBlocks = options.lagBlocks
    this.scheme = keySchemeFor(options.runtime, options)
    this.config =
      options.runtime === '@kyvejs/tendermint-ssync'
        ? JSON.stringify({ api: 'http://127.0.0.1:7878', interval: options.snapshotInterval })
        : JSON.stringify({ network: options.sourceChainId, rpc: 'http://localhost:26657' })
    this.account = moduleAddress(`pool/${this.id}`, 'kyve')
    this.stakers = Array.from({ length: STAKER_COUNT }, (_, i) =>
      derivedAddress(`pool/${this.id}/staker/${i}`, 'kyve'),
    )
    this.selfDelegations = SELF_DELEGATIONS.slice(0, STAKER_COUNT)
    this.delegations = DELEGATIONS.slice(0, STAKER_COUNT)
    this.fundings = [
      {
        funderAddress: derivedAddress(`pool/${this.id}/funder/0`, 'kyve'),
        amounts: [{ denom: DENOM, amount: 50_000_000_000_000n }],
        amountsPerBundle: [{ denom: DENOM, amount: 10_000_000n }],
        totalFunded: [],
      },
    ]
    // A pool nobody has proposed to yet: GetBundleProposal's zero value with only pool_id set.
    this.proposal = emptyProposal('', 0)
  }

  /** `total_bundles`: finalized bundles so far (ids 0 … total − 1). */
  get totalBundles(): number {
    return this.bundles.length
  }

  /** Σ self-delegations of the pool's stakers (`total_self_delegation`). */
  get totalSelfDelegation(): bigint {
    return this.selfDelegations.reduce((sum, amount) => sum + amount, 0n)
  }

  /** Σ stake of the pool's stakers (`total_delegation`), also the total vote power. */
  get totalDelegation(): bigint {
    return this.totalSelfDelegation + this.delegations.reduce((sum, amount) => sum + amount, 0n)
  }

  /** The chain's `GetPoolStatus`, first matching rule wins (upgrades are never scheduled here). */
  get status(): SimulatedPoolStatus {
    if (this.disabled) return POOL_STATUS.DISABLED
    if (this.endKey !== '' && this.endKey === this.currentKey) return POOL_STATUS.END_KEY_REACHED
    const funded = this.fundings.some((funding) => funding.amounts.some((coin) => coin.amount > 0n))
    return funded ? POOL_STATUS.ACTIVE : POOL_STATUS.NO_FUNDS
  }

  /** `nextKey(current_key)`, or `start_key` before the first bundle. */
  get nextKey(): string {
    return this.currentKey === '' ? this.startKey : this.scheme.next(this.currentKey)
  }

  /** Why `key` is not a valid key of this pool's runtime, or null. */
  invalidKeyReason(key: string): string | null {
    return this.scheme.invalidReason(key)
  }

  /** `key` lowered by `by` heights (the `regress` fault); "" stays "". */
  lowerKey(key: string, by: number): string {
    return key === '' ? '' : this.scheme.lower(key, by)
  }

  /** The finalized bundle that contains data item `index`, if any (the `?index=` query). */
  bundleContainingIndex(index: bigint): FinalizedBundleState | undefined {
    let low = 0
    let high = this.bundles.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const bundle = this.bundles[middle]
      if (bundle === undefined) break
      if (index < BigInt(bundle.fromIndex)) high = middle - 1
      else if (index >= BigInt(bundle.toIndex)) low = middle + 1
      else return bundle
    }
    return undefined
  }

  /** One round of the pool's next uploader (see the file comment). */
  runRound(context: RoundContext): RoundOutcome {
    const status = this.status
    if (status !== POOL_STATUS.ACTIVE && status !== POOL_STATUS.NO_FUNDS) return { kind: 'halted', status }
    const finalized = this.proposal.storageId === '' ? null : this.finalizeProposal(context)
    // Finalizing may have reached end_key: a halted pool accepts no new proposal.
    const after = this.status
    const uploader = this.takeNextUploader()
    const nextUploader = this.stakers[this.nextUploaderIndex] ?? ''
    const maxHeight = Math.min(
      context.chainHeight - this.lagBlocks,
      this.heightCap ?? Number.POSITIVE_INFINITY,
    )
    const range =
      after === POOL_STATUS.ACTIVE || after === POOL_STATUS.NO_FUNDS
        ? this.scheme.range(this.nextKey, this.maxBundleSize, maxHeight, this.endKey)
        : null
    if (range === null) {
      this.proposal = emptyProposal(nextUploader, context.now)
      return { kind: 'skipped', finalized, nextKey: this.nextKey }
    }
    const seed = `${this.id}/${range.fromKey}/${range.toKey}`
    this.proposal = {
      storageId: createHash('sha256').update(`storage/${seed}`).digest('base64url'),
      uploader,
      nextUploader,
      dataSize: range.size * 24_576 + (Number.parseInt(sha256Hex(seed).slice(0, 4), 16) % 4096),
      bundleSize: range.size,
      toKey: range.toKey,
      bundleSummary: this.scheme.summary(this.id, range.toKey),
      dataHash: sha256Hex(`data/${seed}`),
      updatedAt: context.now,
      votersValid: [uploader],
      votersInvalid: [],
      votersAbstain: [],
      fromKey: range.fromKey,
      storageProviderId: STORAGE_PROVIDER_ID,
      compressionId: COMPRESSION_ID,
    }
    return { kind: 'proposed', finalized, proposed: range }
  }

  /**
   * Rewrites history so that `current_key` is `key` (test control, not something the chain can do): bundles
   * beyond `key` are forgotten, and one bundle covers any gap up to `key`, even one larger than
   * `max_bundle_size`. "" returns the pool to "nothing validated yet". The pending proposal is dropped.
   * @throws PoolChangeRejectedError when `key` is not a key of the runtime or lies before `start_key`.
   */
  setCurrentKey(key: string, context: Omit<RoundContext, 'chainHeight'>): void {
    const problem = this.currentKeyProblem(key)
    if (problem !== null) throw new PoolChangeRejectedError(this.id, problem)
    while (this.bundles.length > 0) {
      const last = this.bundles[this.bundles.length - 1]
      if (last === undefined || (key !== '' && this.scheme.compare(last.toKey, key) <= 0)) break
      this.bundles.pop()
    }
    const last = this.bundles[this.bundles.length - 1]
    this.currentKey = last?.toKey ?? ''
    this.currentIndex = last?.toIndex ?? 0
    this.currentSummary = last?.bundleSummary ?? ''
    if (key !== '' && this.currentKey !== key) {
      const fromKey = this.nextKey
      const size = this.scheme.count(fromKey, key)
      const seed = `${this.id}/${fromKey}/${key}`
      this.proposal = {
        ...emptyProposal('', context.now),
        storageId: createHash('sha256').update(`storage/${seed}`).digest('base64url'),
        uploader: this.takeNextUploader(),
        bundleSize: size,
        dataSize: size * 24_576,
        fromKey,
        toKey: key,
        bundleSummary: this.scheme.summary(this.id, key),
        dataHash: sha256Hex(`data/${seed}`),
        storageProviderId: STORAGE_PROVIDER_ID,
        compressionId: COMPRESSION_ID,
      }
      this.finalizeProposal({ ...context, chainHeight: 0 })
    }
    this.proposal = emptyProposal(this.stakers[this.nextUploaderIndex] ?? '', context.now)
  }

  /** Why `key` cannot become the current key (see {@link setCurrentKey}), or null. */
  currentKeyProblem(key: string): string | null {
    if (key === '') return null
    const reason = this.scheme.invalidReason(key)
    if (reason !== null) return `current key rejected: ${reason}`
    if (this.scheme.compare(key, this.startKey) < 0)
      return `current key ${key} lies before start_key ${this.startKey}`
    return null
  }

  /**
   * Changes settings the way governance would (`MsgUpdatePool`, `MsgDisablePool`).
   * @throws PoolChangeRejectedError when `endKey` is not a key of the runtime; nothing is changed then.
   */
  applySettings(patch: PoolSettingsPatch): void {
    if (patch.endKey !== undefined && patch.endKey !== '') {
      if (!this.endKeySupported) throw new PoolChangeRejectedError(this.id, 'chain v1.4 has no end_key')
      const reason = this.scheme.invalidReason(patch.endKey)
      if (reason !== null) throw new PoolChangeRejectedError(this.id, `end key rejected: ${reason}`)
    }
    if (patch.endKey !== undefined) this.endKey = patch.endKey
    if (patch.disabled !== undefined) this.disabled = patch.disabled
    if (patch.maxBundleSize !== undefined) this.maxBundleSize = patch.maxBundleSize
    if (patch.uploadInterval !== undefined) this.uploadInterval = patch.uploadInterval
    if (patch.lagBlocks !== undefined) this.lagBlocks = patch.lagBlocks
    if (patch.heightCap !== undefined) this.heightCap = patch.heightCap
  }

  private takeNextUploader(): string {
    const uploader = this.stakers[this.nextUploaderIndex] ?? ''
    this.nextUploaderIndex = (this.nextUploaderIndex + 1) % this.stakers.length
    return uploader
  }

  private finalizeProposal(context: RoundContext): FinalizedBundleState {
    const proposal = this.proposal
    const bundle: FinalizedBundleState = {
      id: this.bundles.length,
      storageId: proposal.storageId,
      uploader: proposal.uploader,
      fromIndex: this.currentIndex,
      toIndex: this.currentIndex + proposal.bundleSize,
      fromKey: proposal.fromKey,
      toKey: proposal.toKey,
      bundleSummary: proposal.bundleSummary,
      dataHash: proposal.dataHash,
      finalizedAtHeight: context.kyveHeight,
      finalizedAtTimestamp: context.now,
      storageProviderId: proposal.storageProviderId,
      compressionId: proposal.compressionId,
      // Every staker voted valid by the end of the round.
      validVotePower: this.totalDelegation,
      totalVotePower: this.totalDelegation,
    }
    this.bundles.push(bundle)
    this.currentIndex = bundle.toIndex
    this.currentKey = bundle.toKey
    this.currentSummary = bundle.bundleSummary
    this.chargeFunders()
    return bundle
  }

  /** x/funders `ChargeFundersOfPool`: each active funding pays its per-bundle amounts, at most what is left. */
  private chargeFunders(): void {
    for (const funding of this.fundings) {
      for (const perBundle of funding.amountsPerBundle) {
        const coin = funding.amounts.find((candidate) => candidate.denom === perBundle.denom)
        if (coin === undefined || coin.amount === 0n) continue
        const charged = smallerOf(coin.amount, perBundle.amount)
        coin.amount -= charged
        const total = funding.totalFunded.find((candidate) => candidate.denom === perBundle.denom)
        if (total === undefined) funding.totalFunded.push({ denom: perBundle.denom, amount: charged })
        else total.amount += charged
      }
      // sdk.Coins drop zero amounts.
      funding.amounts = funding.amounts.filter((coin) => coin.amount > 0n)
    }
  }
}

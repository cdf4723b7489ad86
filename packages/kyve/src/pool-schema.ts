import { z } from 'zod'

/*
 * The JSON of `GET /kyve/query/v1beta1/pool/{id}` as the Cosmos SDK gRPC gateway renders it: snake_case keys,
 * every field present, uint64/int64 as decimal strings, uint32 as JSON numbers, enums by name.
 *
 * Strictness policy:
 * - Every documented field is required and type-checked (a string where a number belongs is a reject, and the
 *   other way round), because a body that gets the documented types wrong cannot be trusted for the fields we
 *   do use either.
 * - Unknown keys are accepted and dropped (`z.object` strips them): a newer chain may add fields.
 * - The version-specific fields must form one documented set (v1.0–1.3, v1.4 or v1.5+); see `checkVersionSet`.
 */

const U64_MAX = 18_446_744_073_709_551_615n

/** Canonical decimal as Go's strconv.FormatUint writes it: no sign, no leading zeros, no spaces. */
const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/

/** cosmossdk.io/math LegacyDec.String(): integer part, a dot, exactly 18 decimals (e.g. "1.000000000000000000"). */
const LEGACY_DEC = /^(?:0|[1-9][0-9]*)\.[0-9]{18}$/

/** A uint64 (or non-negative int64) rendered as a JSON string. */
export const u64StringSchema = z
  .string()
  .regex(CANONICAL_DECIMAL, 'expected a uint64 as a canonical decimal string (e.g. "42")')
  // zod runs every check even after the regex failed, so this one must not assume the regex passed.
  .refine(
    (value) => !CANONICAL_DECIMAL.test(value) || (value.length <= 20 && BigInt(value) <= U64_MAX),
    'exceeds the uint64 range',
  )

/** A uint32 rendered as a JSON number. */
export const u32NumberSchema = z
  .int('expected a uint32 as a JSON number')
  .min(0, 'expected a uint32 (>= 0)')
  .max(4_294_967_295, 'expected a uint32 (<= 4294967295)')

/** An sdk.Int amount (a Coin's amount): a non-negative decimal string of arbitrary size. */
const intStringSchema = z.string().regex(CANONICAL_DECIMAL, 'expected a non-negative integer amount string')

const legacyDecSchema = z
  .string()
  .regex(LEGACY_DEC, 'expected a LegacyDec string with 18 decimals (e.g. "1.000000000000000000")')

/** The eight status names of `kyve.pool.v1beta1.PoolStatus`, in enum order (0–7). */
export const POOL_STATUSES = [
  'POOL_STATUS_UNSPECIFIED',
  'POOL_STATUS_ACTIVE',
  'POOL_STATUS_DISABLED',
  'POOL_STATUS_NO_FUNDS',
  'POOL_STATUS_NOT_ENOUGH_DELEGATION',
  'POOL_STATUS_UPGRADING',
  'POOL_STATUS_VOTING_POWER_TOO_HIGH',
  'POOL_STATUS_END_KEY_REACHED',
] as const

/** The status the chain computed for the pool at query time. */
export const poolStatusSchema = z.enum(POOL_STATUSES)

/** One of {@link POOL_STATUSES}. */
export type PoolStatus = z.infer<typeof poolStatusSchema>

const coinSchema = z.object({ denom: z.string(), amount: intStringSchema })

/** `pool.fundings[]` (chain ≥ v1.5, from the x/funders module). */
const fundingSchema = z.object({
  funder_address: z.string(),
  pool_id: u64StringSchema,
  amounts: z.array(coinSchema),
  amounts_per_bundle: z.array(coinSchema),
  total_funded: z.array(coinSchema),
})

/** `pool.data.funders[]` (chain v1.0–v1.3 only). */
const legacyFunderSchema = z.object({ address: z.string(), amount: u64StringSchema })

const protocolSchema = z.object({
  version: z.string(),
  binaries: z.string(),
  last_upgrade: u64StringSchema,
})

const upgradePlanSchema = z.object({
  version: z.string(),
  binaries: z.string(),
  scheduled_at: u64StringSchema,
  duration: u64StringSchema,
})

/** `kyve.pool.v1beta1.Pool`: the fields shared by every chain version, plus the version-specific ones. */
const poolDataSchema = z.object({
  id: u64StringSchema,
  name: z.string(),
  runtime: z.string().min(1, 'expected the pool runtime name (e.g. "@kyvejs/tendermint")'),
  logo: z.string(),
  config: z.string(),
  start_key: z.string(),
  current_key: z.string(),
  current_summary: z.string(),
  current_index: u64StringSchema,
  total_bundles: u64StringSchema,
  upload_interval: u64StringSchema,
  min_delegation: u64StringSchema,
  max_bundle_size: u64StringSchema,
  disabled: z.boolean(),
  protocol: protocolSchema,
  upgrade_plan: upgradePlanSchema,
  current_storage_provider_id: u32NumberSchema,
  current_compression_id: u32NumberSchema,
  /** v1.4: uint64 string; v1.5+: LegacyDec string. Checked against the version set in `checkVersionSet`. */
  inflation_share_weight: z.string().optional(),
  /** v1.5+ ("" = no end). */
  end_key: z.string().optional(),
  /** v1.0–v1.3 only. */
  operating_cost: u64StringSchema.optional(),
  /** v1.0–v1.3 only. */
  funders: z.array(legacyFunderSchema).optional(),
  /** v1.0–v1.3 only. */
  total_funds: u64StringSchema.optional(),
})

/** `kyve.bundles.v1beta1.BundleProposal`: the same 16 fields from chain v1.0 to HEAD. Not validated data. */
const bundleProposalSchema = z.object({
  pool_id: u64StringSchema,
  storage_id: z.string(),
  uploader: z.string(),
  next_uploader: z.string(),
  data_size: u64StringSchema,
  bundle_size: u64StringSchema,
  to_key: z.string(),
  bundle_summary: z.string(),
  data_hash: z.string(),
  updated_at: u64StringSchema,
  voters_valid: z.array(z.string()),
  voters_invalid: z.array(z.string()),
  voters_abstain: z.array(z.string()),
  from_key: z.string(),
  storage_provider_id: u32NumberSchema,
  compression_id: u32NumberSchema,
})

type PoolEntry = {
  id: string
  data: z.infer<typeof poolDataSchema>
  fundings?: unknown[] | undefined
  account?: string | undefined
  account_balance?: string | undefined
}

/**
 * The version-specific fields must form one documented set, told apart by which keys are present:
 * - `end_key` present → chain ≥ v1.5: `inflation_share_weight` is a LegacyDec, `fundings`, `account` and
 *   `account_balance` are present.
 * - else `inflation_share_weight` present → v1.4: it is a uint64 string; `account`/`account_balance` present.
 * - else → v1.0–v1.3: `operating_cost`, `funders` and `total_funds` present (`account` since v1.3, optional).
 * Fields of other versions are not rejected (unknown-field tolerance); missing ones are.
 */
function checkVersionSet(pool: PoolEntry, ctx: z.RefinementCtx): void {
  const data = pool.data
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message })
  if (data.id !== pool.id) {
    issue(['data', 'id'], `pool.data.id "${data.id}" differs from pool.id "${pool.id}"`)
  }
  const requireAccount = (version: string) => {
    if (pool.account === undefined)
      issue(['account'], `missing (required since chain v1.3, body looks ${version})`)
    if (pool.account_balance === undefined) {
      issue(['account_balance'], `missing (required since chain v1.3, body looks ${version})`)
    }
  }
  if (data.end_key !== undefined) {
    const weight = legacyDecSchema.safeParse(data.inflation_share_weight)
    if (!weight.success) {
      issue(
        ['data', 'inflation_share_weight'],
        `with end_key present (chain >= v1.5) expected a LegacyDec string like "1.000000000000000000", got ${JSON.stringify(data.inflation_share_weight)}`,
      )
    }
    if (pool.fundings === undefined)
      issue(['fundings'], 'missing (required with end_key present, chain >= v1.5)')
    requireAccount('like chain >= v1.5')
    return
  }
  if (data.inflation_share_weight !== undefined) {
    if (!u64StringSchema.safeParse(data.inflation_share_weight).success) {
      issue(
        ['data', 'inflation_share_weight'],
        `without end_key (chain v1.4) expected a uint64 string like "2500000000", got ${JSON.stringify(data.inflation_share_weight)}`,
      )
    }
    requireAccount('like chain v1.4')
    return
  }
  const legacyMissing = (['operating_cost', 'funders', 'total_funds'] as const).filter(
    (key) => data[key] === undefined,
  )
  if (legacyMissing.length > 0) {
    issue(
      ['data'],
      'matches no known KYVE chain version: expected end_key + inflation_share_weight (>= v1.5), ' +
        'inflation_share_weight (v1.4) or operating_cost + funders + total_funds (v1.0-v1.3); missing ' +
        legacyMissing.join(', '),
    )
  }
}

const poolEntrySchema = z
  .object({
    id: u64StringSchema,
    data: poolDataSchema,
    bundle_proposal: bundleProposalSchema,
    stakers: z.array(z.string()),
    total_self_delegation: u64StringSchema,
    total_delegation: u64StringSchema,
    status: poolStatusSchema,
    /** Since chain v1.3. */
    account: z.string().optional(),
    /** Since chain v1.3. */
    account_balance: u64StringSchema.optional(),
    /** Since chain v1.5. */
    fundings: z.array(fundingSchema).optional(),
  })
  .superRefine(checkVersionSet)

/**
 * zod schema of the body of `GET {endpoint}/kyve/query/v1beta1/pool/{id}` (`QueryPoolResponse`), covering the
 * chain v1.0–v1.3, v1.4 and v1.5+ field sets. Unknown keys are tolerated and stripped.
 */
export const poolResponseSchema = z.object({ pool: poolEntrySchema })

/** A validated pool response body (see {@link poolResponseSchema}). */
export type PoolResponse = z.infer<typeof poolResponseSchema>

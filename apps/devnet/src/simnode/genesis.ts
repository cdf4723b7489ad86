import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { HomeFileError } from './errors.js'
import { parseHomeFile } from './home-file.js'
import { PUB_KEY_TYPE } from './keys.js'

/** The parts of `config/genesis.json` the simulated node uses. */
export interface Genesis {
  genesisTime: string
  chainId: string
  initialHeight: number
  validators: { pubKey: Buffer; power: number; name: string }[]
  consensusParams: GenesisConsensusParams
}

/** `consensus_params` of the genesis file, numbers decoded. */
export interface GenesisConsensusParams {
  block: { maxBytes: number; maxGas: number }
  evidence: { maxAgeNumBlocks: number; maxAgeDurationNs: bigint; maxBytes: number }
  validator: { pubKeyTypes: string[] }
  version: { app: number }
}

/** Fixed so that every home initialised for one chain id holds the very same genesis file. */
export const SIMULATED_GENESIS_TIME = '2024-01-01T00:00:00Z'
/** Number of genesis validators of a simulated chain. */
export const SIMULATED_VALIDATOR_COUNT = 4

/**
 * The genesis validators of a simulated chain: keys `sha256("<chainId>/validator/<i>")`, power 10 each.
 * Derived from the chain id alone, so nodes initialised separately with the same `--chain-id` share a genesis
 * and can sync from each other, as the nodes of a real network share the published genesis.json.
 */
export function simulatedGenesisValidators(
  chainId: string,
): { pubKey: Buffer; power: number; name: string }[] {
  return Array.from({ length: SIMULATED_VALIDATOR_COUNT }, (_, i) => ({
    pubKey: createHash('sha256').update(`${chainId}/validator/${i}`).digest(),
    power: 10,
    name: `validator-${i}`,
  }))
}

// Go's MaxChainIDLen (types/genesis.go).
const MAX_CHAIN_ID_LEN = 50

/** Validates a chain id the way `GenesisDoc.ValidateAndComplete` does. */
export function checkChainId(chainId: string): string | undefined {
  if (chainId === '') return 'genesis doc must include non-empty chain_id'
  if (chainId.length > MAX_CHAIN_ID_LEN)
    return `chain_id in genesis doc is too long (max: ${MAX_CHAIN_ID_LEN})`
  return undefined
}

/**
 * A genesis document in the shape `cometbft init` writes (cmtjson: int64 as strings), with the simulated
 * chain's validators ({@link simulatedGenesisValidators}). A function of the chain id only.
 */
export function renderGenesis(chainId: string): string {
  return JSON.stringify(
    {
      genesis_time: SIMULATED_GENESIS_TIME,
      chain_id: chainId,
      initial_height: '1',
      consensus_params: {
        block: { max_bytes: '22020096', max_gas: '-1' },
        evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
        validator: { pub_key_types: ['ed25519'] },
        version: { app: '0' },
      },
      validators: simulatedGenesisValidators(chainId).map((v) => ({
        address: addressHex(v.pubKey),
        pub_key: { type: PUB_KEY_TYPE, value: v.pubKey.toString('base64') },
        power: String(v.power),
        name: v.name,
      })),
      app_hash: '',
      app_state: {},
    },
    null,
    '  ',
  )
}

function addressHex(pubKey: Buffer): string {
  return createHash('sha256').update(pubKey).digest().subarray(0, 20).toString('hex').toUpperCase()
}

const int64String = z.union([z.string().regex(/^-?\d+$/), z.number().int()]).transform((v) => BigInt(v))
const safeInt = int64String
  .refine((v) => v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER), 'out of range')
  .transform(Number)

const consensusParamsSchema = z.object({
  block: z.object({ max_bytes: safeInt, max_gas: safeInt }),
  evidence: z.object({
    max_age_num_blocks: safeInt,
    max_age_duration: int64String,
    max_bytes: safeInt.default(1048576),
  }),
  validator: z.object({ pub_key_types: z.array(z.string()).min(1) }),
  version: z.object({ app: safeInt.default(0) }).prefault({}),
})

const genesisSchema = z.object({
  genesis_time: z.string().min(1),
  chain_id: z.string().superRefine((id, ctx) => {
    const problem = checkChainId(id)
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  }),
  initial_height: safeInt.default(1).refine((h) => h >= 1, 'initial_height must be at least 1'),
  consensus_params: consensusParamsSchema,
  validators: z
    .array(
      z.object({
        address: z.string().regex(/^[0-9A-Fa-f]{40}$/),
        pub_key: z.object({
          type: z.literal(PUB_KEY_TYPE),
          value: z
            .string()
            .transform((s) => Buffer.from(s, 'base64'))
            .refine((b) => b.length === 32, 'ed25519 public key must be 32 bytes'),
        }),
        power: safeInt.refine((p) => p > 0, 'power must be positive'),
        name: z.string().default(''),
      }),
    )
    .min(1, 'the simulated node needs genesis validators'),
})

export async function readGenesis(file: string): Promise<Genesis> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new HomeFileError(file, `cannot read genesis: ${(error as Error).message}`, { cause: error })
  }
  const g = parseHomeFile(file, genesisSchema, raw)
  for (const v of g.validators) {
    if (addressHex(v.pub_key.value) !== v.address.toUpperCase()) {
      throw new HomeFileError(file, `validators: address ${v.address} does not match its pub_key`)
    }
  }
  const cp = g.consensus_params
  return {
    genesisTime: g.genesis_time,
    chainId: g.chain_id,
    initialHeight: g.initial_height,
    validators: g.validators.map((v) => ({ pubKey: v.pub_key.value, power: v.power, name: v.name })),
    consensusParams: {
      block: { maxBytes: cp.block.max_bytes, maxGas: cp.block.max_gas },
      evidence: {
        maxAgeNumBlocks: cp.evidence.max_age_num_blocks,
        maxAgeDurationNs: cp.evidence.max_age_duration,
        maxBytes: cp.evidence.max_bytes,
      },
      validator: { pubKeyTypes: cp.validator.pub_key_types },
      version: { app: cp.version.app },
    },
  }
}

/**
 * How a sidecar's chain, pool and mode travel through Consul: as service tags `chain:<chain-id>`,
 * `pool:<pool-id>`, `mode:<normal|ghost>`. Tags rather than meta because Prometheus' Consul SD exposes them in
 * `__meta_consul_tags` and Consul can filter on them; meta keeps `version` and `node_id`.
 */
import { NODE_MODES, type NodeMode } from '@ghostfleet/core'

/** The chain, pool and mode a sidecar serves; what {@link sidecarTags} encodes. */
export interface SidecarTagValues {
  chainId: string
  poolId: number
  mode: NodeMode
}

/** What could be read back from a tag list; a field is missing when its tag is absent or malformed. */
export interface TargetTagValues {
  chainId?: string
  poolId?: number
  mode?: string
}

/** Cosmos SDK chain ids, as `@ghostfleet/core` accepts them in configs (at most 50 characters). */
const CHAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/
const POOL_ID = /^(?:0|[1-9][0-9]{0,15})$/

/** The tag prefixes this package gives a meaning to. Other tags pass through untouched. */
export const TAG_PREFIXES = { chainId: 'chain:', poolId: 'pool:', mode: 'mode:' } as const

/**
 * The tags a sidecar registers with.
 *
 * @example
 * sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'ghost' }) // → ['chain:kyve-1', 'pool:1', 'mode:ghost']
 */
export function sidecarTags(values: SidecarTagValues): string[] {
  return [
    `${TAG_PREFIXES.chainId}${values.chainId}`,
    `${TAG_PREFIXES.poolId}${values.poolId}`,
    `${TAG_PREFIXES.mode}${values.mode}`,
  ]
}

/** A chain id as configs accept it, or `undefined`. */
export function parseChainId(text: string): string | undefined {
  return CHAIN_ID.test(text) ? text : undefined
}

/** A pool id (a non-negative safe integer written without sign or leading zeros), or `undefined`. */
export function parsePoolId(text: string): number | undefined {
  if (!POOL_ID.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

/** `normal` or `ghost`, or `undefined`. */
export function parseMode(text: string): NodeMode | undefined {
  return (NODE_MODES as readonly string[]).includes(text) ? (text as NodeMode) : undefined
}

/**
 * Reads `chain:`, `pool:` and `mode:` tags. A malformed or repeated tag is reported in `problems` and its
 * value left out, rather than guessed: a target with an unknown pool is better than one in the wrong pool.
 */
export function parseTargetTags(tags: readonly string[]): { values: TargetTagValues; problems: string[] } {
  const values: TargetTagValues = {}
  const problems: string[] = []
  const seen = new Set<string>()
  for (const tag of tags) {
    const field = tagField(tag)
    if (field === undefined) continue
    const raw = tag.slice(TAG_PREFIXES[field].length)
    if (seen.has(field)) {
      problems.push(`tag ${JSON.stringify(tag)} repeats ${TAG_PREFIXES[field]}; the value is ignored`)
      delete values[field]
      continue
    }
    seen.add(field)
    const problem = tagValueProblem(field, raw)
    if (problem !== undefined) {
      problems.push(`tag ${JSON.stringify(tag)}: ${problem}`)
      continue
    }
    if (field === 'poolId') values.poolId = parsePoolId(raw)
    else values[field] = raw
  }
  return { values, problems }
}

/** Why a tag with one of our prefixes is malformed, or `undefined` when it is fine (or not ours). */
export function tagProblem(tag: string): string | undefined {
  const field = tagField(tag)
  if (field === undefined) return undefined
  return tagValueProblem(field, tag.slice(TAG_PREFIXES[field].length))
}

function tagField(tag: string): keyof typeof TAG_PREFIXES | undefined {
  for (const field of Object.keys(TAG_PREFIXES) as (keyof typeof TAG_PREFIXES)[]) {
    if (tag.startsWith(TAG_PREFIXES[field])) return field
  }
  return undefined
}

function tagValueProblem(field: keyof typeof TAG_PREFIXES, raw: string): string | undefined {
  switch (field) {
    case 'chainId':
      return parseChainId(raw) === undefined
        ? 'expected a chain id such as "kyve-1" (letters, digits, . _ -, at most 50 characters)'
        : undefined
    case 'poolId':
      return parsePoolId(raw) === undefined ? 'expected a pool id (an integer ≥ 0)' : undefined
    case 'mode':
      return parseMode(raw) === undefined ? `expected one of ${NODE_MODES.join(', ')}` : undefined
  }
}

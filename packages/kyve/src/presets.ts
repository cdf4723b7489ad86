import { redactUrl } from '@ghostfleet/core'
import { InvalidOptionsError, UnknownChainError } from './errors.js'

/**
 * Public KYVE REST (LCD) endpoints per chain id, as supervysor (HEAD), kyvejs and ksync ship them.
 * supervysor's older `api-eu-1`/`api-us-1` hosts were replaced upstream in
 * 2024-01 and are deliberately not listed: a dead default only adds a timeout to every failed round.
 */
export const CHAIN_PRESETS = Object.freeze({
  'kyve-1': Object.freeze(['https://api.kyve.network']),
  'kaon-1': Object.freeze(['https://api.kaon.kyve.network']),
  'korellia-2': Object.freeze(['https://api.korellia.kyve.network']),
} as const)

/** A chain id with built-in endpoints. */
export type KnownChainId = keyof typeof CHAIN_PRESETS

function isKnownChainId(chainId: string): chainId is KnownChainId {
  return Object.hasOwn(CHAIN_PRESETS, chainId)
}

/**
 * Checks and normalises one endpoint base URL: http(s) only, no query or fragment, trailing slashes removed.
 * A path prefix is kept (some operators serve the LCD under `/api`).
 */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new InvalidOptionsError(
      `invalid KYVE endpoint "${redactUrl(endpoint)}": not a URL (expected e.g. https://api.kyve.network)`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionsError(
      `invalid KYVE endpoint "${redactUrl(endpoint)}": only http and https are supported`,
    )
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidOptionsError(
      `invalid KYVE endpoint "${redactUrl(endpoint)}": a base URL cannot carry a query or fragment`,
    )
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidOptionsError(
      `invalid KYVE endpoint "${redactUrl(endpoint)}": credentials in the URL are not supported`,
    )
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/**
 * The endpoints to ask for `chainId`: `overrides` when given and non-empty (they replace the presets, as
 * supervysor's `--endpoints` does), otherwise the chain's presets. Endpoints are normalised and de-duplicated,
 * keeping the first occurrence's position.
 *
 * @throws UnknownChainError when the chain id has no presets and no overrides are given.
 * @throws InvalidOptionsError for an empty chain id or an unusable URL.
 */
export function resolveEndpoints(chainId: string, overrides?: readonly string[]): string[] {
  if (chainId.trim() === '') throw new InvalidOptionsError('chainId must not be empty (e.g. "kyve-1")')
  let chosen: readonly string[]
  if (overrides !== undefined && overrides.length > 0) chosen = overrides
  else if (isKnownChainId(chainId)) chosen = CHAIN_PRESETS[chainId]
  else throw new UnknownChainError(chainId, Object.keys(CHAIN_PRESETS))
  return [...new Set(chosen.map(normalizeEndpoint))]
}

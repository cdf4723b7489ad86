import { InvalidKeyPartError } from './errors/invalid-key-part-error.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'

/**
 * The Redis key layout. Every key a sidecar or the tracker touches is built here and nowhere else.
 *
 * Keys that are used together in one atomic operation share a Cluster hash tag (`{…}`): a sidecar's report,
 * desired state and notification channel are tagged `{sc:<id>}`, the leader lease and epoch counter `{tracker}`.
 * The fleet-wide `reports` stream and `sidecars` index are single keys, only ever touched by single-key
 * commands, so they need no tag. See the package README for types, TTLs and who writes what.
 */
export interface KeySpace {
  /** The namespace every key starts with (`gf` unless configured). */
  readonly namespace: string
  /** Hash: the sidecar's latest report. Expires after 3 report intervals: silence means "unknown". */
  report(sidecarId: string): string
  /** Hash: the desired state the tracker wrote for the sidecar. Expires unless the leader keeps it fresh. */
  desired(sidecarId: string): string
  /** Pub/sub channel: wakes the sidecar after its desired state changed. Carries no data that is trusted. */
  notify(sidecarId: string): string
  /** Stream: every report, read by the leading tracker through a consumer group. Trimmed with MAXLEN ~. */
  readonly reports: string
  /** Sorted set: sidecar id → time of its last report (epoch ms), so the tracker can rebuild without SCAN. */
  readonly sidecars: string
  /** Hash: what the tracker last fetched about a pool (height key, settings, endpoint, fetched-at). */
  poolProgress(chainId: string, poolId: string | number): string
  /** String: the leader lease (`SET NX PX`), holding the leader's token. */
  readonly leader: string
  /** String: the leader epoch counter, incremented on every successful election. Never expires. */
  readonly epoch: string
  /** String (JSON): one bootstrap request and its status. Expires a while after the request itself does. */
  bootstrap(bootstrapId: string): string
  /** Sorted set: bootstrap id → when its record expires (epoch ms), so a new leader finds every live request. */
  readonly bootstraps: string
}

/** The namespace used when none is configured. */
export const DEFAULT_NAMESPACE = 'gf'

const ID_PATTERN = /^[A-Za-z0-9._-]+$/
const MAX_ID_LENGTH = 128
const NAMESPACE_PATTERN = /^[A-Za-z0-9._-]{1,32}$/

/**
 * Checks that `value` can be embedded in a key: 1–128 characters of `A–Z a–z 0–9 . _ -`. Braces would move the
 * Cluster hash tag and colons would make two ids map to one key (`a:b` + `c` vs `a` + `b:c`).
 * @throws InvalidKeyPartError naming the kind of id and the problem.
 */
export function assertKeyPart(kind: string, value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidKeyPartError(kind, value, 'a numeric id must be a non-negative safe integer')
    }
    return String(value)
  }
  if (typeof value !== 'string')
    throw new InvalidKeyPartError(kind, value, `expected a string, got ${typeof value}`)
  if (value.length === 0) throw new InvalidKeyPartError(kind, value, 'must not be empty')
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidKeyPartError(kind, value, `longer than ${MAX_ID_LENGTH} characters`)
  }
  if (!ID_PATTERN.test(value)) {
    throw new InvalidKeyPartError(
      kind,
      value,
      'only letters, digits, ".", "_" and "-" are allowed (no braces, colons or whitespace)',
    )
  }
  return value
}

/** Builds the key layout under `namespace` (default `gf`). */
export function keyspace(namespace: string = DEFAULT_NAMESPACE): KeySpace {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidOptionsError('keyspace', [
      `namespace ${JSON.stringify(namespace)}: 1–32 characters of letters, digits, ".", "_" or "-"`,
    ])
  }
  const sidecar = (id: string, suffix: string) =>
    `${namespace}:{sc:${assertKeyPart('sidecar id', id)}}:${suffix}`
  return Object.freeze({
    namespace,
    report: (id: string) => sidecar(id, 'report'),
    desired: (id: string) => sidecar(id, 'desired'),
    notify: (id: string) => sidecar(id, 'notify'),
    reports: `${namespace}:reports`,
    sidecars: `${namespace}:sidecars`,
    poolProgress: (chainId: string, poolId: string | number) =>
      `${namespace}:{pool:${assertKeyPart('chain id', chainId)}:${assertKeyPart('pool id', poolId)}}:progress`,
    leader: `${namespace}:{tracker}:leader`,
    epoch: `${namespace}:{tracker}:epoch`,
    bootstrap: (id: string) => `${namespace}:bootstrap:${assertKeyPart('bootstrap id', id)}`,
    bootstraps: `${namespace}:bootstraps`,
  })
}

const defaultKeys = keyspace()
// The namespace travels with the client so that every function here takes just `redis`; a client made
// elsewhere (not by createRedis) uses the default namespace. ioredis' own `keyPrefix` is deliberately not used:
// it skips commands whose key position it does not know (XGROUP, XINFO) and pub/sub channels, which would split
// the layout silently.
const bound = new WeakMap<object, KeySpace>()

/** Makes every function of this package use `keys` for this client (done by `createRedis`). */
export function bindKeySpace(redis: object, keys: KeySpace): void {
  bound.set(redis, keys)
}

/** The key layout this client uses: the namespace given to `createRedis`, `gf` otherwise. */
export function keysOf(redis: object): KeySpace {
  return bound.get(redis) ?? defaultKeys
}

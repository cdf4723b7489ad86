/**
 * Field builders shared by the config and wire schemas. Each field carries one plain-words expectation
 * ("expected an integer ≥ 0") used for every way it can fail, so `parseWith` can print
 * `pool.poolId: expected an integer ≥ 0, got "abc"` whatever exactly was wrong.
 */
import { z } from 'zod'
import { parseListenAddress } from '../listen-address.js'

export function intAtLeast(min: number, expectation = `expected an integer ≥ ${min}`) {
  return z.int({ error: expectation }).min(min, { error: expectation })
}

export function positiveNumber(expectation = 'expected a number > 0') {
  return z.number({ error: expectation }).positive({ error: expectation })
}

export function epochMs() {
  return intAtLeast(0, 'expected a time in epoch milliseconds (an integer ≥ 0)')
}

export function bool() {
  return z.boolean({ error: 'expected true or false' })
}

export function nonEmptyText(expectation = 'expected a non-empty string') {
  return z.string({ error: expectation }).min(1, { error: expectation })
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: `expected one of ${values.map((value) => JSON.stringify(value)).join(', ')}`,
  })
}

function urlWithProtocols(protocols: readonly string[], value: string): boolean {
  if (value.trim() !== value) return false
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  return protocols.includes(url.protocol) && url.hostname !== ''
}

/**
 * An http(s) base URL such as `https://api.kyve.network`. A path prefix is fine (a proxy); a query or fragment
 * is not, because request paths are appended to it.
 */
export function httpUrl() {
  const expectation = 'expected an http:// or https:// URL without query or fragment'
  return z
    .string({ error: expectation })
    .refine((value) => urlWithProtocols(['http:', 'https:'], value) && !/[?#]/.test(value), {
      error: expectation,
    })
}

/** `redis://[user][:password@]host[:port][/db]`, or `rediss://` for TLS. */
export function redisUrl() {
  const expectation = 'expected a redis:// or rediss:// URL with a host'
  return z.string({ error: expectation }).refine((value) => urlWithProtocols(['redis:', 'rediss:'], value), {
    error: expectation,
  })
}

/**
 * A filesystem path. It is taken literally: `~` is not expanded (TOML strings are not shell words), so a
 * leading `~` is rejected rather than becoming a directory literally named `~`.
 */
export function filePath() {
  const expectation = 'expected a path (a non-empty string)'
  return z
    .string({ error: expectation })
    .min(1, { error: expectation })
    .refine((value) => !value.includes('\0'), { error: 'expected a path without NUL characters' })
    .refine((value) => !value.startsWith('~'), { error: 'expected a full path: "~" is not expanded here' })
}

export function listenAddress() {
  const expectation = 'expected host:port, e.g. "127.0.0.1:26670" or "[::1]:26670"'
  return z.string({ error: expectation }).refine((value) => parseListenAddress(value) !== null, {
    error: expectation,
  })
}

/** Sidecar ids appear in Redis keys and metric labels, hence the small alphabet. */
export const SIDECAR_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/

export function sidecarId() {
  const expectation = 'expected a sidecar id: 1–64 characters from A-Z a-z 0-9 . _ -'
  return z.string({ error: expectation }).regex(SIDECAR_ID_PATTERN, { error: expectation })
}

/** A checkpoint's id: `<height>-<UTC time to the millisecond>`, e.g. `1500-20261207T064512123Z`. */
export const CHECKPOINT_ID_PATTERN = /^[1-9][0-9]{0,15}-[0-9]{8}T[0-9]{9}Z$/

export function checkpointIdField() {
  const expectation = 'expected a checkpoint id such as "1500-20261207T064512123Z" (<height>-<UTC time>)'
  return z.string({ error: expectation }).regex(CHECKPOINT_ID_PATTERN, { error: expectation })
}

/** A bootstrap request's id (the tracker picks it): it appears in Redis keys and URLs. */
export const BOOTSTRAP_ID_PATTERN = /^[A-Za-z0-9-]{8,64}$/

export function bootstrapIdField() {
  const expectation = 'expected a bootstrap id: 8–64 characters from A-Z a-z 0-9 -'
  return z.string({ error: expectation }).regex(BOOTSTRAP_ID_PATTERN, { error: expectation })
}

/** Cosmos SDK chain ids are at most 50 characters; they appear in Redis keys too. */
export function chainId() {
  const expectation = 'expected a chain id such as "kyve-1" (letters, digits, . _ -, at most 50 characters)'
  return z.string({ error: expectation }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/, { error: expectation })
}

export function hexString() {
  const expectation = 'expected a hex string (an even number of 0-9 a-f characters)'
  return z.string({ error: expectation }).regex(/^(?:[0-9a-fA-F]{2}){1,512}$/, { error: expectation })
}

/** Keys an operator probably meant: same letters ignoring case, `_` and `-` (supervysor used snake/kebab
 *  case), or at most two edits away. */
function suggestion(unknownKey: string, knownKeys: readonly string[]): string | undefined {
  const normalize = (key: string) => key.toLowerCase().replace(/[-_]/g, '')
  const exact = knownKeys.find((known) => normalize(known) === normalize(unknownKey))
  if (exact !== undefined) return exact
  let best: { key: string; distance: number } | undefined
  for (const known of knownKeys) {
    const distance = editDistance(unknownKey.toLowerCase(), known.toLowerCase())
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: known, distance }
  }
  return best?.key
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

function unknownKeysMessage(keys: readonly string[], knownKeys: readonly string[]): string {
  const described = keys.map((key) => {
    const hint = suggestion(key, knownKeys)
    return hint === undefined
      ? JSON.stringify(key)
      : `${JSON.stringify(key)} (did you mean ${JSON.stringify(hint)}?)`
  })
  const allowed = `allowed: ${knownKeys.join(', ')}`
  return `unknown ${keys.length === 1 ? 'key' : 'keys'} ${described.join(', ')}; ${allowed}`
}

/**
 * A config table that rejects unknown keys, so a typo (`poolid`) is an error instead of a silently ignored
 * setting that leaves the default in force.
 */
export function table<Shape extends z.ZodRawShape>(shape: Shape) {
  const knownKeys = Object.keys(shape)
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return unknownKeysMessage(issue.keys, knownKeys)
      if (issue.code === 'invalid_type') return 'expected a table'
      return undefined
    },
  })
}

/**
 * A wire message. Unknown keys are dropped rather than rejected so a newer peer can add fields within one
 * wire version (mixed versions during a rolling upgrade); breaking changes bump `v` instead.
 */
export function message<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape, { error: 'expected an object' })
}

/**
 * For `superRefine(check, { when: fieldsValid('a', 'b') })`: run a cross-field check as soon as the fields it
 * reads are valid, even if others are not, so one pass over a broken file reports every problem.
 */
export function fieldsValid(...keys: string[]) {
  return (payload: {
    value: unknown
    issues: ReadonlyArray<{ path?: ReadonlyArray<PropertyKey> | undefined }>
  }): boolean => {
    const { value, issues } = payload
    // Not an object at all (a missing table): there is nothing to cross-check.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
    return !issues.some((issue) => keys.includes(String(issue.path?.[0])))
  }
}

/** Marks a cross-field issue whose message already quotes the values, so `parseWith` does not append them. */
export const CROSS_FIELD = { crossField: true } as const

export function addCrossFieldIssue(ctx: z.RefinementCtx, path: PropertyKey[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message, params: CROSS_FIELD })
}

/**
 * The cross-field rule "`larger` must be greater than `smaller`", as the two arguments of `superRefine`; checked
 * only when both fields are valid. `consequence` says what would go wrong otherwise ("or …").
 */
export function greaterThan<K extends string>(larger: K, smaller: K, consequence: string) {
  const refine = (value: Record<K, number>, ctx: z.RefinementCtx): void => {
    if (value[larger] <= value[smaller]) {
      addCrossFieldIssue(
        ctx,
        [larger],
        `${larger} (${value[larger]}) must be greater than ${smaller} (${value[smaller]}), ${consequence}`,
      )
    }
  }
  return [refine, { when: fieldsValid(larger, smaller) }] as const
}

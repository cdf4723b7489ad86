/**
 * `parseWith`: the one way outside input enters the program. It turns zod's issues into lines an operator
 * can act on: the path as written in the file, what was expected, and what was found.
 */
import type { z } from 'zod'
import { describeValue } from '../describe-value.js'
import { ValidationError } from './errors.js'
import { CROSS_FIELD } from './fields.js'

/**
 * Messages for issues whose schema did not word its own expectation (the field builders in `fields.ts` do).
 * Passed per parse, so zod's process-wide configuration stays untouched for everyone else.
 */
function fallbackMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${describeType(issue.expected)}`
    case 'invalid_value':
      return `expected ${issue.values.map((value) => describeValue(value)).join(' or ')}`
    case 'too_small':
      return `expected ${bound(issue.origin, 'min', issue.inclusive === true, issue.minimum)}`
    case 'too_big':
      return `expected ${bound(issue.origin, 'max', issue.inclusive === true, issue.maximum)}`
    case 'invalid_format':
      return `expected a valid ${issue.format}`
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)}`
    case 'unrecognized_keys':
      return `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`
    case 'invalid_key':
      return `invalid key: ${issue.issues[0]?.message ?? 'not accepted'}`
    case 'invalid_union':
      return 'does not match any of the accepted forms'
    default:
      return undefined
  }
}

function describeType(expected: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    object: 'a table',
    array: 'an array',
    bigint: 'an integer',
    null: 'null',
  }
  return names[expected] ?? expected
}

function bound(origin: string, side: 'min' | 'max', inclusive: boolean, limit: number | bigint): string {
  const count = side === 'min' ? 'at least' : 'at most'
  if (origin === 'string') return `${count} ${limit} characters`
  if (origin === 'array' || origin === 'set') return `${count} ${limit} items`
  const relation = side === 'min' ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<'
  return `a number ${relation} ${limit}`
}

/** `pool.poolId`, `pools[2].thresholds.keepRecent`, `chains["kyve-1"][0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = ''
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`
    else if (typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) {
      text += text === '' ? segment : `.${segment}`
    } else text += `[${JSON.stringify(String(segment))}]`
  }
  return text
}

/** Issues whose message already names everything: adding the received value would only repeat it. */
function isSelfDescribing(issue: z.core.$ZodIssue): boolean {
  if (issue.code === 'unrecognized_keys') return true
  return issue.code === 'custom' && issue.params?.['crossField'] === CROSS_FIELD.crossField
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? '' : `${formatPath(issue.path)}: `
  if (isSelfDescribing(issue)) return `${where}${issue.message}`
  if (issue.input === undefined) return `${where}${issue.message}, but it is missing`
  return `${where}${issue.message}, got ${describeValue(issue.input)}`
}

/**
 * Parse `input` with `schema`, or throw a {@link ValidationError} naming `source`, the path and the received
 * value of every problem, e.g. `config.toml: pool.poolId: expected an integer ≥ 0, got "abc"`.
 *
 * @example
 * const config = parseWith(sidecarConfigSchema, parseToml(text), '/etc/ghostfleet/sidecar.toml')
 */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, source: string): T {
  const result = schema.safeParse(input, { reportInput: true, error: fallbackMessage })
  if (result.success) return result.data
  throw new ValidationError(source, result.error.issues.map(formatIssue))
}

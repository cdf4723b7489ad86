/**
 * Field builders for this package's option schemas, each worded as the expectation an operator can act on, and
 * {@link parseOptions}, which turns a schema failure into an {@link InvalidPeerOptionsError} naming every problem.
 */
import { FleetKey } from '@ghostfleet/coordination'
import { parseWith, SIDECAR_ID_PATTERN, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import { InvalidPeerOptionsError } from './errors/invalid-peer-options-error.js'

/** A whole number in `[min, max]` of the given unit. */
export function wholeNumber(min: number, max: number, unit: string) {
  const expectation = `expected a whole number of ${unit} from ${min} to ${max}`
  return z.int({ error: expectation }).min(min, { error: expectation }).max(max, { error: expectation })
}

/** A number in `[min, max]` of the given unit. */
export function boundedNumber(min: number, max: number, unit: string) {
  const expectation = `expected a number of ${unit} from ${min} to ${max}`
  return z.number({ error: expectation }).min(min, { error: expectation }).max(max, { error: expectation })
}

/** A sidecar id as the rest of Ghostfleet writes it. */
export function sidecarId() {
  const expectation = 'expected a sidecar id: 1–64 characters from A-Z a-z 0-9 . _ -'
  return z.string({ error: expectation }).regex(SIDECAR_ID_PATTERN, { error: expectation })
}

/** A chain id: printable ASCII without spaces, as it travels in a header. */
export function chainId() {
  const expectation = 'expected a chain id: 1–128 printable ASCII characters without spaces'
  return z.string({ error: expectation }).regex(/^[\x21-\x7e]{1,128}$/, { error: expectation })
}

/**
 * Marks an issue whose message is complete as written: `parseWith` then does not append the value it got. Used
 * where the value must not be shown (a key given as text) or the message already quotes it.
 */
export const SELF_DESCRIBING = { crossField: true } as const

/** A {@link FleetKey} made by `FleetKey.parse`. Key text given here by mistake is never repeated in the error. */
export function fleetKey() {
  return z.unknown().transform((value, context): FleetKey => {
    if (value instanceof FleetKey) return value
    context.addIssue({
      code: 'custom',
      message: 'expected a FleetKey made by FleetKey.parse (from @ghostfleet/coordination), not the key text',
      params: SELF_DESCRIBING,
    })
    return z.NEVER
  })
}

/** A function (callbacks: handler, hooks). */
export function callback<T>(what: string) {
  return z.custom<T>((value) => typeof value === 'function', { error: `expected ${what} (a function)` })
}

/** An AbortSignal. */
export function abortSignal() {
  return z.custom<AbortSignal>((value) => value instanceof AbortSignal, { error: 'expected an AbortSignal' })
}

/**
 * Parse `input` with `schema`, or throw an {@link InvalidPeerOptionsError} whose problems read
 * `limits.windowMs: expected a whole number of milliseconds from 1000 to 300000, got 0`.
 */
export function parseOptions<T>(where: string, schema: z.ZodType<T>, input: unknown): T {
  try {
    return parseWith(schema, input, where)
  } catch (error) {
    if (error instanceof ValidationError) throw new InvalidPeerOptionsError(where, error.issues)
    throw error
  }
}

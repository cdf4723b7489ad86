/**
 * Field builders for the option schemas of this package, each with one plain-words expectation, and
 * {@link parseOptions}, which turns a schema failure into an {@link InvalidOptionsError} naming every problem.
 */
import { parseWith, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import { isIpv6ConsulUrl, parseConsulUrl } from './consul-url.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { parseGoDuration } from './go-duration.js'

/** `http(s)://host:port` of a Consul agent. */
export function consulUrl() {
  const expectation = 'consul url must be http(s)://host:port'
  return z.string({ error: expectation }).superRefine((value, context) => {
    if (parseConsulUrl(value) !== undefined) return
    context.addIssue({
      code: 'custom',
      message: isIpv6ConsulUrl(value)
        ? `${expectation} with a hostname or IPv4 address (the consul client cannot connect to IPv6 literals)`
        : expectation,
    })
  })
}

/**
 * An ACL token. Printable ASCII without spaces, because it travels in the `X-Consul-Token` header: a newline
 * or a stray space from a token file would otherwise be a confusing 403 later.
 */
export function aclToken() {
  const expectation = 'expected an ACL token (printable ASCII without spaces; trim the token file)'
  return z.string({ error: expectation }).regex(/^[\x21-\x7e]{1,512}$/, { error: expectation })
}

/** A Consul service name: a DNS label, as Consul recommends (RFC 1123). */
export function serviceName() {
  const expectation = 'expected a service name (a DNS label: letters, digits and -, at most 63 characters)'
  return z
    .string({ error: expectation })
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, { error: expectation })
}

/** A Consul datacenter name. */
export function datacenter() {
  const expectation = 'expected a datacenter name (letters, digits, _ and -)'
  return z.string({ error: expectation }).regex(/^[A-Za-z0-9_-]{1,64}$/, { error: expectation })
}

/** A positive Go duration string (`"10s"`, `"5m"`), as Consul's check fields take. */
export function goDuration() {
  const expectation = 'expected a duration such as "10s" or "5m" (Go syntax, > 0)'
  return z.string({ error: expectation }).refine((value) => (parseGoDuration(value) ?? 0) > 0, {
    error: expectation,
  })
}

/** A whole number of milliseconds in `[min, max]`. */
export function milliseconds(min: number, max: number) {
  const expectation = `expected a whole number of milliseconds from ${min} to ${max}`
  return z.int({ error: expectation }).min(min, { error: expectation }).max(max, { error: expectation })
}

export function bool() {
  return z.boolean({ error: 'expected true or false' })
}

/**
 * The message for an object schema that is not given an object. Only for that case: a plain `error` string on
 * `z.strictObject` would also replace the "unknown key" message, hiding which key was mistyped.
 */
export function objectExpected(expectation: string) {
  return (issue: { code?: string }) => (issue.code === 'invalid_type' ? expectation : undefined)
}

/**
 * Parse `input` with `schema`, or throw an {@link InvalidOptionsError} whose problems read
 * `url: consul url must be http(s)://host:port, got "consul:8500"`.
 */
export function parseOptions<T>(where: string, schema: z.ZodType<T>, input: unknown): T {
  try {
    return parseWith(schema, input, where)
  } catch (error) {
    if (error instanceof ValidationError) throw new InvalidOptionsError(where, error.issues)
    throw error
  }
}

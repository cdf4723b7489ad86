/**
 * How messages are stored in Redis hashes: one hash field per top-level message field, each value JSON.
 * `"ghost"` (quoted) is the string, `12` the number, `null` null: nothing is ambiguous, nested values (a last
 * prune, thresholds) survive, and numbers stay plain digits that the Lua scripts read with `tonumber`.
 */

/** Field/value pairs for HSET; `undefined` fields are left out. */
export function encodeHash(message: Readonly<Record<string, unknown>>): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const [name, value] of Object.entries(message)) {
    if (value === undefined) continue
    fields[name] = JSON.stringify(value)
  }
  return fields
}

/** The same pairs flattened for a Lua script's ARGV: field1, value1, field2, value2, … */
export function encodeHashArgs(message: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(encodeHash(message)).flat()
}

/** The outcome of {@link decodeHash}. */
export type DecodedHash = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string }

/** Turns an HGETALL reply back into an object (to be validated by the message schema). */
export function decodeHash(fields: Readonly<Record<string, string>>): DecodedHash {
  const value: Record<string, unknown> = {}
  for (const [name, text] of Object.entries(fields)) {
    try {
      value[name] = JSON.parse(text)
    } catch {
      return {
        ok: false,
        reason: `field ${JSON.stringify(name)} is not JSON: ${JSON.stringify(text.slice(0, 60))}`,
      }
    }
  }
  return { ok: true, value }
}

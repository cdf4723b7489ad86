/*
 * Byte-faithful renderings of the two JSON marshallers a KYVE REST endpoint uses:
 *
 * - Successful answers come from gogoproto's `jsonpb.Marshaler{EmitDefaults, OrigName}` via gogogateway.
 *   KYVE ≥ v1.5 (SDK 0.50) sets `Indent: ""` (compact); KYVE ≤ v1.4 (SDK 0.47) sets `Indent: "  "`.
 *   Strings go through Go's `encoding/json`, which escapes `<`, `>`, `&`, U+2028 and U+2029.
 *   With an indent, jsonpb writes an empty repeated field as "[", newline, indent, "]" — not "[]" — so
 *   `JSON.stringify(value, null, 2)` is *not* the same text; {@link encodeJsonpb} reproduces jsonpb's loop.
 * - Error bodies (`google.rpc.Status`) are protoreflect messages, which gogo's jsonpb hands to `protojson`:
 *   plain escaping and, when indented, ordinary "[]" for empty lists: {@link encodeStatusJson}.
 *
 * Values are plain JSON trees whose object key order is the proto declaration order (insertion order).
 */

/** A JSON value tree as the handlers build it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Which KYVE chain release the simulator imitates. */
export type ApiVersion = '1.4' | '1.5'

const GO_HTML_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

/** Go `encoding/json` string escaping (HTML-safe). Those characters can only occur inside JSON strings. */
function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (char) => GO_HTML_ESCAPES[char] ?? char)
}

function writeIndented(value: JsonValue, indent: string, step: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) {
    // jsonpb marshalValue: each element on its own line at indent+2·step, closing bracket at indent+step.
    let out = '['
    value.forEach((element, index) => {
      if (index > 0) out += ','
      out += `\n${indent}${step}${step}${writeIndented(element, indent + step, step)}`
    })
    return `${out}\n${indent}${step}]`
  }
  // A nested message is marshalled with indent+step; its fields sit one step deeper still.
  return writeObject(value, indent + step, step)
}

function writeObject(value: { [key: string]: JsonValue }, indent: string, step: string): string {
  const fields = Object.entries(value).map(
    ([key, field]) => `${indent}${step}${JSON.stringify(key)}: ${writeIndented(field, indent, step)}`,
  )
  return `{\n${fields.join(',\n')}\n${indent}}`
}

/** A successful answer as the gateway's jsonpb marshaller writes it for the given chain version. */
export function encodeJsonpb(value: { [key: string]: JsonValue }, version: ApiVersion): string {
  if (version === '1.5') return goEscape(JSON.stringify(value))
  return goEscape(writeObject(value, '', '  '))
}

/** A `google.rpc.Status` error body as protojson writes it for the given chain version. */
export function encodeStatusJson(value: { [key: string]: JsonValue }, version: ApiVersion): string {
  return version === '1.5' ? JSON.stringify(value) : JSON.stringify(value, null, 2)
}

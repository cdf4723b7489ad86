/*
 * A line-level view of a TOML document, for editing a few keys while keeping every other byte.
 *
 * It classifies each physical line: blank/comment, table header, the first line of a `key = value`
 * statement, or a continuation line inside a multi-line value (array, inline table, multi-line string), so
 * that a line like `  ["chain_id", "osmosis-1"]` inside a multi-line array is never mistaken for a header
 * and a `pruning = …` inside a multi-line string is never mistaken for a key. It only has to follow valid
 * TOML: callers parse the document with a real TOML parser first and refuse invalid files.
 */

/** One physical line: its text without the line ending, and the ending (`\n`, `\r\n` or `''` at EOF). */
export interface TomlLine {
  text: string
  eol: string
}

/** What a line is. */
export type TomlLineKind =
  | { kind: 'trivia' }
  | {
      kind: 'header'
      /** Table path, e.g. `['state-sync']`; undefined for an array-of-tables header (`[[x]]`). */
      table: string[] | undefined
    }
  | {
      kind: 'key'
      /** The key as written (dotted keys give several parts), relative to the current table. */
      key: string[]
      /** Table this statement belongs to (`[]` = root); undefined inside an array-of-tables element. */
      table: string[] | undefined
      /** Index in the line's text where the value starts. */
      valueStart: number
      /** Index just past the value's last character when it ends on this line, otherwise undefined. */
      valueEnd: number | undefined
      /** Index of the last line of the statement (differs from this line for multi-line values). */
      endLine: number
    }
  | { kind: 'continuation' }

/** Splits text into lines, keeping each line's own ending so that joining gives back the same bytes. */
export function splitTomlLines(text: string): TomlLine[] {
  const lines: TomlLine[] = []
  let start = 0
  while (start <= text.length) {
    const nl = text.indexOf('\n', start)
    if (nl === -1) {
      if (start < text.length) lines.push({ text: text.slice(start), eol: '' })
      break
    }
    const crlf = nl > start && text[nl - 1] === '\r'
    lines.push({ text: text.slice(start, crlf ? nl - 1 : nl), eol: crlf ? '\r\n' : '\n' })
    start = nl + 1
  }
  return lines
}

/** Joins lines produced by {@link splitTomlLines}. */
export function joinTomlLines(lines: readonly TomlLine[]): string {
  return lines.map((line) => line.text + line.eol).join('')
}

const BARE_KEY_CHAR = /[A-Za-z0-9_-]/

function skipSpaces(text: string, pos: number): number {
  let i = pos
  while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++
  return i
}

/** Decodes a basic-string key; TOML escapes are a superset of JSON's except \U and \e. */
function decodeBasicString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string
  } catch {
    return raw
  }
}

/** Parses a (possibly dotted, possibly quoted) key starting at `pos`. */
function parseKey(text: string, pos: number): { parts: string[]; end: number } | undefined {
  const parts: string[] = []
  let i = pos
  for (;;) {
    i = skipSpaces(text, i)
    const ch = text[i]
    if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      if (j >= text.length) return undefined
      parts.push(decodeBasicString(text.slice(i + 1, j)))
      i = j + 1
    } else if (ch === "'") {
      const j = text.indexOf("'", i + 1)
      if (j === -1) return undefined
      parts.push(text.slice(i + 1, j))
      i = j + 1
    } else {
      let j = i
      while (j < text.length && BARE_KEY_CHAR.test(text[j] as string)) j++
      if (j === i) return undefined
      parts.push(text.slice(i, j))
      i = j
    }
    i = skipSpaces(text, i)
    if (text[i] !== '.') return { parts, end: i }
    i++
  }
}

/** Scanner state carried across lines while a value is open. */
interface ValueState {
  /** Open arrays / inline tables. */
  stack: string[]
  /** Open multi-line string delimiter. */
  multiline: '"""' | "'''" | undefined
}

/**
 * Scans value text from `pos`. Returns the index just past the value when the top-level value ends on this
 * line, or undefined when it continues on the next line (state updated in place).
 */
function scanValue(text: string, pos: number, state: ValueState): number | undefined {
  let i = pos
  while (i < text.length) {
    if (state.multiline !== undefined) {
      const delim = state.multiline
      let close = -1
      let j = i
      while (j < text.length) {
        if (delim === '"""' && text[j] === '\\') {
          j += 2
          continue
        }
        if (text.startsWith(delim, j)) {
          close = j
          break
        }
        j++
      }
      if (close === -1) return undefined
      i = close + 3
      // Up to two quotes right before the closing delimiter belong to the content (`""""` ends with `"`).
      let extra = 0
      while (extra < 2 && text[i] === delim[0]) {
        i++
        extra++
      }
      state.multiline = undefined
      if (state.stack.length === 0) return i
      continue
    }
    i = skipSpaces(text, i)
    if (i >= text.length) break
    const ch = text[i] as string
    if (ch === '#') {
      // A comment inside an open array ends the line; at top level the value was already complete.
      if (state.stack.length > 0) return undefined
      return i
    }
    if (ch === '"' || ch === "'") {
      const triple = ch.repeat(3)
      if (text.startsWith(triple, i)) {
        state.multiline = triple as '"""' | "'''"
        i += 3
        continue
      }
      let j = i + 1
      while (j < text.length && text[j] !== ch) j += ch === '"' && text[j] === '\\' ? 2 : 1
      i = Math.min(j + 1, text.length)
      if (state.stack.length === 0) return i
      continue
    }
    if (ch === '[' || ch === '{') {
      state.stack.push(ch)
      i++
      continue
    }
    if (ch === ']' || ch === '}') {
      state.stack.pop()
      i++
      if (state.stack.length === 0) return i
      continue
    }
    if (state.stack.length > 0) {
      i++
      continue
    }
    // A top-level scalar (number, boolean, date-time; a date-time may contain a space) runs to a comment or
    // the end of the line.
    const hash = text.indexOf('#', i)
    let end = hash === -1 ? text.length : hash
    while (end > i && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--
    return end
  }
  return state.stack.length > 0 || state.multiline !== undefined ? undefined : i
}

/** Classifies every line of a valid TOML document. */
export function classifyTomlLines(lines: readonly TomlLine[]): TomlLineKind[] {
  const kinds: TomlLineKind[] = []
  let table: string[] | undefined = []
  let open: { state: ValueState; statement: Extract<TomlLineKind, { kind: 'key' }> } | undefined
  for (let index = 0; index < lines.length; index++) {
    const text = (lines[index] as TomlLine).text
    if (open !== undefined) {
      kinds.push({ kind: 'continuation' })
      if (scanValue(text, 0, open.state) !== undefined) {
        open.statement.endLine = index
        open = undefined
      }
      continue
    }
    const start = skipSpaces(text, 0)
    if (start >= text.length || text[start] === '#') {
      kinds.push({ kind: 'trivia' })
      continue
    }
    if (text[start] === '[') {
      const isArray = text[start + 1] === '['
      const key = parseKey(text, start + (isArray ? 2 : 1))
      table = isArray ? undefined : key?.parts
      kinds.push({ kind: 'header', table })
      continue
    }
    const key = parseKey(text, start)
    if (key === undefined || text[key.end] !== '=') {
      kinds.push({ kind: 'trivia' })
      continue
    }
    const valueStart = skipSpaces(text, key.end + 1)
    const state: ValueState = { stack: [], multiline: undefined }
    const valueEnd = scanValue(text, valueStart, state)
    const statement: Extract<TomlLineKind, { kind: 'key' }> = {
      kind: 'key',
      key: key.parts,
      table,
      valueStart,
      valueEnd,
      endLine: index,
    }
    kinds.push(statement)
    if (valueEnd === undefined) open = { state, statement }
  }
  return kinds
}

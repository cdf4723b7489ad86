/*
 * POSIX-shell word splitting without a shell: whitespace separates words; '…' keeps everything literal;
 * "…" keeps everything literal except \" \\ \$ \` and backslash-newline; a backslash outside quotes makes the
 * next character literal. Nothing is expanded ($VAR, ~, *, `…` stay as written), so operator flags can never
 * run anything. `''` and `""` produce an empty argument, as in sh.
 */

/** Characters a backslash escapes inside double quotes (POSIX "Double-Quotes"). */
const DOUBLE_QUOTE_ESCAPES = new Set(['"', '\\', '$', '`', '\n'])

/**
 * Splits a command-line string into arguments the way `sh` would (without expansions).
 *
 * @throws Error when a quote is not closed or the string ends with a lone backslash; the message names the
 * position.
 */
export function splitShellWords(input: string): string[] {
  const words: string[] = []
  let current = ''
  let inWord = false
  let i = 0
  while (i < input.length) {
    const ch = input[i] as string
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (inWord) {
        words.push(current)
        current = ''
        inWord = false
      }
      i++
      continue
    }
    if (ch === "'") {
      inWord = true
      const close = input.indexOf("'", i + 1)
      if (close === -1)
        throw new Error(`unbalanced single quote at position ${i + 1} in ${JSON.stringify(input)}`)
      current += input.slice(i + 1, close)
      i = close + 1
      continue
    }
    if (ch === '"') {
      inWord = true
      const open = i
      i++
      let closed = false
      while (i < input.length) {
        const c = input[i] as string
        if (c === '"') {
          closed = true
          i++
          break
        }
        if (c === '\\' && i + 1 < input.length && DOUBLE_QUOTE_ESCAPES.has(input[i + 1] as string)) {
          const next = input[i + 1] as string
          if (next !== '\n') current += next
          i += 2
          continue
        }
        current += c
        i++
      }
      if (!closed)
        throw new Error(`unbalanced double quote at position ${open + 1} in ${JSON.stringify(input)}`)
      continue
    }
    if (ch === '\\') {
      if (i + 1 >= input.length) {
        throw new Error(`trailing backslash at position ${i + 1} in ${JSON.stringify(input)}`)
      }
      const next = input[i + 1] as string
      // Backslash-newline is a line continuation: it joins, it does not produce a character.
      if (next !== '\n') {
        current += next
        inWord = true
      }
      i += 2
      continue
    }
    current += ch
    inWord = true
    i++
  }
  if (inWord) words.push(current)
  return words
}

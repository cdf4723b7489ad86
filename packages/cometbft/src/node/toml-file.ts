import { readFile } from 'node:fs/promises'
import { parse, TomlError, type TomlTable } from 'smol-toml'
import type { z } from 'zod'
import { errorCode } from './atomic-file.js'
import { NodeConfigError } from './errors.js'

/** Reads a TOML file; a missing file, unreadable file or TOML syntax error becomes a {@link NodeConfigError}. */
export async function readTomlFile(file: string): Promise<{ text: string; table: TomlTable }> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = errorCode(error)
    const reason = code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(error)})`
    throw new NodeConfigError(file, undefined, reason, { cause: error })
  }
  return { text, table: parseToml(file, text) }
}

/**
 * Parses TOML text. Integers beyond 2^53 are kept exact as bigint, so a valid file with a huge value (a
 * `halt-height` far in the future, say) is not rejected just because JavaScript numbers cannot hold it.
 */
export function parseToml(file: string, text: string): TomlTable {
  try {
    return parse(text, { integersAsBigInt: 'asNeeded' })
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split('\n')[0] ?? error.message
      throw new NodeConfigError(
        file,
        undefined,
        `not valid TOML at line ${error.line}, column ${error.column}: ${firstLine}`,
        { cause: error },
      )
    }
    throw error
  }
}

/** Describes a received value for an error message: its type and a short rendering. */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`
  if (typeof value === 'bigint') return `integer ${value}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  if (Array.isArray(value)) return 'an array'
  return 'a table'
}

/** Turns the first zod issue into a {@link NodeConfigError} that names the file, the dotted key and the reason. */
export function configErrorFromZod(
  file: string,
  error: z.ZodError,
  input: unknown,
  keyPrefix: readonly string[] = [],
): NodeConfigError {
  const issue = error.issues[0]
  if (issue === undefined) return new NodeConfigError(file, undefined, 'invalid content')
  const keyPath = [...keyPrefix, ...issue.path.map(String)]
  let received: unknown = input
  for (const part of issue.path) {
    if (typeof received === 'object' && received !== null) {
      received = (received as Record<PropertyKey, unknown>)[part as PropertyKey]
    } else {
      received = undefined
      break
    }
  }
  const key = keyPath.length === 0 ? undefined : keyPath.join('.')
  return new NodeConfigError(file, key, `${issue.message}, got ${describeValue(received)}`, { cause: error })
}

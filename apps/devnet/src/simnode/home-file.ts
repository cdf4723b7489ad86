import { readFile } from 'node:fs/promises'
import type { z } from 'zod'
import { describeFirstIssue, HomeFileError } from './errors.js'

/** The text of a file in the node home; an unreadable file is a {@link HomeFileError} naming it. */
export async function readHomeFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new HomeFileError(file, `cannot read: ${(error as Error).message}`, { cause: error })
  }
}

/** `value` (read from `file`) parsed with `schema`; a reject is a {@link HomeFileError} naming the first bad key. */
export function parseHomeFile<T>(file: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new HomeFileError(file, describeFirstIssue(parsed.error))
  return parsed.data
}

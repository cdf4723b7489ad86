import { expect } from 'vitest'
import type { z } from 'zod'
import { parseWith, ValidationError } from '../src/index.js'

/** Parse and return the ValidationError's issue lines; fails the test if the input was accepted. */
export function rejectLines(schema: z.ZodType, input: unknown, source = 'config.toml'): string[] {
  try {
    parseWith(schema, input, source)
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError)
    return (error as ValidationError).message.split('\n')
  }
  throw new Error('expected the input to be rejected, it was accepted')
}

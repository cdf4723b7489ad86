import { describeValue } from './describe-value.js'

/** `<name> must be an integer ≥ 0, got …` for the first of `values` that is not a height, or null. */
export function heightProblem(values: Readonly<Record<string, unknown>>): string | null {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      return `${name} must be an integer ≥ 0, got ${describeValue(value)}`
    }
  }
  return null
}

/** `<name> must be a number > 0, got …` for the first of `values` that is not a finite positive number, or null. */
export function positiveNumberProblem(values: Readonly<Record<string, unknown>>): string | null {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      return `${name} must be a number > 0, got ${describeValue(value)}`
    }
  }
  return null
}

/**
 * Threshold tables as they appear in config files and reports. The cross-field rules are the ones
 * `computeThresholds` enforces (`thresholdProblems`), so a file cannot hold a set the code would refuse.
 */
import type { z } from 'zod'
import { type Thresholds, thresholdProblems } from '../thresholds.js'
import { addCrossFieldIssue, fieldsValid, intAtLeast, table } from './fields.js'

const blocks = () => intAtLeast(1, 'expected a positive integer number of blocks')

/** Cross-field rules run once the three fields are valid numbers, even if other keys are broken. */
const numbersValid = fieldsValid('heightDifferenceMax', 'heightDifferenceMin', 'keepRecent')

function crossCheck(partial: boolean) {
  return (value: Partial<Thresholds>, ctx: z.RefinementCtx) => {
    for (const problem of thresholdProblems(value, { partial })) {
      addCrossFieldIssue(ctx, [problem.key], problem.message)
    }
  }
}

/** All three thresholds; heightDifferenceMin < heightDifferenceMax ≤ keepRecent. */
export const thresholdsSchema = table({
  heightDifferenceMax: blocks(),
  heightDifferenceMin: blocks(),
  keepRecent: blocks(),
}).superRefine(crossCheck(false), { when: numbersValid })

/** Operator overrides: any subset, checked against each other; the full set is checked after merging. */
export const thresholdOverridesSchema = table({
  heightDifferenceMax: blocks().optional(),
  heightDifferenceMin: blocks().optional(),
  keepRecent: blocks().optional(),
}).superRefine(crossCheck(true), { when: numbersValid })

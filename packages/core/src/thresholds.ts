/**
 * Ghost-mode and pruning thresholds derived from a KYVE pool's settings, bit-compatible with supervysor.
 *
 * supervysor (`settings/helpers/helpers.go`, `cmd/supervysor/commands/init.go`) computes, in float64:
 *   max        = int(math.Round(float64(max_bundle_size) / float64(upload_interval) * 60 * 60 * 24 * 2))
 *   keepRecent = int(math.Round(float64(max_bundle_size) / float64(upload_interval) * 60 * 60 * 24 * 3))
 *   min        = max / 2   (Go integer division)
 * and `init` refuses a zero keepRecent or max, and max > keepRecent.
 *
 * The float operations are evaluated left to right, one rounding per step, exactly as Go does; multiplying by
 * the folded constant 172800 instead gives different answers near .5 (max_bundle_size 49 / upload_interval 768:
 * keepRecent 16537 in Go, 16538 in exact arithmetic). Go's `math.Round` rounds half away from zero.
 */
import { describeValue } from './describe-value.js'

export interface Thresholds {
  /** diff = node − pool at or above which the node enters ghost mode. */
  heightDifferenceMax: number
  /** diff at or below which the node returns to normal mode. */
  heightDifferenceMin: number
  /** Recent heights the node keeps (app.toml `pruning-keep-recent`). */
  keepRecent: number
}

export interface PoolSettings {
  /** `pool.data.max_bundle_size`: the most blocks one bundle may hold. */
  maxBundleSize: number
  /** `pool.data.upload_interval`, in seconds. */
  uploadInterval: number
}

/** Pool settings or threshold overrides that cannot give usable thresholds. The message says which value. */
export class ThresholdsError extends Error {
  override readonly name = 'ThresholdsError'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(problems.join('; '))
    this.problems = problems
  }
}

const THRESHOLD_KEYS = ['heightDifferenceMax', 'heightDifferenceMin', 'keepRecent'] as const
const COMPUTED = 'computed from the pool settings'

/**
 * Blocks the pool is expected to produce in `days` days, rounded as supervysor does. Go's `math.Round` rounds
 * halves away from zero and `Math.round` rounds them up; the two agree here because settings are positive.
 * Keep the multiplications separate and in this order: folding them into 86400 or 172800 changes results.
 */
function blocksPerDays(settings: PoolSettings, days: number): number {
  return Math.round((settings.maxBundleSize / settings.uploadInterval) * 60 * 60 * 24 * days)
}

function checkSetting(name: string, unit: string, value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return null
  return `${name} must be a positive integer${unit}, got ${describeValue(value)}`
}

export interface ThresholdProblem {
  key: keyof Thresholds
  message: string
}

/**
 * The rules every threshold set obeys, whether computed, overridden or read from a file. Keys missing from a
 * partial set (`partial: true`, for override tables) are skipped; otherwise all three are required. `origin` names where each value came from, so the message tells
 * the operator which one to fix.
 *
 * Beyond 0 < min < max and keepRecent > 0, keepRecent ≥ max is required, as supervysor's `init` does
 * ("max-difference can not be > keep-recent"): a ghost node sits up to `max` blocks ahead of the pool and
 * must still hold every height the pool has not validated yet, which a shorter keep-recent window would drop.
 */
export function thresholdProblems(
  thresholds: Partial<Thresholds>,
  options: { origin?: Partial<Record<keyof Thresholds, string>>; partial?: boolean } = {},
): ThresholdProblem[] {
  const origin = options.origin ?? {}
  const from = (key: keyof Thresholds): string => (origin[key] === undefined ? '' : `, ${origin[key]}`)
  const label = (key: keyof Thresholds): string => `${key} (${thresholds[key]}${from(key)})`
  const problems: ThresholdProblem[] = []
  for (const key of THRESHOLD_KEYS) {
    const value: unknown = thresholds[key]
    if (value === undefined && options.partial === true) continue
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      const suffix = origin[key] === undefined ? '' : ` (${origin[key]})`
      problems.push({
        key,
        message: `${key} must be a positive integer number of blocks, got ${describeValue(value)}${suffix}`,
      })
    }
  }
  if (problems.length > 0) return problems
  const { heightDifferenceMax: max, heightDifferenceMin: min, keepRecent } = thresholds
  if (min !== undefined && max !== undefined && min >= max) {
    problems.push({
      key: 'heightDifferenceMin',
      message:
        `${label('heightDifferenceMin')} must be less than ${label('heightDifferenceMax')}, ` +
        'or the node would switch modes back and forth',
    })
  }
  if (keepRecent !== undefined && max !== undefined && keepRecent < max) {
    problems.push({
      key: 'keepRecent',
      message:
        `${label('keepRecent')} must be at least ${label('heightDifferenceMax')}, ` +
        'or the node could drop heights the pool has not validated yet',
    })
  }
  return problems
}

/**
 * Thresholds for a pool: computed from its settings as supervysor does, then operator overrides applied.
 * Throws {@link ThresholdsError} for settings that are not positive safe integers, for overrides that are not
 * positive safe integers, and when the final set breaks {@link thresholdProblems}.
 *
 * @example
 * computeThresholds({ maxBundleSize: 20, uploadInterval: 300 })
 * // → { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 }
 */
export function computeThresholds(settings: PoolSettings, overrides: Partial<Thresholds> = {}): Thresholds {
  const settingProblems = [
    checkSetting('max_bundle_size', ' number of blocks', settings?.maxBundleSize),
    checkSetting('upload_interval', ' number of seconds', settings?.uploadInterval),
  ].filter((problem): problem is string => problem !== null)
  if (settingProblems.length > 0) throw new ThresholdsError(settingProblems)

  const heightDifferenceMax = blocksPerDays(settings, 2)
  const computed: Thresholds = {
    heightDifferenceMax,
    heightDifferenceMin: Math.trunc(heightDifferenceMax / 2),
    keepRecent: blocksPerDays(settings, 3),
  }

  const result: Thresholds = { ...computed }
  const origin: Partial<Record<keyof Thresholds, string>> = {}
  for (const key of THRESHOLD_KEYS) {
    const override: unknown = overrides?.[key]
    if (override === undefined) {
      origin[key] = COMPUTED
      continue
    }
    // The override is validated by thresholdProblems below, which names it as an override.
    result[key] = override as number
    origin[key] = 'override'
  }

  const problems = thresholdProblems(result, { origin })
  if (problems.length > 0) {
    const poolSettings = `max_bundle_size ${settings.maxBundleSize}, upload_interval ${settings.uploadInterval}`
    throw new ThresholdsError(
      problems.map(({ message }) =>
        message.includes(COMPUTED) ? `${message} [pool settings: ${poolSettings}]` : message,
      ),
    )
  }
  return result
}

/*
 * What the checkers found: every check performed (counted per checker) and every violation with the seed and the
 * moment (milliseconds after the fleet was up, and wall time) so that it can be replayed with `--seed`.
 */

export const CHECKERS = [
  'validated-blocks',
  'budget',
  'address-book',
  'fencing',
  'liveness',
  'convergence',
] as const
export type CheckerName = (typeof CHECKERS)[number]

export interface Violation {
  checker: CheckerName
  seed: number
  /** Milliseconds after the fleet was up. */
  atMs: number
  at: string
  detail: string
}

export class Ledger {
  readonly violations: Violation[] = []
  readonly checks: Record<CheckerName, number> = Object.fromEntries(
    CHECKERS.map((name) => [name, 0]),
  ) as Record<CheckerName, number>

  constructor(
    readonly seed: number,
    private readonly startedAt: () => number,
    private readonly onViolation: (violation: Violation) => void = () => {},
  ) {}

  /** Counts one check; records a violation when `problem` is a string. */
  check(checker: CheckerName, problem: string | null): void {
    this.checks[checker]++
    if (problem !== null) this.violate(checker, problem)
  }

  violate(checker: CheckerName, detail: string): void {
    const now = Date.now()
    const violation: Violation = {
      checker,
      seed: this.seed,
      atMs: now - this.startedAt(),
      at: new Date(now).toISOString(),
      detail,
    }
    this.violations.push(violation)
    this.onViolation(violation)
  }

  totalChecks(): number {
    return Object.values(this.checks).reduce((sum, n) => sum + n, 0)
  }
}

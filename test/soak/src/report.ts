import type { FaultRecord } from './fault-injector.js'
import { CHECKERS, type CheckerName, type Violation } from './ledger.js'
import { type RssSeries, summarizeRss } from './rss.js'
import { FAULT_KINDS, type FaultKind } from './schedule.js'

/** The soak's result, written as JSON for machines; {@link formatTable} is the short version for people. */
export interface SoakReport {
  seed: number
  durationSeconds: number
  dir: string
  startedAt: string
  endedAt: string
  faults: { injected: number; skipped: number; byKind: Record<FaultKind, number>; log: FaultRecord[] }
  checks: { total: number; byChecker: Record<CheckerName, number> }
  violations: Violation[]
  availability: {
    cacheWindow: number
    byPool: Record<string, number>
    samplesByPool: Record<string, number>
    min: number
  }
  convergence: { boundMs: number; tookMs: number | null }
  rss: RssSeries[]
  notes: string[]
}

const pct = (value: number) => value.toFixed(2)

export function summaryLine(report: SoakReport): string {
  return `soak: ${report.faults.injected} faults, ${report.checks.total} checks, ${report.violations.length} violations, availability ${pct(report.availability.min)}%`
}

export function formatTable(report: SoakReport): string {
  const lines: string[] = []
  lines.push(`seed ${report.seed}, ${report.durationSeconds} s, work dir ${report.dir}`)
  lines.push('faults injected by kind:')
  for (const kind of FAULT_KINDS) {
    if (report.faults.byKind[kind] > 0) lines.push(`  ${kind.padEnd(18)} ${report.faults.byKind[kind]}`)
  }
  if (report.faults.skipped > 0) lines.push(`  (skipped: ${report.faults.skipped})`)
  lines.push('checks / violations by checker:')
  for (const checker of CHECKERS) {
    const violations = report.violations.filter((v) => v.checker === checker).length
    lines.push(
      `  ${checker.padEnd(18)} ${String(report.checks.byChecker[checker]).padStart(7)} / ${violations}`,
    )
  }
  lines.push(`availability (window ${report.availability.cacheWindow}):`)
  for (const [pool, value] of Object.entries(report.availability.byPool)) {
    lines.push(`  pool ${pool}: ${pct(value)}% of ${report.availability.samplesByPool[pool]} samples`)
  }
  lines.push(
    `convergence after the last fault: ${report.convergence.tookMs === null ? `NOT within ${report.convergence.boundMs} ms` : `${report.convergence.tookMs} ms (bound ${report.convergence.boundMs} ms)`}`,
  )
  lines.push('RSS (kB) first / max / last:')
  for (const series of report.rss) {
    const summary = summarizeRss(series)
    if (summary)
      lines.push(`  ${series.id.padEnd(12)} ${summary.firstKb} / ${summary.maxKb} / ${summary.lastKb}`)
  }
  for (const violation of report.violations) {
    lines.push(
      `VIOLATION ${violation.checker} seed ${violation.seed} at +${violation.atMs} ms (${violation.at}): ${violation.detail}`,
    )
  }
  for (const note of report.notes) lines.push(`note: ${note}`)
  return lines.join('\n')
}

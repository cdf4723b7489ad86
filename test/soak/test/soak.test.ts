import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runSoak } from '../src/index.js'

// A short seeded soak against the real fleet: seed 7 kills a sidecar, has KYVE answer garbage, and fails the Redis primary
// over through Sentinel with unreplicated writes lost (when redis-sentinel is installed). It must find nothing;
// checkers.test.ts shows each checker flags the violation it exists for.
function installed(binary: string): boolean {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('chaos soak', () => {
  it('runs a short seeded soak with 0 violations', async () => {
    const lines: string[] = []
    const report = await runSoak({
      seed: 7,
      durationSeconds: 45,
      reportFile: path.join(os.tmpdir(), `ghostfleet-soak-test-${process.pid}.json`),
      keep: false,
      say: (line) => lines.push(line),
    })
    const output = lines.join('\n')
    expect(report.violations, output).toEqual([])
    expect(report.faults.injected, output).toBeGreaterThanOrEqual(2)
    expect(report.checks.byChecker['validated-blocks']).toBeGreaterThan(0)
    expect(report.checks.byChecker.fencing).toBeGreaterThan(0)
    expect(report.convergence.tookMs, output).not.toBeNull()
    if (installed('redis-sentinel')) {
      expect(report.faults.byKind['redis-failover'], output).toBe(1)
      expect(report.notes.join('\n'), output).toMatch(/fencing judged 1 Sentinel failover/)
    }
    expect(lines.at(-1)).toMatch(/^soak: \d+ faults, \d+ checks, 0 violations, availability \d+\.\d+%$/)
  })
})

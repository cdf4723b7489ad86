import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DURATION_BOUNDS,
  type DurationBound,
  MAX_TIMER_MS,
  MIN_TIMER_MS,
  parseWith,
  refreshSecondsSchema,
  type SidecarConfig,
  sidecarConfigSchema,
  type TrackerConfig,
  trackerConfigSchema,
  ValidationError,
} from '../src/index.js'
import { rejectLines } from './helpers.js'

const minimalSidecar = {
  node: { binary: '/usr/bin/osmosisd', home: '/home/kyve/.osmosisd', launcher: 'binary' },
  pool: { chainId: 'kyve-1', poolId: 1 },
  thresholds: { heightDifferenceMax: 11520, heightDifferenceMin: 5760, keepRecent: 17280 },
}
const minimalTracker = { redisUrl: 'redis://127.0.0.1:6379' }

/**
 * The timers (ms) the sidecar derives from its config, the way it does (apps/sidecar/src/config/sidecar-settings.ts,
 * fleet/fleet-settings.ts): each one reaches setTimeout/setInterval, or a Redis expiry.
 */
function sidecarTimers(config: SidecarConfig): Record<string, number> {
  const reportIntervalMs = Math.max(1, Math.round(config.fleet.reportIntervalSeconds * 1000))
  const backoff = {
    initialMs: config.supervision.restartBackoffInitialSeconds * 1000,
    maxMs: config.supervision.restartBackoffMaxSeconds * 1000,
  }
  return {
    controlLoopIntervalMs: config.supervision.intervalSeconds * 1000,
    maxPoolAgeMs: config.pool.maxPoolAgeSeconds * 1000,
    stopGraceMs: config.node.stopGraceSeconds * 1000,
    homeIdleTimeoutMs: Math.max(30_000, config.node.stopGraceSeconds * 1000),
    restartBackoffInitialMs: backoff.initialMs,
    restartBackoffMaxMs: backoff.maxMs,
    // The backoff doubles from initial and is capped at max: the largest delay it can produce.
    restartBackoffLargestMs: Math.min(backoff.initialMs * 2 ** 30, backoff.maxMs),
    restartBackoffResetMs: config.supervision.restartBackoffResetSeconds * 1000,
    pruningIntervalMs: config.pruning.intervalHours * 3_600_000,
    // The sidecar's KYVE client from the tick (apps/sidecar/src/kyve/kyve-source.ts).
    ...kyveClientTimers(
      Math.round(Math.min(60_000, Math.max(2_000, config.supervision.intervalSeconds * 1000 * 2.5))),
    ),
    reportIntervalMs,
    trackerTimeoutMs: Math.max(1, Math.round(config.fleet.trackerTimeoutSeconds * 1000)),
    gatewayUpstreamTimeoutMs: Math.max(1, Math.round(config.gateway.upstreamTimeoutSeconds * 1000)),
  }
}

/** The KYVE client's timers for a deadline, as apps/sidecar/src/kyve/kyve-source.ts sets them. */
function kyveClientTimers(deadlineMs: number): Record<string, number> {
  return {
    kyveDeadlineMs: deadlineMs,
    kyveRequestTimeoutMs: Math.min(5_000, deadlineMs),
    kyveBackoffInitialMs: Math.min(500, deadlineMs / 4),
    kyveBackoffMaxMs: Math.min(5_000, deadlineMs / 2),
  }
}

/** Redis expiries (PEXPIRE: integer ms) the sidecar derives: the report hash lives 3 report intervals. */
function sidecarExpiries(config: SidecarConfig): Record<string, number> {
  return { reportTtlMs: Math.max(1, Math.round(config.fleet.reportIntervalSeconds * 1000)) * 3 }
}

/** The tracker's timers, as apps/tracker/src (tracker.ts, poll-manager.ts, pool-settings.ts) derive them. */
function trackerTimers(config: TrackerConfig): Record<string, number> {
  const pollMs = config.pollIntervalSeconds * 1000
  const timers: Record<string, number> = {
    pollIntervalMs: pollMs,
    kyveDeadlineMs: Math.max(1000, Math.min(30_000, pollMs)),
    kyveRequestTimeoutMs: Math.max(500, Math.min(5_000, pollMs)),
    standbyPollMs: Math.max(100, Math.round(pollMs)),
    leaseMs: config.leaseTtlMs,
    // LeaderElection's defaults from the lease: renew every third, safety margin max(lease / 5, 200 ms).
    renewIntervalMs: config.leaseTtlMs / 3,
    safetyMarginMs: Math.max(config.leaseTtlMs / 5, 200),
    waitForReadyMs: config.leaseTtlMs,
    maxPoolAgeMs: config.maxPoolAgeSeconds * 1000,
    defaultPruningIntervalMs: config.defaults.pruningIntervalHours * 3_600_000,
  }
  config.pools.forEach((pool, index) => {
    if (pool.pruningIntervalHours !== undefined) {
      timers[`pools[${index}].pruningIntervalMs`] = pool.pruningIntervalHours * 3_600_000
    }
  })
  return timers
}

/** The tracker's Redis expiries: the pool progress record expires after maxPoolAge (writePoolProgress). */
function trackerExpiries(config: TrackerConfig): Record<string, number> {
  return { poolProgressTtlMs: config.maxPoolAgeSeconds * 1000 }
}

function expectNodeTimers(timers: Record<string, number>): void {
  for (const [name, ms] of Object.entries(timers)) {
    expect(Number.isFinite(ms), `${name} = ${ms}`).toBe(true)
    expect(ms, name).toBeGreaterThanOrEqual(MIN_TIMER_MS)
    expect(ms, name).toBeLessThanOrEqual(MAX_TIMER_MS)
  }
}

function expectRedisExpiries(expiries: Record<string, number>): void {
  for (const [name, ms] of Object.entries(expiries)) {
    expect(Number.isSafeInteger(ms), `${name} = ${ms} must be whole milliseconds`).toBe(true)
    expect(ms, name).toBeGreaterThanOrEqual(1)
  }
}

/** Any number: inside the bound, on it, just outside it, wildly outside it, or a fraction. */
function durationValue(bound: DurationBound): fc.Arbitrary<number> {
  // Mostly valid values (so that whole configs get accepted and their timers checked), some on the edges.
  return fc.oneof(
    { arbitrary: fc.double({ min: bound.min, max: bound.max, noNaN: true }), weight: 8 },
    { arbitrary: fc.integer({ min: Math.ceil(bound.min), max: Math.floor(bound.max) }), weight: 8 },
    { arbitrary: fc.constantFrom(bound.min, bound.max), weight: 4 },
    {
      arbitrary: fc.constantFrom(bound.max + 1, bound.min / 2, 0, -1, 0.001, 3_000_000, 2 ** 31, 1e300),
      weight: 1,
    },
    { arbitrary: fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }), weight: 1 },
  )
}

/** `{ 'a.b': 1 }` → `{ a: { b: 1 } }`, merged into `base`. */
function withPaths(base: Record<string, unknown>, values: Record<string, number>): Record<string, unknown> {
  const result = structuredClone(base) as Record<string, Record<string, unknown>>
  for (const [key, value] of Object.entries(values)) {
    const [table, field] = key.split('.') as [string, string | undefined]
    if (field === undefined) (result as Record<string, unknown>)[table] = value
    else result[table] = { ...(result[table] ?? {}), [field]: value }
  }
  return result
}

const sidecarKeys = Object.keys(DURATION_BOUNDS.sidecar) as Array<keyof typeof DURATION_BOUNDS.sidecar>
const sidecarValues = fc.record(
  Object.fromEntries(sidecarKeys.map((key) => [key, durationValue(DURATION_BOUNDS.sidecar[key])])),
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, number>>

const trackerValues = fc.record(
  {
    pollIntervalSeconds: durationValue(DURATION_BOUNDS.tracker.pollIntervalSeconds),
    leaseTtlMs: durationValue(DURATION_BOUNDS.tracker.leaseTtlMs),
    maxPoolAgeSeconds: durationValue(DURATION_BOUNDS.tracker.maxPoolAgeSeconds),
    'defaults.pruningIntervalHours': durationValue(DURATION_BOUNDS.tracker['defaults.pruningIntervalHours']),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<Record<string, number>>
const poolPruningHours = fc.option(durationValue(DURATION_BOUNDS.tracker['pools[].pruningIntervalHours']), {
  nil: undefined,
})

describe('duration bounds', () => {
  it('refuses the stop grace that overflowed Node’s timer, naming the key and the range', () => {
    expect(
      rejectLines(sidecarConfigSchema, withPaths(minimalSidecar, { 'node.stopGraceSeconds': 3_000_000 })),
    ).toEqual(['config.toml: node.stopGraceSeconds: must be between 1 and 3600 seconds, got 3000000'])
  })

  it('refuses the supervision interval that made the loop spin', () => {
    expect(
      rejectLines(sidecarConfigSchema, withPaths(minimalSidecar, { 'supervision.intervalSeconds': 0.001 })),
    ).toEqual(['config.toml: supervision.intervalSeconds: must be between 0.1 and 3600 seconds, got 0.001'])
  })

  it('bounds every tracker duration and names it', () => {
    expect(
      rejectLines(trackerConfigSchema, { ...minimalTracker, leaseTtlMs: 2 ** 31 }, 'tracker.toml'),
    ).toEqual([
      'tracker.toml: leaseTtlMs: must be a whole number between 100 and 300000 milliseconds, got 2147483648',
    ])
    expect(
      rejectLines(
        trackerConfigSchema,
        { ...minimalTracker, pools: [{ chainId: 'kyve-1', poolId: 1, pruningIntervalHours: 1e6 }] },
        'tracker.toml',
      ),
    ).toEqual([
      'tracker.toml: pools[0].pruningIntervalHours: must be between 0.000278 and 336 hours (1 s to 14 days), got 1000000',
    ])
    expect(
      rejectLines(trackerConfigSchema, { ...minimalTracker, maxPoolAgeSeconds: 600.5 }, 'tracker.toml'),
    ).toEqual([
      'tracker.toml: maxPoolAgeSeconds: must be a whole number between 1 and 604800 seconds, got 600.5',
    ])
  })

  it('takes --refresh-seconds as 0 (off) or a bounded number of seconds', () => {
    expect(parseWith(refreshSecondsSchema(), '0', '--refresh-seconds')).toBe(0)
    expect(parseWith(refreshSecondsSchema(), ' 2.5 ', '--refresh-seconds')).toBe(2.5)
    for (const bad of ['0.001', '3000000', '-1', 'abc', '', 'Infinity', '1e9']) {
      expect(() => parseWith(refreshSecondsSchema(), bad, '--refresh-seconds')).toThrow(
        /^--refresh-seconds: must be 0 \(off\) or between 1 and 3600 seconds, got /,
      )
    }
  })

  it('no accepted sidecar config produces a timer outside Node’s range (property)', () => {
    let accepted = 0
    fc.assert(
      fc.property(sidecarValues, (values) => {
        let config: SidecarConfig
        try {
          config = parseWith(sidecarConfigSchema, withPaths(minimalSidecar, values), 'config.toml')
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError)
          return
        }
        accepted += 1
        expectNodeTimers(sidecarTimers(config))
        expectRedisExpiries(sidecarExpiries(config))
      }),
      { numRuns: 3000 },
    )
    // Not vacuous: a good share of the generated configs was accepted and checked.
    expect(accepted).toBeGreaterThan(100)
  })

  it('no accepted tracker config produces a timer outside Node’s range (property)', () => {
    let accepted = 0
    fc.assert(
      fc.property(trackerValues, poolPruningHours, (values, poolHours) => {
        const input = withPaths(minimalTracker, values)
        if (poolHours !== undefined)
          input['pools'] = [{ chainId: 'kyve-1', poolId: 1, pruningIntervalHours: poolHours }]
        let config: TrackerConfig
        try {
          config = parseWith(trackerConfigSchema, input, 'tracker.toml')
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError)
          return
        }
        accepted += 1
        expectNodeTimers(trackerTimers(config))
        expectRedisExpiries(trackerExpiries(config))
      }),
      { numRuns: 3000 },
    )
    expect(accepted).toBeGreaterThan(100)
  })

  it('every value outside its bounds is refused with a line naming the key and the range (property)', () => {
    const all = [
      ...Object.entries(DURATION_BOUNDS.sidecar).map(([key, bound]) => ({
        schema: 'sidecar' as const,
        key,
        bound,
      })),
      ...(
        ['pollIntervalSeconds', 'leaseTtlMs', 'maxPoolAgeSeconds', 'defaults.pruningIntervalHours'] as const
      ).map((key) => ({
        schema: 'tracker' as const,
        key,
        bound: DURATION_BOUNDS.tracker[key] as DurationBound,
      })),
    ]
    fc.assert(
      fc.property(
        fc.constantFrom(...all),
        fc.oneof(
          fc.double({ min: -1e12, max: 1e12, noNaN: true, noDefaultInfinity: true }),
          fc.constant(1e300),
        ),
        ({ schema, key, bound }, value) => {
          fc.pre(value < bound.min || value > bound.max)
          const lines =
            schema === 'sidecar'
              ? rejectLines(sidecarConfigSchema, withPaths(minimalSidecar, { [key]: value }))
              : rejectLines(trackerConfigSchema, withPaths(minimalTracker, { [key]: value }))
          expect(
            lines.some(
              (line) => line.startsWith(`config.toml: ${key}: must be `) && line.includes(' between '),
            ),
          ).toBe(true)
        },
      ),
      { numRuns: 1000 },
    )
  })
})

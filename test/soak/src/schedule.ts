import { Prng } from './prng.js'

/*
 * The fault schedule: when, what, and against whom, derived from the seed and the duration alone. Targets are
 * indexes (sidecar 0–5, pool 0–1); "the leading tracker" and "a sidecar in the middle of a switch or prune" are
 * resolved when the fault fires, since who leads or who is busy depends on timing the seed does not control.
 */

export const FAULT_KINDS = [
  'sidecar-kill',
  'node-kill',
  'node-crash-loop',
  'tracker-kill',
  'tracker-pause',
  'redis-restart',
  'redis-failover',
  'redis-cut',
  'kyve-error500',
  'kyve-garbage',
  'kyve-schema',
  'kyve-regress',
  'kyve-freeze',
  'kyve-slow',
  'clock-jump',
  'disk-full',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const WEIGHTS: Record<FaultKind, number> = {
  'sidecar-kill': 3,
  'node-kill': 3,
  'node-crash-loop': 1,
  'tracker-kill': 2,
  'tracker-pause': 2,
  'redis-restart': 1,
  'redis-failover': 1,
  'redis-cut': 2,
  'kyve-error500': 1,
  'kyve-garbage': 1,
  'kyve-schema': 1,
  'kyve-regress': 1,
  'kyve-freeze': 1,
  'kyve-slow': 1,
  'clock-jump': 1,
  'disk-full': 1,
}

export interface PlannedFault {
  /** Milliseconds after the fleet is up. */
  atMs: number
  kind: FaultKind
  /** Sidecar index for sidecar and node faults. */
  sidecar: number
  /** Pool index for KYVE faults. */
  pool: number
  /** Prefer a sidecar that is switching or pruning at that moment (the worst moment to die). */
  preferBusy: boolean
  /** How long a lasting fault (KYVE faults, a paused tracker, a clock jump) lasts. */
  holdMs: number
  /** A clock jump's size in seconds: forward or back by 2 to 15 minutes. */
  clockOffsetSeconds: number
}

export interface ScheduleOptions {
  seed: number
  durationMs: number
  sidecars: number
  pools: number
  /** No fault starts before this (the fleet settles first). */
  warmupMs: number
  /** No fault starts after `durationMs - quietMs`: the rest is for convergence. */
  quietMs: number
  /** Gap between two faults, uniform in this range. */
  gapMs: readonly [number, number]
  /** Kinds this fleet cannot take (a failover without Sentinel). @default none */
  exclude?: readonly FaultKind[]
}

/** The seeded schedule, in time order. Pure: the same options give the same list. */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const prng = new Prng(options.seed)
  const faults: PlannedFault[] = []
  const lastStart = options.durationMs - options.quietMs
  const weights = { ...WEIGHTS }
  for (const kind of options.exclude ?? []) weights[kind] = 0
  let at = options.warmupMs + prng.int(0, options.gapMs[0])
  while (at <= lastStart) {
    const kind = prng.weighted(weights)
    faults.push({
      atMs: at,
      kind,
      sidecar: prng.int(0, options.sidecars - 1),
      pool: prng.int(0, options.pools - 1),
      preferBusy: prng.next() < 0.5,
      holdMs: prng.int(3_000, 12_000),
      clockOffsetSeconds: (prng.next() < 0.5 ? -1 : 1) * prng.int(120, 900),
    })
    at += prng.int(options.gapMs[0], options.gapMs[1])
  }
  return faults
}

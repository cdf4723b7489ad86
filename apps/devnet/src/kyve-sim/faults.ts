import { z } from 'zod'
import { GoNumError, goParseUint } from './go-strconv.js'

/*
 * Faults tests can switch on to make the simulated endpoint misbehave. A fault is global or bound to one pool,
 * applies to some routes, and lasts until cleared or for its next `times` matching requests.
 *
 * kinds:
 * - `error500`: HTTP 500 with a gRPC status body (code 13 Internal, `message` or a default text). Unlike the
 *   unknown-pool answer its message never contains "key not found".
 * - `delay`: wait `delayMs` before answering (stacks with the other kinds).
 * - `garbage`: HTTP 200 with an HTML body (a proxy's maintenance page), not JSON.
 * - `schema`: HTTP 200 with valid JSON of the wrong shape (numbers for uint64 strings, fields missing).
 * - `regress`: the pool routes answer with `current_key` `regressBy` heights below the true one.
 * - `notfound`: the pool does not exist (500 key-not-found on the pool route, an empty bundle list, …).
 * - `freeze`: the pool stops advancing (no bundle rounds); answers are unaffected.
 */

/** Fault kinds, see the file comment. */
export const FAULT_KINDS = [
  'error500',
  'delay',
  'garbage',
  'schema',
  'regress',
  'freeze',
  'notfound',
] as const

/** One of {@link FAULT_KINDS}. */
export type FaultKind = (typeof FAULT_KINDS)[number]

/** The KYVE routes the simulator serves (stats and fault scoping use these names). */
export const KYVE_ROUTES = ['pool', 'pools', 'bundles', 'bundle', 'node_info'] as const

/** One of {@link KYVE_ROUTES}. */
export type KyveRoute = (typeof KYVE_ROUTES)[number]

const POOL_ROUTES: readonly KyveRoute[] = ['pool', 'bundles', 'bundle']

const poolIdSchema = z.union([z.string(), z.number().int().nonnegative()]).transform((value, ctx) => {
  try {
    return goParseUint(String(value), 10, 64).toString()
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof GoNumError ? error.message : String(error) })
    return z.NEVER
  }
})

/** What a test asks for (admin API body or {@link KyveSimulator.setFault} argument). */
export const faultSpecSchema = z
  .strictObject({
    kind: z.enum(FAULT_KINDS),
    /** Only requests about this pool; absent = every request (global). */
    poolId: poolIdSchema.optional(),
    /** Routes it applies to. Default: every route for a global fault, `pool`, `bundles`, `bundle` for a pool. */
    routes: z.array(z.enum(KYVE_ROUTES)).min(1).optional(),
    /** Apply to the next N matching requests only; absent = until cleared. */
    times: z.number().int().positive().optional(),
    /** `delay`: milliseconds to wait before answering. */
    delayMs: z.number().int().nonnegative().max(600_000).optional(),
    /** `regress`: how many heights below the true `current_key` to answer. */
    regressBy: z.number().int().positive().optional(),
    /** `error500`: the status message. */
    message: z.string().optional(),
  })
  .superRefine((spec, ctx) => {
    const need = (field: 'delayMs' | 'regressBy', kind: FaultKind) => {
      if (spec.kind === kind && spec[field] === undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `required for a ${kind} fault` })
      }
      if (spec.kind !== kind && spec[field] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [field], message: `only meaningful for a ${kind} fault` })
      }
    }
    need('delayMs', 'delay')
    need('regressBy', 'regress')
    if (spec.message !== undefined && spec.kind !== 'error500') {
      ctx.addIssue({ code: 'custom', path: ['message'], message: 'only meaningful for an error500 fault' })
    }
    if (spec.kind === 'freeze' && (spec.routes !== undefined || spec.times !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: 'freeze stops advancement; it has no routes or times',
      })
    }
  })

/** Input of {@link faultSpecSchema}. */
export type FaultSpec = z.input<typeof faultSpecSchema>

/** An active fault. */
export interface Fault {
  id: string
  kind: FaultKind
  /** null = global. */
  poolId: string | null
  routes: KyveRoute[]
  /** Requests it still applies to; null = until cleared. */
  remaining: number | null
  delayMs: number | null
  regressBy: number | null
  message: string | null
}

/** Why a fault spec was rejected. */
export class InvalidFaultError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid fault: ${problems.join('; ')}`)
    this.name = 'InvalidFaultError'
  }
}

/** Parses a fault spec. @throws InvalidFaultError listing every problem. */
export function parseFaultSpec(input: unknown): z.output<typeof faultSpecSchema> {
  const parsed = faultSpecSchema.safeParse(input)
  if (!parsed.success) {
    throw new InvalidFaultError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(fault)'}: ${issue.message}`),
    )
  }
  return parsed.data
}

/** The active faults. */
export class FaultRegistry {
  private readonly faults: Fault[] = []
  private nextId = 1

  /** Adds a fault. @throws InvalidFaultError */
  add(input: unknown): Fault {
    const spec = parseFaultSpec(input)
    const poolId = spec.poolId ?? null
    const fault: Fault = {
      id: String(this.nextId++),
      kind: spec.kind,
      poolId,
      routes:
        spec.kind === 'freeze'
          ? []
          : (spec.routes ?? (poolId === null ? [...KYVE_ROUTES] : [...POOL_ROUTES])),
      remaining: spec.times ?? null,
      delayMs: spec.delayMs ?? null,
      regressBy: spec.regressBy ?? null,
      message: spec.message ?? null,
    }
    this.faults.push(fault)
    return { ...fault, routes: [...fault.routes] }
  }

  /** The active faults, oldest first. */
  list(): Fault[] {
    return this.faults.map((fault) => ({ ...fault, routes: [...fault.routes] }))
  }

  /** Removes one fault; false when there is no such id. */
  remove(id: string): boolean {
    const index = this.faults.findIndex((fault) => fault.id === id)
    if (index === -1) return false
    this.faults.splice(index, 1)
    return true
  }

  /** Removes every fault, or those bound to `poolId`; returns how many were removed. */
  clear(poolId?: string): number {
    let removed = 0
    for (let i = this.faults.length - 1; i >= 0; i--) {
      if (poolId === undefined || this.faults[i]?.poolId === poolId) {
        this.faults.splice(i, 1)
        removed++
      }
    }
    return removed
  }

  /** True while a `freeze` fault covers `poolId`. */
  isFrozen(poolId: string): boolean {
    return this.faults.some(
      (fault) => fault.kind === 'freeze' && (fault.poolId === null || fault.poolId === poolId),
    )
  }

  /**
   * The faults that apply to one request, oldest first, counting it against their `times`. `poolId` is the pool
   * the request is about; null when it is about every pool (`/pools`: every pool-bound fault whose routes include
   * `pools` applies); undefined when it is about no pool (only global faults apply).
   */
  take(route: KyveRoute, poolId: string | null | undefined): Fault[] {
    const applied = this.faults.filter(
      (fault) =>
        fault.kind !== 'freeze' &&
        fault.routes.includes(route) &&
        (fault.poolId === null || poolId === null || (poolId !== undefined && fault.poolId === poolId)),
    )
    for (const fault of applied) {
      if (fault.remaining === null) continue
      fault.remaining--
      if (fault.remaining === 0) this.remove(fault.id)
    }
    return applied.map((fault) => ({ ...fault, routes: [...fault.routes] }))
  }
}

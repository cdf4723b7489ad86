import { z } from 'zod'
import type { DiscoveredTarget, Discoverer } from './discoverer.js'
import { parseTargetAddress } from './host-port.js'
import { parseOptions } from './option-fields.js'
import { parseChainId, parseMode } from './target-tags.js'

/** One target of a {@link StaticDiscoverer}: an address, and optionally what the target serves. */
export interface StaticTarget {
  /** `host:port` of the target's HTTP server. */
  address: string
  /** Its id; the normalised address when omitted. */
  id?: string
  chainId?: string
  poolId?: number
  mode?: string
  meta?: Record<string, string>
}

const staticTargetSchema = z.strictObject({
  address: z
    .string({ error: 'expected host:port' })
    .refine((value) => parseTargetAddress(value) !== undefined, {
      error: 'expected host:port (port 1–65535; IPv6 in brackets)',
    }),
  id: z
    .string({ error: 'expected a non-empty id' })
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, { error: 'expected an id of A-Z a-z 0-9 . _ : -' })
    .optional(),
  chainId: z
    .string({ error: 'expected a chain id' })
    .refine((value) => parseChainId(value) !== undefined, {
      error: 'expected a chain id such as "kyve-1" (letters, digits, . _ -, at most 50 characters)',
    })
    .optional(),
  poolId: z
    .int({ error: 'expected a pool id (an integer ≥ 0)' })
    .min(0, { error: 'expected a pool id (an integer ≥ 0)' })
    .optional(),
  mode: z
    .string({ error: 'expected "normal" or "ghost"' })
    .refine((value) => parseMode(value) !== undefined, { error: 'expected "normal" or "ghost"' })
    .optional(),
  meta: z.record(z.string(), z.string({ error: 'expected a string value' })).optional(),
})

const staticTargetsSchema = z
  .array(staticTargetSchema, { error: 'expected an array of targets' })
  .superRefine(
    (targets, context) => {
      const seen = new Map<string, number>()
      ;(targets as unknown[]).forEach((target, index) => {
        if (typeof target !== 'object' || target === null) return
        const { id, address } = target as { id?: unknown; address?: unknown }
        if (typeof address !== 'string') return
        const key = typeof id === 'string' ? id : (parseTargetAddress(address) ?? address)
        const first = seen.get(key)
        if (first !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [index],
            message: `id ${JSON.stringify(key)} is already used by target [${first}]`,
            params: { crossField: true },
          })
        } else seen.set(key, index)
      })
    },
    { when: (payload) => Array.isArray(payload.value) },
  )

/**
 * A fixed list, for small fleets and tests. Validated once, in the constructor; {@link discover} returns
 * copies, so a caller that edits its answer cannot change the next one.
 *
 * @example
 * const discoverer = new StaticDiscoverer([{ address: '10.0.0.5:26670', id: 'osmosis-a', chainId: 'osmosis-1', poolId: 1 }])
 */
export class StaticDiscoverer implements Discoverer {
  readonly #targets: readonly DiscoveredTarget[]

  /** @throws InvalidOptionsError naming every bad target and duplicate id. */
  constructor(targets: readonly StaticTarget[]) {
    const parsed = parseOptions('StaticDiscoverer', staticTargetsSchema, targets)
    this.#targets = parsed.map((target) => {
      const address = parseTargetAddress(target.address) ?? target.address
      const result: DiscoveredTarget = {
        id: target.id ?? address,
        address,
        healthy: true,
        meta: { ...target.meta },
      }
      if (target.chainId !== undefined) result.chainId = target.chainId
      if (target.poolId !== undefined) result.poolId = target.poolId
      if (target.mode !== undefined) result.mode = target.mode
      return Object.freeze(result)
    })
  }

  async discover(signal?: AbortSignal): Promise<DiscoveredTarget[]> {
    signal?.throwIfAborted()
    return this.#targets.map((target) => ({ ...target, meta: { ...target.meta } }))
  }
}

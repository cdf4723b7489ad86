import { z } from 'zod'

/** What a test may change about a running pool (`POST /admin/pool/{id}`, `KyveSimulator.setPool`). */
export const poolPatchSchema = z.strictObject({
  /** Rewrite history so that `current_key` is this ("" = nothing validated yet). */
  currentKey: z.string().optional(),
  /** Stop (true) or resume (false) the automatic bundle rounds. */
  paused: z.boolean().optional(),
  /** Run one bundle round now, after the other changes, even while paused or frozen. */
  tick: z.boolean().optional(),
  /** With `tick`: the data-source height to use instead of asking the chain RPC. */
  chainHeight: z.number().int().nonnegative().optional(),
  /** `data.disabled` (a disabled pool runs no rounds and leaves the default `/pools` list). */
  disabled: z.boolean().optional(),
  /** `data.end_key` ("" = none; chain ≥ v1.5). */
  endKey: z.string().optional(),
  /** `data.max_bundle_size`. */
  maxBundleSize: z.number().int().positive().optional(),
  /** `data.upload_interval` (seconds; the round schedule itself stays `bundleEveryMs`). */
  uploadInterval: z.number().int().positive().optional(),
  /** Bundles stop this many blocks below the data source's height. */
  lagBlocks: z.number().int().nonnegative().optional(),
  /**
   * Bundles end at or below this height whatever the data source's height; null lifts the cap. A driver that holds
   * the pool below something it watches (the demo: its lowest node) sets it, so no delay of its own can let the pool
   * run past.
   */
  heightCap: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
})

/** A validated pool change. */
export type PoolPatch = z.infer<typeof poolPatchSchema>

/** Why a pool change was rejected; nothing was changed. */
export class InvalidPoolPatchError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid pool change: ${problems.join('; ')}`)
    this.name = 'InvalidPoolPatchError'
  }
}

/** Parses a pool change. @throws InvalidPoolPatchError listing every problem. */
export function parsePoolPatch(input: unknown): PoolPatch {
  const parsed = poolPatchSchema.safeParse(input)
  if (!parsed.success) {
    throw new InvalidPoolPatchError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(change)'}: ${issue.message}`),
    )
  }
  if (parsed.data.chainHeight !== undefined && parsed.data.tick !== true) {
    throw new InvalidPoolPatchError(['chainHeight: only meaningful together with tick: true'])
  }
  return parsed.data
}

import { z } from 'zod'

/** What one poll of a sidecar's `/status` says, reduced to what the checkers need. */
export interface SidecarSample {
  id: string
  pool: number
  /** Wall time of the poll (ms). */
  at: number
  /** False when the sidecar did not answer (killed, restarting). */
  answered: boolean
  mode: 'normal' | 'ghost' | null
  activity: string | null
  nodeReachable: boolean
  nodeHeight: number | null
  base: number | null
  nodeState: string | null
  nodePid: number | null
}

const statusSchema = z.object({
  mode: z.enum(['normal', 'ghost']),
  sidecar: z.object({ activity: z.string() }),
  node: z.object({
    reachable: z.boolean().nullable(),
    height: z.number().int().nullable(),
    base: z.number().int().nullable(),
    process: z.object({ state: z.string(), pid: z.number().int().nullable() }),
  }),
})

export function unansweredSample(id: string, pool: number, at: number): SidecarSample {
  return {
    id,
    pool,
    at,
    answered: false,
    mode: null,
    activity: null,
    nodeReachable: false,
    nodeHeight: null,
    base: null,
    nodeState: null,
    nodePid: null,
  }
}

/** Parses a `/status` body; an answer of the wrong shape counts as no answer. */
export function parseSidecarStatus(id: string, pool: number, at: number, body: unknown): SidecarSample {
  const parsed = statusSchema.safeParse(body)
  if (!parsed.success) return unansweredSample(id, pool, at)
  const status = parsed.data
  return {
    id,
    pool,
    at,
    answered: true,
    mode: status.mode,
    activity: status.sidecar.activity,
    nodeReachable: status.node.reachable === true,
    nodeHeight: status.node.height,
    base: status.node.base,
    nodeState: status.node.process.state,
    nodePid: status.node.process.pid,
  }
}

/** A sidecar that deliberately made its node unavailable (the availability budget counts these). */
export function isDisrupting(sample: SidecarSample): boolean {
  return sample.activity === 'switching' || sample.activity === 'pruning'
}

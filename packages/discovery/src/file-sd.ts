/**
 * The Prometheus `file_sd` JSON format, so the file that tells Prometheus what to scrape also tells the
 * tracker where the sidecars are:
 *
 * ```json
 * [{ "targets": ["10.0.0.5:26670"], "labels": { "sidecar_id": "osmosis-a", "chain_id": "osmosis-1", "pool_id": "1" } }]
 * ```
 *
 * Labels with a meaning here: `sidecar_id` (the target's id; the address when absent), `chain_id`, `pool_id`,
 * `mode`. Every label, including those, is also kept in the target's `meta`. Stricter than Prometheus in two
 * ways, both to catch mistakes that would otherwise be silent: unknown keys in a group are rejected (a `label`
 * typo would drop every label), and targets need an explicit port (a sidecar has no default port).
 */
import { z } from 'zod'
import type { DiscoveredTarget } from './discoverer.js'
import { parseTargetAddress } from './host-port.js'
import { objectExpected } from './option-fields.js'
import { parseChainId, parseMode, parsePoolId } from './target-tags.js'

/** Label names with a meaning for {@link DiscoveredTarget}. */
export const FILE_SD_LABELS = {
  id: 'sidecar_id',
  chainId: 'chain_id',
  poolId: 'pool_id',
  mode: 'mode',
} as const

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const TARGET_ID = /^[A-Za-z0-9._:-]{1,128}$/

const labelsSchema = z
  .record(z.string(), z.string({ error: 'expected a string label value (quote numbers: "1")' }), {
    error: 'expected an object of label names to string values',
  })
  .superRefine(
    (labels, context) => {
      for (const [name, value] of Object.entries(labels as Record<string, unknown>)) {
        if (!LABEL_NAME.test(name)) {
          crossField(context, [name], `label name ${JSON.stringify(name)} must match [a-zA-Z_][a-zA-Z0-9_]*`)
          continue
        }
        const problem = typeof value === 'string' ? labelValueProblem(name, value) : undefined
        if (problem !== undefined) crossField(context, [name], `${problem}, got ${JSON.stringify(value)}`)
      }
    },
    // Also when a value is not a string, so one pass reports every problem of the file.
    { when: (payload) => isRecord(payload.value) },
  )

const groupSchema = z
  .strictObject(
    {
      targets: z.array(
        z
          .string({ error: 'expected "host:port"' })
          .refine((value) => parseTargetAddress(value) !== undefined, {
            error: 'expected "host:port" (port 1–65535; IPv6 in brackets)',
          }),
        { error: 'expected an array of "host:port" strings' },
      ),
      labels: labelsSchema.optional(),
    },
    { error: objectExpected('expected an object {"targets": [...], "labels": {...}}') },
  )
  .superRefine(
    (group, context) => {
      const labels = isRecord(group.labels) ? group.labels : {}
      const targets: unknown = group.targets
      if (labels[FILE_SD_LABELS.id] !== undefined && Array.isArray(targets) && targets.length > 1) {
        crossField(
          context,
          ['labels', FILE_SD_LABELS.id],
          `${FILE_SD_LABELS.id} names one target but the group has ${targets.length}: give each target its own group`,
        )
      }
    },
    { when: (payload) => isRecord(payload.value) },
  )

/** The whole file: an array of target groups, with every target id used once. */
export const fileSdSchema = z
  .array(groupSchema, { error: 'expected a JSON array of target groups (Prometheus file_sd format)' })
  .superRefine(
    (groups, context) => {
      const seen = new Map<string, string>()
      ;(groups as unknown[]).forEach((group, groupIndex) => {
        if (!isRecord(group) || !Array.isArray(group['targets'])) return
        const labels = isRecord(group['labels']) ? group['labels'] : {}
        const id = labels[FILE_SD_LABELS.id]
        group['targets'].forEach((target: unknown, targetIndex: number) => {
          if (typeof target !== 'string') return
          const key = typeof id === 'string' ? id : (parseTargetAddress(target) ?? target)
          const first = seen.get(key)
          if (first !== undefined) {
            crossField(
              context,
              [groupIndex, 'targets', targetIndex],
              `target id ${JSON.stringify(key)} is also ${first}`,
            )
          } else seen.set(key, `[${groupIndex}].targets[${targetIndex}]`)
        })
      })
    },
    // Duplicates are reported together with the other problems, not only once those are fixed.
    { when: (payload) => Array.isArray(payload.value) },
  )

export type FileSdGroups = z.output<typeof fileSdSchema>

/** The targets a validated file lists, in file order. */
export function fileSdTargets(groups: FileSdGroups): DiscoveredTarget[] {
  const targets: DiscoveredTarget[] = []
  for (const group of groups) {
    const labels = group.labels ?? {}
    for (const raw of group.targets) {
      const address = parseTargetAddress(raw) ?? raw
      const target: DiscoveredTarget = {
        id: labels[FILE_SD_LABELS.id] ?? address,
        address,
        healthy: true,
        meta: { ...labels },
      }
      const chainId = labels[FILE_SD_LABELS.chainId]
      const poolId = labels[FILE_SD_LABELS.poolId]
      const mode = labels[FILE_SD_LABELS.mode]
      if (chainId !== undefined) target.chainId = chainId
      if (poolId !== undefined) target.poolId = parsePoolId(poolId)
      if (mode !== undefined) target.mode = mode
      targets.push(target)
    }
  }
  return targets
}

function labelValueProblem(name: string, value: string): string | undefined {
  switch (name) {
    case FILE_SD_LABELS.id:
      return TARGET_ID.test(value) ? undefined : 'expected an id of A-Z a-z 0-9 . _ : -'
    case FILE_SD_LABELS.chainId:
      return parseChainId(value) === undefined ? 'expected a chain id such as "kyve-1"' : undefined
    case FILE_SD_LABELS.poolId:
      return parsePoolId(value) === undefined ? 'expected a pool id such as "1"' : undefined
    case FILE_SD_LABELS.mode:
      return parseMode(value) === undefined ? 'expected "normal" or "ghost"' : undefined
    default:
      return undefined
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function crossField(context: z.RefinementCtx, path: PropertyKey[], message: string): void {
  context.addIssue({ code: 'custom', path, message, params: { crossField: true } })
}

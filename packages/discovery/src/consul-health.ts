/**
 * The answer of `GET /v1/health/service/:service` (Consul API docs, "List Service Instances for Service"):
 * an array of `{ Node, Service, Checks }`. Only the fields used here are required; everything else Consul adds
 * is ignored, so newer agents stay compatible.
 */
import { z } from 'zod'
import type { DiscoveredTarget } from './discoverer.js'
import { formatHostPort } from './host-port.js'
import { parseTargetTags } from './target-tags.js'

const healthEntrySchema = z.object({
  Node: z.object({
    Node: z.string({ error: 'expected the node name' }),
    Address: z.string({ error: 'expected the node address' }),
  }),
  Service: z.object({
    ID: z.string({ error: 'expected the service id' }).min(1, { error: 'expected a non-empty service id' }),
    Service: z.string({ error: 'expected the service name' }),
    // Go encodes an empty slice or map as null.
    Tags: z
      .array(z.string({ error: 'expected a string tag' }))
      .nullable()
      .optional(),
    Address: z.string({ error: 'expected the service address' }).optional(),
    Port: z.int({ error: 'expected a port' }).min(0).max(65535),
    Meta: z
      .record(z.string(), z.string({ error: 'expected a string meta value' }))
      .nullable()
      .optional(),
  }),
  Checks: z
    .array(z.object({ Status: z.string({ error: 'expected a check status' }) }))
    .nullable()
    .optional(),
})

export const healthEntriesSchema = z.array(healthEntrySchema, {
  error: 'expected an array of service instances',
})

export type HealthEntry = z.output<typeof healthEntrySchema>

/**
 * The target an instance stands for, or why it cannot be one. The service address wins; an empty one means
 * "the node's address", as the catalog docs say for `ServiceAddress`.
 */
export function healthEntryTarget(
  entry: HealthEntry,
): { target: DiscoveredTarget; problems: string[] } | { target?: undefined; problems: string[] } {
  const host = entry.Service.Address || entry.Node.Address
  if (host === '' || entry.Service.Port === 0) {
    return { problems: [`registered without ${host === '' ? 'an address' : 'a port'}: not reachable`] }
  }
  const { values, problems } = parseTargetTags(entry.Service.Tags ?? [])
  const target: DiscoveredTarget = {
    id: entry.Service.ID,
    address: formatHostPort(host, entry.Service.Port),
    healthy: (entry.Checks ?? []).every((check) => check.Status === 'passing'),
    meta: { ...(entry.Service.Meta ?? {}) },
  }
  if (values.chainId !== undefined) target.chainId = values.chainId
  if (values.poolId !== undefined) target.poolId = values.poolId
  if (values.mode !== undefined) target.mode = values.mode
  return { target, problems }
}

/**
 * Options of {@link ConsulRegistration}, validated as Consul's agent would validate the registration (service
 * meta rules, no "any" address, durations), so a mistake is a startup error instead of a 400 at the first
 * registration, which the periodic loop would then only log.
 */
import { loggerOption } from '@ghostfleet/core'
import { z } from 'zod'
import { parseTargetAddress } from './host-port.js'
import type { DiscoveryLogger } from './logger.js'
import { aclToken, consulUrl, goDuration, milliseconds, objectExpected } from './option-fields.js'
import { tagProblem } from './target-tags.js'

/** The service names Ghostfleet registers under. */
export const GHOSTFLEET_SERVICES = ['ghostfleet-sidecar', 'ghostfleet-tracker'] as const
export type GhostfleetService = (typeof GHOSTFLEET_SERVICES)[number]

/** The HTTP check Consul runs against the registered server. */
export interface RegistrationCheck {
  /** URL Consul GETs; 2xx passing, 429 warning, anything else critical. E.g. `http://10.0.0.5:26670/readyz`. */
  http: string
  /** How often Consul runs the check (Go duration). @default '10s' */
  interval?: string
  /** Deadline of one check (Go duration). @default '5s' */
  timeout?: string
  /**
   * Consul deregisters the service after its check has been critical this long (Go duration; Consul applies a
   * minimum of 1m and reaps every 30s). A live sidecar that was reaped is registered again by the next tick of
   * {@link ConsulRegistration.start}; only dead ones stay gone. @default '5m'
   */
  deregisterCriticalServiceAfter?: string
}

/** Options of {@link ConsulRegistration}. */
export interface ConsulRegistrationOptions {
  /** The local Consul agent, `http(s)://host:port` (usually `http://127.0.0.1:8500`). */
  url: string
  /** ACL token with `service:write` on the service name. */
  token?: string
  /** Service name. */
  service: GhostfleetService
  /**
   * Service id, unique per agent, stable across restarts: for a sidecar, its sidecar id as reported on Redis
   * (e.g. `ghostfleet-sidecar-<hostname>-<pool>`), so {@link reconcile} can match the two. 1–64 characters of
   * A-Z a-z 0-9 . _ -, as sidecar ids.
   */
  id: string
  /** Address other machines reach the HTTP server at (not 0.0.0.0). */
  address: string
  /** Port of the HTTP server. */
  port: number
  /** Service tags; `chain:`, `pool:` and `mode:` tags must be well-formed (see `sidecarTags`). @default [] */
  tags?: string[]
  /** Service meta, e.g. `{ version, node_id }`. Consul's rules apply (keys `[A-Za-z0-9_-]`, ≤ 64 pairs). */
  meta?: Record<string, string>
  check: RegistrationCheck
  /** Deadline of one request to the agent. @default 10000 */
  requestTimeoutMs?: number
  logger?: DiscoveryLogger
}

const SERVICE_ID = /^[A-Za-z0-9._-]{1,64}$/
const META_KEY = /^[A-Za-z0-9_-]+$/
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'])

export const tagsSchema = z
  .array(
    z
      .string({ error: 'expected a string tag' })
      .regex(/^[\x21-\x7e]{1,255}$/, { error: 'expected a tag of printable ASCII without spaces' })
      .superRefine((tag, context) => {
        const problem = tagProblem(tag)
        if (problem !== undefined) context.addIssue({ code: 'custom', message: problem })
      }),
    { error: 'expected an array of tags' },
  )
  .superRefine(
    (tags, context) => {
      const seen = new Set<unknown>()
      ;(tags as unknown[]).forEach((tag, index) => {
        if (typeof tag === 'string' && seen.has(tag)) {
          context.addIssue({
            code: 'custom',
            path: [index],
            message: `tag ${JSON.stringify(tag)} is listed twice`,
            params: { crossField: true },
          })
        }
        seen.add(tag)
      })
    },
    { when: (payload) => Array.isArray(payload.value) },
  )

/** Consul's `ValidateServiceMetadata` rules, from the agent service docs and its source. */
const metaSchema = z
  .record(z.string(), z.string({ error: 'expected a string value (quote numbers)' }), {
    error: 'expected an object of string values',
  })
  .superRefine(
    (meta, context) => {
      const entries = Object.entries(meta as Record<string, unknown>)
      if (entries.length > 64) {
        context.addIssue({
          code: 'custom',
          message: `Consul allows at most 64 meta pairs, got ${entries.length}`,
          params: { crossField: true },
        })
      }
      for (const [key, value] of entries) {
        const problem = !META_KEY.test(key)
          ? 'meta keys may only contain A-Z a-z 0-9 _ -'
          : key.length > 128
            ? 'meta keys are at most 128 characters'
            : key.startsWith('consul-')
              ? 'the meta key prefix "consul-" is reserved by Consul'
              : typeof value === 'string' && value.length > 512
                ? 'meta values are at most 512 characters'
                : undefined
        if (problem !== undefined) {
          context.addIssue({ code: 'custom', path: [key], message: problem, params: { crossField: true } })
        }
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )

const checkSchema = z.strictObject(
  {
    http: z.string({ error: 'expected the URL Consul checks, e.g. http://10.0.0.5:26670/readyz' }).refine(
      (value) => {
        try {
          const url = new URL(value)
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
        } catch {
          return false
        }
      },
      { error: 'expected the http(s) URL Consul checks, e.g. http://10.0.0.5:26670/readyz' },
    ),
    interval: goDuration().default('10s'),
    timeout: goDuration().default('5s'),
    deregisterCriticalServiceAfter: goDuration().default('5m'),
  },
  { error: objectExpected('expected a check {http, interval, timeout, deregisterCriticalServiceAfter}') },
)

export const registrationOptionsSchema = z.strictObject(
  {
    url: consulUrl(),
    token: aclToken().optional(),
    service: z.enum(GHOSTFLEET_SERVICES, {
      error: `expected one of ${GHOSTFLEET_SERVICES.map((name) => JSON.stringify(name)).join(', ')}`,
    }),
    id: z
      .string({ error: 'expected a service id: 1–64 characters from A-Z a-z 0-9 . _ -' })
      .regex(SERVICE_ID, { error: 'expected a service id: 1–64 characters from A-Z a-z 0-9 . _ -' }),
    address: z
      .string({ error: 'expected the host other machines reach the server at' })
      .min(1, { error: 'expected the host other machines reach the server at' })
      .refine((value) => !ANY_ADDRESS.has(value), {
        error: 'expected the host other machines reach the server at, not a wildcard bind address',
      })
      .refine(
        (value) =>
          parseTargetAddress(`${value.includes(':') && !value.startsWith('[') ? `[${value}]` : value}:1`) !==
          undefined,
        {
          error: 'expected an IP address or hostname',
        },
      ),
    port: z
      .int({ error: 'expected a port from 1 to 65535' })
      .min(1, { error: 'expected a port from 1 to 65535' })
      .max(65535, { error: 'expected a port from 1 to 65535' }),
    tags: tagsSchema.default([]),
    meta: metaSchema.default({}),
    check: checkSchema,
    requestTimeoutMs: milliseconds(1, 600_000).default(10_000),
    logger: loggerOption().optional(),
  },
  { error: objectExpected('expected an options object') },
)

export type ParsedRegistrationOptions = z.output<typeof registrationOptionsSchema>

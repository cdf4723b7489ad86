/**
 * The tracker's TOML config file. Pools do not have to be listed: the tracker follows every pool a sidecar
 * reports. A `[[pools]]` entry only overrides settings for one pool. Strict like the sidecar config.
 */
import { z } from 'zod'
import { DURATION_BOUNDS, duration } from './duration.js'
import {
  addCrossFieldIssue,
  chainId,
  fieldsValid,
  greaterThan,
  httpUrl,
  intAtLeast,
  listenAddress,
  redisUrl,
  table,
} from './fields.js'
import { thresholdOverridesSchema } from './thresholds.js'

/** A duration key of this file, bounded as {@link DURATION_BOUNDS} says. */
const bounded = (key: keyof typeof DURATION_BOUNDS.tracker) => duration(DURATION_BOUNDS.tracker[key])
const endpointList = () =>
  z
    .array(httpUrl(), { error: 'expected an array of URLs' })
    .min(1, { error: 'expected at least one URL (leave the key out to use the chain preset)' })

const defaultsSchema = table({
  /** Members of one pool that may be restarting or pruning at once. */
  maxUnavailable: intAtLeast(1).default(1),
  pruningIntervalHours: bounded('defaults.pruningIntervalHours').default(24),
  margin: intAtLeast(1).default(1),
})

const poolOverrideSchema = table({
  chainId: chainId(),
  poolId: intAtLeast(0),
  endpoints: endpointList().optional(),
  maxUnavailable: intAtLeast(1).optional(),
  pruningIntervalHours: bounded('pools[].pruningIntervalHours').optional(),
  /** Overrides applied on top of the thresholds computed from the pool's settings. */
  thresholds: thresholdOverridesSchema.optional(),
})

/**
 * The tracker's authenticated peer listener (signed with the fleet key, like the sidecars' peer path): it serves
 * the bootstrap API (`POST /v1/bootstrap`, `GET /v1/bootstrap/<id>`) to new hosts. Off unless `listen` is set.
 */
const peerSchema = table({
  listen: listenAddress().optional(),
  /** Requests per second each sender may make (token bucket; `burst` at once). */
  ratePerSecond: z
    .number({ error: 'expected a number from 0.1 to 1000' })
    .min(0.1, { error: 'expected a number from 0.1 to 1000' })
    .max(1000, { error: 'expected a number from 0.1 to 1000' })
    .default(5),
  burst: intAtLeast(1).max(1000, { error: 'expected an integer from 1 to 1000' }).default(20),
})

const bootstrapSchema = table({
  /** A bootstrap request whose checkpoint is not ready this long after it was made expires. */
  requestTtlSeconds: bounded('bootstrap.requestTtlSeconds').default(1800),
})

export const trackerConfigSchema = table({
  /** `GHOSTFLEET_REDIS_URL` overrides it; merge it in before parsing. */
  redisUrl: redisUrl(),
  listen: listenAddress().default('127.0.0.1:26680'),
  pollIntervalSeconds: bounded('pollIntervalSeconds').default(10),
  /** Leader lease; a standby takes over at most this long after the leader dies. */
  leaseTtlMs: bounded('leaseTtlMs').default(10_000),
  /** A pool height older than this is not used for pruning decisions. */
  maxPoolAgeSeconds: bounded('maxPoolAgeSeconds').default(600),
  defaults: defaultsSchema.prefault({}),
  peer: peerSchema.prefault({}),
  bootstrap: bootstrapSchema.prefault({}),
  pools: z.array(poolOverrideSchema, { error: 'expected an array of [[pools]] tables' }).default([]),
  /** chain id → KYVE REST endpoints, replacing the built-in preset for that chain. */
  chains: z
    .record(chainId(), endpointList(), {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'expected a table of chain id = [endpoints]' : undefined,
    })
    .default({}),
})
  .superRefine(
    ...greaterThan(
      'maxPoolAgeSeconds',
      'pollIntervalSeconds',
      'or every pool height would be stale before the next poll',
    ),
  )
  .superRefine(
    (config, ctx) => {
      const seen = new Map<string, number>()
      config.pools.forEach((pool, index) => {
        const key = `${pool.chainId}/${pool.poolId}`
        const first = seen.get(key)
        if (first === undefined) seen.set(key, index)
        else {
          addCrossFieldIssue(
            ctx,
            ['pools', index],
            `pool ${pool.poolId} on ${pool.chainId} is already configured in pools[${first}]`,
          )
        }
      })
    },
    { when: fieldsValid('pools') },
  )

/** The tracker config with every default applied. */
export type TrackerConfig = z.output<typeof trackerConfigSchema>
/** What a config file may contain (defaulted keys optional). */
export type TrackerConfigInput = z.input<typeof trackerConfigSchema>

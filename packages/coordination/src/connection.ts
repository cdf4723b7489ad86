import { redactUrlsIn } from '@ghostfleet/core'
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import { z } from 'zod'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { bindKeySpace, DEFAULT_NAMESPACE, keysOf, keyspace } from './keys.js'
import { type CoordinationLogger, silentLogger } from './logger.js'
import { DEFAULT_RECONNECT, type ReconnectOptions, reconnectDelay } from './reconnect-strategy.js'
import { parseRedisUrl, redactRedisUrl } from './redis-url.js'
import { describeIssues } from './zod-issues.js'

/** A connection made by {@link createRedis}: a single Redis (possibly found through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster

/**
 * Who uses the connection; it decides what happens to a command issued while Redis is unreachable.
 *
 * - `sidecar`: **fail fast**. `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, no re-sending of
 *   unanswered commands after a reconnect, and a `commandTimeout` (default 2 s) for a half-open TCP connection
 *   that would otherwise swallow commands silently. A sidecar's control loop keeps its node serving while Redis
 *   is down (remote failures degrade, never kill); a command that waited in a queue would freeze the loop, and one replayed
 *   minutes later would report a state that is no longer true.
 * - `tracker`: **absorb short blips**. The offline queue stays on, so a command issued during a reconnect is sent
 *   once the connection is back; `maxRetriesPerRequest: 1` and a `commandTimeout` (default 5 s) bound how long a
 *   tracker tick can wait. Everything the tracker writes is fenced by epoch and generation, so a command sent late
 *   cannot overwrite newer state. The leader lease does not use this queue: `LeaderElection` makes its own
 *   fail-fast connection, because a renew replayed after the leader has stepped down would extend a lease nobody
 *   uses.
 */
export type ConnectionRole = 'tracker' | 'sidecar'

/** A Redis or Sentinel/Cluster node address. */
export interface RedisNode {
  host: string
  port: number
}

/** What a connection is doing, as reported to {@link CreateRedisOptions.onStatus}. */
export type ConnectionStatus =
  /** Connected and ready for commands. */
  | 'ready'
  /** The connection dropped (or never came up); a reconnect follows. */
  | 'disconnected'
  /** A reconnect attempt is scheduled in `delayMs`. */
  | 'reconnecting'
  /** A connection error (refused, timed out, auth failed…); `error` says which. */
  | 'error'
  /** Closed for good (`quit()`/`disconnect()`): no more reconnects. */
  | 'closed'

/** One connection event. */
export interface ConnectionStatusEvent {
  status: ConnectionStatus
  /** Which connection: `tracker`, `sidecar`, or a helper connection (`sidecar/subscriber`, `tracker/leader`…). */
  connection: string
  /** For `reconnecting`. */
  delayMs?: number
  /** For `error`. */
  error?: string
}

/**
 * Options for {@link createRedis}. Exactly one of `url`, `sentinels` or `cluster`. The binaries resolve the URL
 * from their flags, the environment and their config file; this package never reads the environment.
 */
export interface CreateRedisOptions {
  /** Who uses the connection (see {@link ConnectionRole}). */
  role: ConnectionRole
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url?: string
  /** Sentinel addresses; the master is looked up by {@link CreateRedisOptions.sentinelName}. */
  sentinels?: RedisNode[]
  /** The master group name the sentinels monitor (`sentinel monitor <name> …`). Required with `sentinels`. */
  sentinelName?: string
  /** Password for the sentinels themselves, when they require one. */
  sentinelPassword?: string
  /** Cluster startup nodes (a few are enough; the rest is discovered). */
  cluster?: RedisNode[]
  /**
   * ACL user and password: for Sentinel or Cluster data nodes, or with a `url` that carries no credentials
   * (per-sidecar credentials kept out of the URL). Never both in the URL and here.
   */
  username?: string
  password?: string
  /** TLS for Sentinel or Cluster data nodes (a URL says it with `rediss://`). @default false */
  tls?: boolean
  /**
   * Namespace every key starts with: `staging` gives `staging:{sc:<id>}:report`. A trailing `:` is ignored.
   * Two fleets can share one Redis under different namespaces.
   * @default "gf"
   */
  keyPrefix?: string
  /** How long a command may wait for its reply. @default 2000 for sidecars, 5000 for the tracker */
  commandTimeoutMs?: number
  /** How long a connection attempt may take. @default 5000 */
  connectTimeoutMs?: number
  /** Reconnect delay bounds. @default { minDelayMs: 1000, maxDelayMs: 20000 } */
  reconnect?: Partial<ReconnectOptions>
  /** Where connection problems are logged. @default silent */
  logger?: CoordinationLogger
  /** Called on every connection event, for metrics and readiness. Must not throw. */
  onStatus?: (event: ConnectionStatusEvent) => void
}

const nodeSchema = z.object(
  {
    host: z.string().min(1, 'host must not be empty'),
    port: z.int('port must be an integer').min(1).max(65535),
  },
  { error: 'expected { host, port }' },
)

// At most an hour: far inside Node's 32-bit timer range, where a larger delay would fire after 1 ms.
const positiveMs = z
  .int('must be an integer number of ms')
  .positive('must be > 0')
  .max(3_600_000, 'must be at most 3600000 ms (1 h)')

const optionsSchema = z.strictObject({
  role: z.enum(['tracker', 'sidecar'], { error: 'role must be "tracker" or "sidecar"' }),
  url: z.string().optional(),
  sentinels: z.array(nodeSchema).min(1, 'needs at least one sentinel').optional(),
  sentinelName: z.string().min(1).optional(),
  sentinelPassword: z.string().optional(),
  cluster: z.array(nodeSchema).min(1, 'needs at least one startup node').optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z.boolean().optional(),
  keyPrefix: z
    .string()
    .transform((value) => value.replace(/:$/, ''))
    .pipe(z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, '1–32 letters, digits, ".", "_" or "-" (no braces)'))
    .optional(),
  commandTimeoutMs: positiveMs.optional(),
  connectTimeoutMs: positiveMs.optional(),
  reconnect: z
    .strictObject({ minDelayMs: positiveMs.optional(), maxDelayMs: positiveMs.optional() })
    .optional(),
  logger: z
    .custom<CoordinationLogger>(
      (value) =>
        typeof value === 'object' && value !== null && typeof Reflect.get(value, 'warn') === 'function',
      'expected a logger with debug/info/warn/error methods',
    )
    .optional(),
  onStatus: z
    .custom<(event: ConnectionStatusEvent) => void>((value) => typeof value === 'function')
    .optional(),
})

type ParsedOptions = z.infer<typeof optionsSchema>

interface Watch {
  logger: CoordinationLogger
  onStatus: ((event: ConnectionStatusEvent) => void) | undefined
}

const watches = new WeakMap<object, Watch>()

/**
 * Connects to Redis for one role, with a capped, jittered reconnect strategy and events surfaced through
 * `onStatus`. The connection is started immediately and reconnects forever until closed ({@link closeRedis}).
 *
 * @throws InvalidOptionsError naming every problem (no location, two locations, a bad URL, a bad port…).
 */
export function createRedis(options: CreateRedisOptions): RedisClient {
  const parsed = optionsSchema.safeParse(options)
  if (!parsed.success) throw new InvalidOptionsError('createRedis', describeIssues(parsed.error))
  const opts = parsed.data
  const url = opts.url
  checkLocation(opts, url)

  const role = opts.role
  const failFast = role === 'sidecar'
  const reconnect: ReconnectOptions = { ...DEFAULT_RECONNECT, ...opts.reconnect }
  if (reconnect.minDelayMs > reconnect.maxDelayMs) {
    throw new InvalidOptionsError('createRedis', [
      `reconnect.minDelayMs (${reconnect.minDelayMs}) must not exceed reconnect.maxDelayMs (${reconnect.maxDelayMs})`,
    ])
  }
  const retry = (attempt: number) => reconnectDelay(attempt, reconnect)
  const perConnection: RedisOptions = {
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    commandTimeout: opts.commandTimeoutMs ?? (failFast ? 2000 : 5000),
    maxRetriesPerRequest: failFast ? 0 : 1,
    autoResendUnfulfilledCommands: !failFast,
    enableReadyCheck: true,
    connectionName: `ghostfleet-${role}`,
    // After a Sentinel failover the old master turns replica and answers writes with READONLY: reconnect so
    // Sentinel hands out the new master. The tracker re-sends the failed command (2); a sidecar does not (1),
    // its next tick will.
    reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? (failFast ? 1 : 2) : false),
  }

  let client: RedisClient
  if (opts.cluster) {
    const clusterOptions: ClusterOptions = {
      clusterRetryStrategy: retry,
      enableOfflineQueue: !failFast,
      enableReadyCheck: true,
      scaleReads: 'master',
      redisOptions: {
        ...perConnection,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        ...(opts.tls ? { tls: {} } : {}),
      },
    }
    client = new Cluster(opts.cluster, clusterOptions)
  } else if (opts.sentinels) {
    client = new Redis({
      ...perConnection,
      sentinels: opts.sentinels,
      name: opts.sentinelName ?? '',
      role: 'master',
      sentinelRetryStrategy: retry,
      retryStrategy: retry,
      enableOfflineQueue: !failFast,
      ...(opts.sentinelPassword !== undefined ? { sentinelPassword: opts.sentinelPassword } : {}),
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.tls ? { tls: {} } : {}),
    })
  } else {
    const location = parseRedisUrl(url ?? '', 'createRedis: url')
    client = new Redis({
      ...perConnection,
      host: location.host,
      port: location.port,
      db: location.db,
      retryStrategy: retry,
      enableOfflineQueue: !failFast,
      ...credentials(location.username ?? opts.username, location.password ?? opts.password),
      ...(location.tls ? { tls: { servername: location.host } } : {}),
    })
  }
  bindKeySpace(client, keyspace(opts.keyPrefix ?? DEFAULT_NAMESPACE))
  watch(client, role, { logger: opts.logger ?? silentLogger, onStatus: opts.onStatus })
  return client
}

function credentials(username: string | undefined, password: string | undefined) {
  return {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  }
}

function checkLocation(opts: ParsedOptions, url: string | undefined): void {
  const given = [url !== undefined && 'url', opts.sentinels && 'sentinels', opts.cluster && 'cluster'].filter(
    (name): name is string => typeof name === 'string',
  )
  if (given.length === 0) {
    throw new InvalidOptionsError('createRedis', [
      'no Redis configured: pass url (e.g. redis://127.0.0.1:6379), sentinels or cluster',
    ])
  }
  if (given.length > 1) {
    throw new InvalidOptionsError('createRedis', [
      `give only one of url, sentinels, cluster (got ${given.join(', ')})`,
    ])
  }
  if (opts.sentinels && !opts.sentinelName) {
    throw new InvalidOptionsError('createRedis', [
      'sentinelName is required with sentinels (the monitored master)',
    ])
  }
  if (opts.sentinelName && !opts.sentinels) {
    throw new InvalidOptionsError('createRedis', ['sentinelName is only meaningful together with sentinels'])
  }
  if (url !== undefined && opts.tls !== undefined) {
    throw new InvalidOptionsError('createRedis', [
      `tls is part of the URL (${redactRedisUrl(url)}: rediss:// for TLS); do not give it separately`,
    ])
  }
  // Per-sidecar ACL credentials may come apart from the URL (a password file, GHOSTFLEET_REDIS_PASSWORD), but
  // never from both places: which one would win is not obvious to the operator reading either.
  if (url !== undefined && (opts.username !== undefined || opts.password !== undefined)) {
    const location = parseRedisUrl(url, 'createRedis: url')
    if (location.username !== undefined || location.password !== undefined) {
      throw new InvalidOptionsError('createRedis', [
        `the URL (${redactRedisUrl(url)}) carries credentials and username/password were given too; give them in one place`,
      ])
    }
  }
}

/** Settings a helper connection changes relative to the connection it is made from. */
export interface ConnectionOverrides {
  /** See {@link ConnectionRole}. */
  enableOfflineQueue?: boolean
  maxRetriesPerRequest?: number | null
  autoResendUnfulfilledCommands?: boolean
  /** `null` removes the timeout (needed for blocking reads longer than the timeout). */
  commandTimeout?: number | null
  /** Client-side limit for a blocking command on a dead connection (ioredis `blockingTimeout`). */
  blockingTimeout?: number
  /** Added to a blocking command's own BLOCK time before the client gives up on it. */
  blockingTimeoutGrace?: number
}

/**
 * A second connection to the same Redis with the same namespace, logger and status callback, tagged
 * `<parent>/<label>` in status events. Blocking reads and subscriptions need a connection of their own.
 */
export function duplicateRedis(
  redis: RedisClient,
  label: string,
  overrides: ConnectionOverrides = {},
): RedisClient {
  const perConnection: Partial<RedisOptions> = {}
  if (overrides.maxRetriesPerRequest !== undefined)
    perConnection.maxRetriesPerRequest = overrides.maxRetriesPerRequest
  if (overrides.autoResendUnfulfilledCommands !== undefined) {
    perConnection.autoResendUnfulfilledCommands = overrides.autoResendUnfulfilledCommands
  }
  if (overrides.commandTimeout !== undefined) {
    perConnection.commandTimeout = overrides.commandTimeout === null ? undefined : overrides.commandTimeout
  }
  if (overrides.blockingTimeout !== undefined) perConnection.blockingTimeout = overrides.blockingTimeout
  if (overrides.blockingTimeoutGrace !== undefined) {
    perConnection.blockingTimeoutGrace = overrides.blockingTimeoutGrace
  }
  const parentName = connectionLabel(redis)
  const name = `${parentName}/${label}`
  let copy: RedisClient
  if (redis instanceof Cluster) {
    copy = redis.duplicate([], {
      ...(overrides.enableOfflineQueue !== undefined
        ? { enableOfflineQueue: overrides.enableOfflineQueue }
        : {}),
      redisOptions: { ...redis.options.redisOptions, ...perConnection, connectionName: `ghostfleet-${name}` },
    })
  } else {
    copy = redis.duplicate({
      ...perConnection,
      ...(overrides.enableOfflineQueue !== undefined
        ? { enableOfflineQueue: overrides.enableOfflineQueue }
        : {}),
      connectionName: `ghostfleet-${name}`,
    })
  }
  bindKeySpace(copy, keysOf(redis))
  watch(copy, name, watches.get(redis) ?? { logger: silentLogger, onStatus: undefined })
  return copy
}

const labels = new WeakMap<object, string>()

function connectionLabel(redis: RedisClient): string {
  return labels.get(redis) ?? 'redis'
}

function watch(client: RedisClient, name: string, w: Watch): void {
  watches.set(client, w)
  labels.set(client, name)
  const emit = (event: ConnectionStatusEvent) => {
    try {
      w.onStatus?.(event)
    } catch (error) {
      w.logger.error({ connection: name, err: redactUrlsIn(String(error)) }, 'redis onStatus callback threw')
    }
  }
  let wasReady = false
  let lastError: string | undefined
  client.on('ready', () => {
    if (lastError !== undefined || wasReady) w.logger.info({ connection: name }, 'redis connection ready')
    wasReady = true
    lastError = undefined
    emit({ status: 'ready', connection: name })
  })
  client.on('close', () => {
    emit({ status: 'disconnected', connection: name })
  })
  client.on('reconnecting', (delayMs: unknown) => {
    const event: ConnectionStatusEvent = { status: 'reconnecting', connection: name }
    if (typeof delayMs === 'number') event.delayMs = delayMs
    emit(event)
  })
  client.on('end', () => {
    emit({ status: 'closed', connection: name })
  })
  // Without an 'error' listener ioredis prints every failed reconnect to stderr. One line per distinct error
  // per outage keeps the log readable during a long Redis outage.
  client.on('error', (error: unknown) => {
    // A library error may quote the address it failed on; never let a URL's password through.
    const message = redactUrlsIn(error instanceof Error ? error.message : String(error))
    if (message !== lastError) {
      w.logger.warn({ connection: name, err: message }, 'redis connection error')
      lastError = message
    }
    emit({ status: 'error', connection: name, error: message })
  })
}

/**
 * Closes a connection: a polite `QUIT` when it is up, an immediate disconnect otherwise, so closing never waits
 * for a Redis that is down.
 */
export async function closeRedis(redis: RedisClient): Promise<void> {
  if (redis.status === 'end') return
  if (redis.status !== 'ready') {
    redis.disconnect()
    return
  }
  try {
    await redis.quit()
  } catch {
    redis.disconnect()
  }
}

import { parseWith, pause, type SidecarReport, sidecarReportSchema, ValidationError } from '@ghostfleet/core'
import { z } from 'zod'
import { closeRedis, duplicateRedis, type RedisClient } from './connection.js'
import { InvalidOptionsError } from './errors/invalid-options-error.js'
import { assertKeyPart, keysOf } from './keys.js'
import { type CoordinationLogger, errorFields, silentLogger } from './logger.js'
import { DEFAULT_RECONNECT, reconnectDelay } from './reconnect-strategy.js'
import { REPORT_STREAM_FIELD } from './reports.js'
import { waitForReady } from './wait-ready.js'
import { describeIssues } from './zod-issues.js'

/** A stream entry that was refused (acknowledged, so it cannot poison the stream, and never handed on). */
export interface ReportReject {
  /** The stream entry id. */
  id: string
  /** What was wrong with it. */
  reason: string
}

/** Where a delivered report came from. */
export interface ReportEntry {
  /** The stream entry id. */
  id: string
  /** True when the entry was taken over from another (dead) consumer rather than read fresh. */
  claimed: boolean
}

/** Counters since {@link ReportConsumer.start}, for metrics. */
export interface ReportConsumerStats {
  /** Valid reports handed to `onReport`. */
  delivered: number
  /** Entries refused by validation. */
  rejected: number
  /** Entries taken over from other consumers (XAUTOCLAIM). */
  claimed: number
  /** `onReport` calls that threw. */
  handlerErrors: number
  /** Redis errors in the read loop (each followed by a wait for the connection or a capped backoff). */
  readErrors: number
}

/** Options for {@link ReportConsumer}. */
export interface ReportConsumerOptions {
  /** A connection to the coordination Redis; the consumer makes its own copy for blocking reads. */
  redis: RedisClient
  /** This tracker's consumer name in the group, unique per running tracker (e.g. `<host>-<pid>`). */
  consumerName: string
  /** The consumer group. @default "tracker" */
  group?: string
  /** Called for every valid report, in stream order within a batch. Errors are counted and logged. */
  onReport: (report: SidecarReport, entry: ReportEntry) => void | Promise<void>
  /** Called for every refused entry. Must not throw. */
  onReject?: (reject: ReportReject) => void
  /** Entries per read. @default 100 */
  batchSize?: number
  /** How long one XREADGROUP blocks waiting for new entries. Bounds how quickly `stop()` returns. @default 5000 */
  blockMs?: number
  /**
   * Entries delivered to a consumer but not acknowledged for this long are taken over (XAUTOCLAIM): their
   * consumer died, typically the previous leader. Also how often the consumer looks for them. @default 30000
   */
  claimIdleMs?: number
  logger?: CoordinationLogger
}

const optionsSchema = z.object({
  group: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-"')
    .default('tracker'),
  batchSize: z.int().positive().max(10_000).default(100),
  // At most an hour: far inside Node's 32-bit timer range.
  blockMs: z.int().positive().max(3_600_000).default(5000),
  claimIdleMs: z.int().positive().max(3_600_000).default(30_000),
})

type StreamEntry = [id: string, fields: string[] | null]

/** One start…stop of the consumer: its connection and read loop. */
interface Session {
  readonly connection: RedisClient
  readonly abort: AbortController
  stopped: boolean
  loop: Promise<void>
  stopping?: Promise<void>
}

/**
 * Reads the `gf:reports` stream through a consumer group (tracker side, leader only: members of one group share
 * the entries, so a standby that also read would steal reports from the leader).
 *
 * - The group is created on first use (`XGROUP CREATE … $ MKSTREAM`; BUSYGROUP means it exists). It starts at
 *   the end of the stream: history is in the report hashes, which the new leader loads with `loadAllReports`.
 * - On start the consumer first re-reads its own pending entries (a restart under the same name), then blocks
 *   on new ones with `XREADGROUP … BLOCK` on a dedicated connection.
 * - Every entry is validated with the wire schema; a bad one is passed to `onReject` and acknowledged.
 * - Every `claimIdleMs` it takes over entries other consumers left unacknowledged for that long (`XAUTOCLAIM`),
 *   so reports delivered to a leader that died are not lost, and removes consumers that are idle and have no
 *   pending entries, so the group does not collect one dead consumer per failover.
 * - Delivery is at least once. An entry is acknowledged after `onReport` returned or threw: a report is a
 *   snapshot that the next one supersedes, so one that makes the handler fail is not retried forever.
 */
export class ReportConsumer {
  private readonly options: ReportConsumerOptions
  private readonly consumerName: string
  private readonly group: string
  private readonly batchSize: number
  private readonly blockMs: number
  private readonly claimIdleMs: number
  private readonly logger: CoordinationLogger
  private readonly counters: ReportConsumerStats = {
    delivered: 0,
    rejected: 0,
    claimed: 0,
    handlerErrors: 0,
    readErrors: 0,
  }
  private session: Session | undefined
  private handling = false

  /** @throws InvalidOptionsError */
  constructor(options: ReportConsumerOptions) {
    const parsed = optionsSchema.safeParse(options)
    if (!parsed.success) throw new InvalidOptionsError('ReportConsumer', describeIssues(parsed.error))
    this.options = options
    this.consumerName = assertKeyPart('consumer name', options.consumerName)
    this.group = parsed.data.group
    this.batchSize = parsed.data.batchSize
    this.blockMs = parsed.data.blockMs
    this.claimIdleMs = parsed.data.claimIdleMs
    this.logger = options.logger ?? silentLogger
  }

  /**
   * Starts reading in the background on a connection of its own; returns at once (Redis may be unreachable).
   * Can be started again after {@link stop} (a tracker that is elected again).
   */
  start(): void {
    if (this.session) throw new Error('ReportConsumer.start: already started; stop() it first')
    const connection = duplicateRedis(this.options.redis, 'reports', {
      // Waiting is right for this connection: it does nothing but read, and its loop handles the wait.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      // BLOCK reads last blockMs; a command timeout shorter than that would cut every read. The blocking
      // timeout is the safety net for a half-open connection that would otherwise block forever.
      commandTimeout: null,
      blockingTimeout: this.blockMs * 2,
      blockingTimeoutGrace: Math.max(1000, this.blockMs),
    })
    const session: Session = {
      connection,
      abort: new AbortController(),
      stopped: false,
      loop: Promise.resolve(),
    }
    session.loop = this.run(session)
    this.session = session
  }

  /**
   * Stops reading. A batch being handled is finished and acknowledged first (for at most `blockMs`); a read
   * waiting on Redis is cut off at once. Idempotent.
   */
  async stop(): Promise<void> {
    const session = this.session
    if (!session) return
    session.stopping ??= this.shutdown(session)
    await session.stopping
    if (this.session === session) this.session = undefined
  }

  private async shutdown(session: Session): Promise<void> {
    session.stopped = true
    session.abort.abort()
    // A blocked XREADGROUP (or any command queued while Redis is down) would hold the loop; closing the socket
    // ends it now. Entries Redis delivered in that instant stay pending and are claimed later.
    if (this.handling) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        session.loop,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.blockMs)
        }),
      ])
      clearTimeout(timer)
    }
    session.connection.disconnect()
    await session.loop
    await closeRedis(session.connection)
  }

  /** Counters since construction. */
  stats(): Readonly<ReportConsumerStats> {
    return { ...this.counters }
  }

  private async run(session: Session): Promise<void> {
    const { connection } = session
    const key = keysOf(connection).reports
    let groupReady = false
    let ownPending = true
    let nextClaimAt = 0
    let failures = 0
    while (!session.stopped) {
      try {
        if (!groupReady) {
          await this.ensureGroup(connection, key)
          groupReady = true
        }
        if (ownPending) {
          // Our own unacknowledged entries from before a restart under the same name ("0" = pending history).
          const count = await this.read(connection, key, '0')
          if (count === 0) ownPending = false
        } else {
          if (Date.now() >= nextClaimAt) {
            await this.claimStale(session, key)
            nextClaimAt = Date.now() + this.claimIdleMs
          }
          await this.read(connection, key, '>')
        }
        failures = 0
      } catch (error) {
        if (session.stopped) break
        this.counters.readErrors += 1
        failures += 1
        const message = error instanceof Error ? error.message : String(error)
        // The stream or the group vanished (Redis lost its data, someone deleted the key): create them again.
        if (message.startsWith('NOGROUP')) groupReady = false
        this.logger.warn({ consumer: this.consumerName, ...errorFields(error) }, 'report stream read failed')
        await this.pause(session, failures)
      }
    }
  }

  /**
   * After a failure: wait for the connection to come back when it is down (a condition, not a guess); when it is
   * up and the error is something else, back off so a persistent error (WRONGTYPE…) does not spin the loop.
   */
  private async pause(session: Session, failures: number): Promise<void> {
    const { connection, abort } = session
    if (connection.status !== 'ready') {
      await waitForReady(connection, DEFAULT_RECONNECT.maxDelayMs * 2, abort.signal)
      return
    }
    await pause(reconnectDelay(failures), abort.signal)
  }

  private async ensureGroup(connection: RedisClient, key: string): Promise<void> {
    try {
      await connection.xgroup('CREATE', key, this.group, '$', 'MKSTREAM')
      this.logger.info({ stream: key, group: this.group }, 'created report consumer group')
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return
      throw error
    }
  }

  private async read(connection: RedisClient, key: string, from: '0' | '>'): Promise<number> {
    const reply: unknown =
      from === '>'
        ? await connection.xreadgroup(
            'GROUP',
            this.group,
            this.consumerName,
            'COUNT',
            this.batchSize,
            'BLOCK',
            this.blockMs,
            'STREAMS',
            key,
            from,
          )
        : await connection.xreadgroup(
            'GROUP',
            this.group,
            this.consumerName,
            'COUNT',
            this.batchSize,
            'STREAMS',
            key,
            from,
          )
    const entries = streamEntries(reply)
    await this.handle(connection, key, entries, false)
    return entries.length
  }

  private async claimStale(session: Session, key: string): Promise<void> {
    const { connection } = session
    let cursor = '0-0'
    // Bounded: a huge backlog is worked off over several passes, between which fresh reports are read.
    for (let round = 0; round < 10; round += 1) {
      const reply = await connection.xautoclaim(
        key,
        this.group,
        this.consumerName,
        this.claimIdleMs,
        cursor,
        'COUNT',
        this.batchSize,
      )
      if (!Array.isArray(reply)) break
      const entries = streamEntries([[key, reply[1]]])
      if (entries.length > 0) {
        this.counters.claimed += entries.length
        this.logger.info(
          { consumer: this.consumerName, count: entries.length },
          'claimed stale report entries',
        )
      }
      await this.handle(connection, key, entries, true)
      cursor = typeof reply[0] === 'string' ? reply[0] : '0-0'
      if (cursor === '0-0' || session.stopped) break
    }
    await this.removeIdleConsumers(connection, key)
  }

  private async removeIdleConsumers(connection: RedisClient, key: string): Promise<void> {
    const reply: unknown = await connection.xinfo('CONSUMERS', key, this.group)
    if (!Array.isArray(reply)) return
    for (const row of reply) {
      if (!Array.isArray(row)) continue
      const info = new Map<string, unknown>()
      for (let i = 0; i + 1 < row.length; i += 2) info.set(String(row[i]), row[i + 1])
      const name = info.get('name')
      if (typeof name !== 'string' || name === this.consumerName) continue
      if (Number(info.get('pending')) === 0 && Number(info.get('idle')) >= this.claimIdleMs) {
        // DELCONSUMER drops the consumer's pending entries too: only those that have none are removed.
        await connection.xgroup('DELCONSUMER', key, this.group, name)
      }
    }
  }

  private async handle(connection: RedisClient, key: string, entries: StreamEntry[], claimed: boolean) {
    if (entries.length === 0) return
    this.handling = true
    try {
      await this.handleEntries(connection, key, entries, claimed)
    } finally {
      this.handling = false
    }
  }

  private async handleEntries(
    connection: RedisClient,
    key: string,
    entries: StreamEntry[],
    claimed: boolean,
  ) {
    const ack: string[] = []
    for (const [id, fields] of entries) {
      ack.push(id)
      // A pending entry whose data was trimmed away by MAXLEN: nothing left to handle.
      if (fields === null) continue
      const parsed = parseEntry(key, id, fields)
      if (!parsed.ok) {
        this.counters.rejected += 1
        this.logger.warn(
          { consumer: this.consumerName, entry: id, reason: parsed.reason },
          'rejected report entry',
        )
        try {
          this.options.onReject?.({ id, reason: parsed.reason })
        } catch (error) {
          this.logger.error({ consumer: this.consumerName, ...errorFields(error) }, 'onReject threw')
        }
        continue
      }
      try {
        await this.options.onReport(parsed.report, { id, claimed })
        this.counters.delivered += 1
      } catch (error) {
        this.counters.handlerErrors += 1
        this.logger.error(
          {
            consumer: this.consumerName,
            entry: id,
            sidecarId: parsed.report.sidecarId,
            ...errorFields(error),
          },
          'report handler failed',
        )
      }
    }
    await connection.xack(key, this.group, ...ack)
  }
}

function streamEntries(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return []
  const entries: StreamEntry[] = []
  for (const stream of reply) {
    if (!Array.isArray(stream) || !Array.isArray(stream[1])) continue
    for (const entry of stream[1]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue
      const fields = Array.isArray(entry[1]) ? entry[1].map(String) : null
      entries.push([entry[0], fields])
    }
  }
  return entries
}

function parseEntry(
  key: string,
  id: string,
  fields: string[],
): { ok: true; report: SidecarReport } | { ok: false; reason: string } {
  let text: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === REPORT_STREAM_FIELD) text = fields[i + 1]
  if (text === undefined) return { ok: false, reason: `no "${REPORT_STREAM_FIELD}" field` }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, reason: `"${REPORT_STREAM_FIELD}" is not JSON: ${JSON.stringify(text.slice(0, 60))}` }
  }
  try {
    return { ok: true, report: parseWith(sidecarReportSchema, json, `redis ${key} ${id}`) }
  } catch (error) {
    if (error instanceof ValidationError) return { ok: false, reason: error.message }
    throw error
  }
}

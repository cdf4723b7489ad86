import { closeRedis, duplicateRedis, type RedisClient } from './connection.js'
import { assertKeyPart, keysOf } from './keys.js'
import { type CoordinationLogger, errorFields, silentLogger } from './logger.js'

/** A live subscription made by {@link subscribeDesiredState}. */
export interface DesiredStateSubscription {
  /** Resolves once the first SUBSCRIBE succeeded (waits for Redis; never needed for correctness). */
  readonly ready: Promise<void>
  /** Unsubscribes and closes the subscriber connection. */
  close(): Promise<void>
}

/** Options for {@link subscribeDesiredState}. */
export interface SubscribeDesiredStateOptions {
  logger?: CoordinationLogger
}

/**
 * Calls `onWake` whenever the tracker writes a new desired state for `sidecarId` (sidecar side), so the sidecar
 * reacts within milliseconds instead of at its next tick.
 *
 * The design is level-triggered: the notification carries nothing the sidecar trusts, only "look again". The
 * sidecar re-reads its desired state on every report tick anyway, so a notification lost while the subscriber
 * was disconnected (pub/sub does not buffer) costs at most one tick, never a mode. For the same reason
 * `onWake` is also called after every reconnect of the subscriber.
 *
 * Uses a connection of its own (a subscribed connection cannot run other commands), which queues SUBSCRIBE
 * until Redis is reachable; returns at once.
 */
export function subscribeDesiredState(
  redis: RedisClient,
  sidecarId: string,
  onWake: () => void,
  options: SubscribeDesiredStateOptions = {},
): DesiredStateSubscription {
  const channel = keysOf(redis).notify(assertKeyPart('sidecar id', sidecarId))
  const logger = options.logger ?? silentLogger
  const subscriber = duplicateRedis(redis, 'subscriber', {
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: null,
  })
  const wake = () => {
    try {
      onWake()
    } catch (error) {
      logger.error({ sidecarId, ...errorFields(error) }, 'desired-state wake-up handler threw')
    }
  }
  let subscribed = false
  subscriber.on('message', (from: string) => {
    if (from === channel) wake()
  })
  subscriber.on('ready', () => {
    // ioredis re-subscribes by itself after a reconnect; whatever was published meanwhile is lost, so look now.
    if (subscribed) wake()
  })
  const ready = subscriber.subscribe(channel).then(() => {
    subscribed = true
  })
  // `ready` rejects only when the subscription is closed before Redis was ever reachable.
  ready.catch(() => {})
  return {
    ready,
    async close() {
      await closeRedis(subscriber)
    },
  }
}

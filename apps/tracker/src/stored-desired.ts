/**
 * What previous leaders stored, read by a new leader before it writes anything: the desired states (to adopt
 * unfinished commands) and the generations (to continue above them).
 *
 * With a fleet key, a stored state is adopted only if its signature verifies: a state forged straight into Redis
 * must not be re-signed and re-issued by the new leader. Its generation still counts as a floor.
 * A state under an epoch above the epoch counter (no election handed it out) is never adopted, with or without a
 * key, and its generation is no floor either: the new leader's first write replaces it whatever its token.
 */

import {
  type FleetKey,
  InvalidDesiredStateError,
  type RedisClient,
  readDesiredState,
  UnelectedEpochDesiredStateError,
} from '@ghostfleet/coordination'
import type { DesiredState } from '@ghostfleet/core'
import type { Logger } from '@ghostfleet/telemetry'
import { storedGeneration } from './desired-writer.js'

export interface StoredDesired {
  states: Map<string, DesiredState>
  generations: Map<string, number>
}

const BATCH = 200

export async function loadStoredDesired(
  redis: RedisClient,
  sidecarIds: readonly string[],
  fleetKey: FleetKey | null,
  logger: Logger,
): Promise<StoredDesired> {
  const result: StoredDesired = { states: new Map(), generations: new Map() }
  for (let start = 0; start < sidecarIds.length; start += BATCH) {
    const batch = sidecarIds.slice(start, start + BATCH)
    await Promise.all(
      batch.map(async (id) => {
        try {
          const state = await readDesiredState(redis, id, { fleetKey, fenceByLeaderEpoch: false })
          if (state !== null) {
            result.states.set(id, state)
            result.generations.set(id, state.generation)
          }
        } catch (error) {
          if (!(error instanceof InvalidDesiredStateError)) throw error
          logger.warn(
            { sidecarId: id, code: error.code, err: error.message },
            'stored desired state not adopted',
          )
          if (!(error instanceof UnelectedEpochDesiredStateError)) {
            result.generations.set(id, await storedGeneration(redis, id))
          }
        }
      }),
    )
  }
  return result
}

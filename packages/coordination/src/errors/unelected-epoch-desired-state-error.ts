import { InvalidDesiredStateError } from './invalid-desired-state-error.js'

/**
 * The desired state carries leader epoch `stateEpoch`, above the epoch counter (`leaderEpoch`). Every election
 * raises the counter before its leader writes, and the counter never goes down, so no election handed that
 * epoch out: the state was written straight into Redis (forged, or a tool gone wrong) or the counter was lost.
 * It is never applied; the leader overwrites it on its next write.
 */
export class UnelectedEpochDesiredStateError extends InvalidDesiredStateError {
  override readonly name: string = 'UnelectedEpochDesiredStateError'

  constructor(
    sidecarId: string,
    readonly stateEpoch: number,
    readonly leaderEpoch: number,
  ) {
    super(
      sidecarId,
      'unelected-epoch',
      `issued under epoch ${stateEpoch}, above the leader epoch counter ${leaderEpoch}: no election handed it out`,
    )
  }
}

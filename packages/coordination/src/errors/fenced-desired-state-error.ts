import { InvalidDesiredStateError } from './invalid-desired-state-error.js'

/**
 * The desired state was issued under leader epoch `stateEpoch`, but a newer leader (epoch `leaderEpoch`) has
 * been elected since. A deposed tracker wrote it, or the new leader has not rewritten it yet; either way the
 * sidecar holds until a state from the current epoch arrives.
 */
export class FencedDesiredStateError extends InvalidDesiredStateError {
  override readonly name: string = 'FencedDesiredStateError'

  constructor(
    sidecarId: string,
    readonly stateEpoch: number,
    readonly leaderEpoch: number,
  ) {
    super(
      sidecarId,
      'stale-epoch',
      `issued under epoch ${stateEpoch}, the current leader epoch is ${leaderEpoch}`,
    )
  }
}

import { CoordinationError } from './coordination-error.js'

/** A bootstrap record (given to write, or read from Redis) fails validation. Nothing was written or used. */
export class InvalidBootstrapRecordError extends CoordinationError {
  override readonly name: string = 'InvalidBootstrapRecordError'

  /**
   * @param key the Redis key read, or "(not written)".
   * @param reason every problem found.
   */
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`bootstrap record ${key} rejected: ${reason}`)
  }
}

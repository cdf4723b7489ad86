import { CoordinationError } from './coordination-error.js'

/** A pool-progress record (given to write, or read from Redis) fails validation. Nothing was written or used. */
export class InvalidPoolProgressError extends CoordinationError {
  override readonly name: string = 'InvalidPoolProgressError'

  /**
   * @param key the Redis key read or about to be written.
   * @param reason every problem found.
   */
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`pool progress ${key} rejected: ${reason}`)
  }
}

import { CoordinationError } from './coordination-error.js'

/** The fleet key (usually `GHOSTFLEET_FLEET_KEY`) is not usable. The message says how to make a good one. */
export class InvalidFleetKeyError extends CoordinationError {
  override readonly name: string = 'InvalidFleetKeyError'

  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(
      `${source}: ${reason}. A fleet key is at least 32 random bytes written as hex or base64; ` +
        'generate one with `openssl rand -hex 32`',
    )
  }
}

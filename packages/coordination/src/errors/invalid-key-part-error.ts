import { CoordinationError } from './coordination-error.js'

/**
 * A sidecar id, chain id or pool id cannot be part of a Redis key. Ids must not contain `{`, `}` (they would
 * move the Cluster hash tag), `:` (the key separator) or whitespace. No key was built, nothing was sent.
 */
export class InvalidKeyPartError extends CoordinationError {
  override readonly name: string = 'InvalidKeyPartError'

  constructor(
    readonly kind: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`invalid ${kind} ${JSON.stringify(value) ?? String(value)}: ${reason}`)
  }
}

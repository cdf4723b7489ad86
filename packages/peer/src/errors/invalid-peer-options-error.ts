import { PeerError } from './peer-error.js'

/**
 * Options given to {@link startPeerServer} or {@link createPeerClient} (or one call of the client) are unusable.
 * Nothing was bound or sent: fix the configuration. The message names every problem and never contains the key.
 */
export class InvalidPeerOptionsError extends PeerError {
  override readonly name: string = 'InvalidPeerOptionsError'

  /**
   * @param where what was being configured (`startPeerServer`, `PeerClient.request`, …).
   * @param problems one line per problem, each naming the option (`limits.windowMs: …`).
   */
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}: invalid options: ${problems.join('; ')}`)
  }
}

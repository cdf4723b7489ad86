import { PeerError } from './peer-error.js'

/** The peer listener could not bind its address (in use, not a local address, no permission). Nothing listens. */
export class PeerListenError extends PeerError {
  override readonly name: string = 'PeerListenError'

  /**
   * @param address `host:port` that was asked for.
   * @param reason the system's reason (`listen EADDRINUSE: address already in use 127.0.0.1:26671`).
   */
  constructor(
    readonly address: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`peer listener cannot listen on ${address}: ${reason}`, options)
  }
}

import { PeerError } from './peer-error.js'

/**
 * No complete answer arrived: the connection was refused or reset, the peer was silent past the timeout, or the
 * caller aborted. `cause` holds the underlying error.
 */
export class PeerUnreachableError extends PeerError {
  override readonly name: string = 'PeerUnreachableError'

  /**
   * @param url the peer's base URL and the path asked for.
   * @param reason the transport failure in words (`connect ECONNREFUSED 127.0.0.1:26671`, `no answer in 5000 ms`).
   */
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${url}: no answer: ${reason}`, options)
  }
}

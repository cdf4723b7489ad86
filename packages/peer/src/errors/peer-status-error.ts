import type { IncomingHttpHeaders } from 'node:http'
import { PeerError } from './peer-error.js'

/**
 * A download was answered, validly signed, with a status other than 200/206 (404: no such file; 416: the range
 * starts past the end, `headers['content-range']` gives the size). The answer is authentic; the file is not there.
 */
export class PeerStatusError extends PeerError {
  override readonly name: string = 'PeerStatusError'

  /**
   * @param url the peer's base URL and the path asked for.
   * @param status the status the handler answered.
   * @param headers the (signed) response headers.
   * @param detail the start of the answer's body, for the message.
   */
  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly detail: string,
  ) {
    super(`${url}: peer answered ${status}${detail === '' ? '' : `: ${detail}`}`)
  }
}

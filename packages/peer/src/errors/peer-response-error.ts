import { PeerError } from './peer-error.js'

/**
 * Why an answer was not accepted:
 * - `unsigned`: no response signature (not a Ghostfleet peer listener, or something in between answered);
 * - `bad-signature`: the signature does not match (another fleet key, or the answer was altered);
 * - `body-hash`: the body does not match its signed hash (altered or truncated in transit);
 * - `chain-mismatch`: a valid answer from a sidecar serving another chain than expected;
 * - `too-large`: the body is above the client's `maxResponseBytes`;
 * - `malformed`: a header the signature needs is missing or not in its format.
 */
export type PeerResponseProblem =
  | 'unsigned'
  | 'bad-signature'
  | 'body-hash'
  | 'chain-mismatch'
  | 'too-large'
  | 'malformed'

/** An answer that cannot be trusted or used; its content was discarded. */
export class PeerResponseError extends PeerError {
  override readonly name: string = 'PeerResponseError'

  /**
   * @param url the peer's base URL and the path asked for.
   * @param problem what was wrong.
   * @param detail the specifics in words (never a signature or the key).
   */
  constructor(
    readonly url: string,
    readonly problem: PeerResponseProblem,
    readonly detail: string,
  ) {
    super(`${url}: answer rejected (${problem}): ${detail}`)
  }
}

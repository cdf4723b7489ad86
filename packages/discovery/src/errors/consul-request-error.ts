import { DiscoveryError } from './discovery-error.js'

/**
 * A call to the Consul HTTP API failed: the agent was unreachable or too slow (`status` undefined), or it
 * answered with an error status (`status` set, `reason` is the agent's own text, e.g. `ACL not found`).
 */
export class ConsulRequestError extends DiscoveryError {
  override readonly name: string = 'ConsulRequestError'

  /**
   * @param operation what was attempted, in words (`register service ghostfleet-sidecar-a-1`).
   * @param url the endpoint, without credentials or token.
   * @param status the HTTP status the agent answered with; undefined when no answer arrived.
   * @param reason the agent's error text, or the transport failure (`connect ECONNREFUSED 127.0.0.1:8500`).
   */
  constructor(
    readonly operation: string,
    readonly url: string,
    readonly status: number | undefined,
    readonly reason: string,
  ) {
    super(
      status === undefined
        ? `${operation}: no answer from ${url}: ${reason}`
        : `${operation}: ${url} answered ${status}: ${reason}`,
    )
  }
}

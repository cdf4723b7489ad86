/**
 * One KYVE client per chain (and per endpoint list, when a pool overrides the chain's endpoints). Pools of one
 * chain share it, and with it the per-endpoint health: an endpoint that failed for one pool is asked last for the
 * next pool too.
 */
import { createKyveClient, type KyveClient, type RequestEvent } from '@ghostfleet/kyve'

export interface KyveClientsOptions {
  /** Upper bound of one `getPool` call including retries: the poll interval, so a poll never overlaps the next. */
  deadlineMs: number
  /** Upper bound of one request. */
  requestTimeoutMs: number
  onRequest: (chainId: string, event: RequestEvent) => void
}

export class KyveClients {
  private readonly clients = new Map<string, KyveClient>()
  private readonly options: KyveClientsOptions

  constructor(options: KyveClientsOptions) {
    this.options = options
  }

  /** @throws UnknownChainError for a chain without presets and without configured endpoints. */
  get(chainId: string, endpoints: readonly string[] | undefined): KyveClient {
    const key = `${chainId} ${endpoints?.join(' ') ?? ''}`
    let client = this.clients.get(key)
    if (client === undefined) {
      client = createKyveClient({
        chainId,
        ...(endpoints === undefined ? {} : { endpoints }),
        deadlineMs: this.options.deadlineMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
        onRequest: (event) => this.options.onRequest(chainId, event),
      })
      this.clients.set(key, client)
    }
    return client
  }

  /** Every client's endpoint health, for the fleet API. */
  health(): Array<{ chainId: string; endpoints: ReturnType<KyveClient['health']> }> {
    return [...this.clients.values()].map((client) => ({
      chainId: client.chainId,
      endpoints: client.health(),
    }))
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.close()
    this.clients.clear()
  }
}

/**
 * A fake Consul agent (one dev-mode node: agent, catalog and health on the same process) speaking the
 * documented HTTP API on 127.0.0.1, for tests on machines where no real agent can be installed. It is a fake of
 * the API, not of Consul's internals: where the two differ the documentation (and, where the docs are silent,
 * the agent's source) decides.
 *
 * Pages checked (developer.hashicorp.com/consul/api-docs/…, read from hashicorp/consul `website/content/api-docs`):
 * - agent/service "Register Service": `PUT /v1/agent/service/register`, body `ID` (defaults to `Name`), `Name`
 *   (required), `Tags`, `Address`, `Port`, `Meta`, `EnableTagOverride`, `Weights`, `Check` / `Checks`; query
 *   `replace-existing-checks`; camel and snake case keys. Validation and its 400 reasons follow
 *   `AgentRegisterService` in `agent/agent_endpoint.go` (see `register-body.ts`).
 * - agent/service "Deregister Service": `PUT /v1/agent/service/deregister/:service_id`; an unknown id is
 *   `404 Unknown service ID "x". Ensure that the service ID is passed, not the service name.`, as
 *   `vetServiceUpdateWithAuthorizer` answers since Consul 1.9 (the page's "no action is taken" predates it).
 * - agent/service "List Services": `GET /v1/agent/services` (map of id to `{ID, Service, Tags, Meta, Port,
 *   Address, Weights, EnableTagOverride, Datacenter}`; empty tags and meta as `[]` and `{}`).
 * - agent/service "Get Service Configuration": `GET /v1/agent/service/:service_id`, with `ContentHash` and the
 *   `X-Consul-ContentHash` header; unknown id `404 unknown service ID: x` (hash-based blocking not implemented).
 * - agent/check "List Checks" (`GET /v1/agent/checks`) and "Register Check" for the check fields: `HTTP`,
 *   `Method`, `Header`, `Body`, `TCP`, `Interval` (required for HTTP/TCP; Consul's minimum 1s), `Timeout`
 *   (default 10s), `DeregisterCriticalServiceAfter` (minimum 1 minute, reaper every 30 seconds), `Status`
 *   (initial status; critical when absent), `SuccessBeforePassing`, `FailuresBeforeCritical`. HTTP: 2xx
 *   passing, 429 warning, else critical. The fake runs HTTP and TCP checks itself; other kinds get a 501.
 * - health "List Service Instances for Service": `GET /v1/health/service/:service` → `[{Node, Service,
 *   Checks}]`, `Checks` including the node's `serfHealth`; `?passing` keeps instances whose every check passes;
 *   `?tag=`, `?dc=` (another datacenter: `500 No path to datacenter`).
 * - catalog "List Services" (`GET /v1/catalog/services` → `{name: [tags]}`) and "List Nodes for Service"
 *   (`GET /v1/catalog/service/:service` → `[{Node, Address, ServiceID, ServiceName, ServiceTags,
 *   ServiceAddress, ServicePort, ServiceMeta, …}]`).
 * - features/blocking: `X-Consul-Index` on health and catalog reads; `?index=` blocks until a change or
 *   `?wait=` (default 5m, max 10m, plus up to wait/16 jitter).
 * - api-structure "Authentication", "Default ACL Policy", "Results Filtered by ACLs": the token comes from
 *   `X-Consul-Token`, `Authorization: Bearer` or `?token=`. With a token configured the fake enforces ACLs with
 *   default policy deny: an unknown token is `403 ACL not found` everywhere; no token is the anonymous token,
 *   whose writes and single-service reads are `403 Permission denied: anonymous token lacks permission
 *   'service:write' on "name"` and whose list reads come back filtered to nothing (200, as Consul does, which
 *   is why an unconfigured token shows up as an empty fleet rather than an error).
 *   `X-Consul-Default-ACL-Policy` is on every answer.
 *
 * Not faked: other endpoints (404), `?filter=` (501), namespaces/partitions, more than one node, the
 * anti-entropy delay between agent and catalog.
 *
 * @example
 * const consul = await startFakeConsul({ minCheckIntervalMs: 20, minDeregisterCriticalAfterMs: 0, reapIntervalMs: 50 })
 * // … point a client at consul.url …
 * await consul.restart()   // agent restarted without its data dir: every registration is forgotten
 * await consul.stop()      // agent down (connections refused) until consul.start()
 * await consul.close()
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { AgentState, type AgentTimings, type CheckState, type ServiceState } from './agent-state.js'
import { FakeConsulHandler, type RecordedRequest } from './server.js'

export type { CheckState, RecordedRequest, ServiceState }

export interface FakeConsulOptions extends Partial<AgentTimings> {
  /** With a token, ACLs are enforced (default policy deny) and this token may do everything. */
  aclToken?: string
  /** @default 'dc1' */
  datacenter?: string
  /** @default 'fake-node' */
  node?: string
  /** Print what the agent does to stderr. @default false */
  verbose?: boolean
}

export interface FakeConsul {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[]
  /** The services the agent holds now, by id. */
  services(): ReadonlyMap<string, ServiceState>
  /** The status of a service's checks now (empty when the service is unknown). */
  checkStatuses(serviceId: string): string[]
  /** Agent down: the port refuses connections, checks and the reaper pause. Registrations are kept. */
  stop(): Promise<void>
  /** Agent up again on the same port, with whatever state it kept. */
  start(): Promise<void>
  /** Agent restarted; by default without its data directory, so every registration is forgotten. */
  restart(options?: { keepState?: boolean }): Promise<void>
  /** Stops for good. */
  close(): Promise<void>
}

/** Starts a fake agent on 127.0.0.1 (a free port unless `port` is given). Timings default to Consul's. */
export async function startFakeConsul(
  options: FakeConsulOptions & { port?: number } = {},
): Promise<FakeConsul> {
  const log = options.verbose
    ? (message: string) => process.stderr.write(`[fake-consul] ${message}\n`)
    : () => {}
  const state = new AgentState(
    {
      minCheckIntervalMs: options.minCheckIntervalMs ?? 1_000,
      minDeregisterCriticalAfterMs: options.minDeregisterCriticalAfterMs ?? 60_000,
      reapIntervalMs: options.reapIntervalMs ?? 30_000,
    },
    log,
  )
  const handler = new FakeConsulHandler(
    state,
    {
      datacenter: options.datacenter ?? 'dc1',
      node: options.node ?? 'fake-node',
      nodeId: '6f1e2a1c-0b5e-4d43-9a3e-3c1f9d1b7a10',
      address: '127.0.0.1',
    },
    options.aclToken,
    log,
  )
  const server = http.createServer((req, res) => {
    void handler.handle(req, res)
  })
  let port = options.port ?? 0
  let listening = false

  const start = async () => {
    if (listening) return
    server.listen(port, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
    listening = true
    state.resume()
  }
  const stop = async () => {
    if (!listening) return
    listening = false
    state.pause()
    const closed = once(server, 'close')
    server.close()
    server.closeAllConnections()
    await closed
  }

  await start()
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    requests: handler.requests,
    services: () => new Map(state.services),
    checkStatuses: (serviceId) => state.checksOf(serviceId).map((check) => check.status),
    stop,
    start,
    async restart(restartOptions = {}) {
      await stop()
      if (!restartOptions.keepState) state.forget()
      await start()
    },
    async close() {
      await stop()
      state.forget()
    },
  }
}

/**
 * The HTTP side of the fake agent: routing, ACL tokens, blocking queries and the JSON shapes of the answers.
 * See `index.ts` for the documentation pages each endpoint follows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AgentState, CheckState, ServiceState } from './agent-state.js'
import { formatDuration, parseDuration } from './go-duration.js'
import { decodeServiceRegistration, RequestRejection } from './register-body.js'

export interface NodeIdentity {
  datacenter: string
  node: string
  nodeId: string
  address: string
}

/** One request as the fake saw it, for assertions (the token itself is not kept). */
export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  /** How the caller authenticated: no token, the configured one, or another one. */
  token: 'none' | 'valid' | 'invalid'
  status: number
}

type Caller = 'management' | 'anonymous'

const DEFAULT_WAIT_MS = 5 * 60_000
const MAX_WAIT_MS = 10 * 60_000

export class FakeConsulHandler {
  readonly requests: RecordedRequest[] = []

  constructor(
    private readonly state: AgentState,
    private readonly identity: NodeIdentity,
    private readonly aclToken: string | undefined,
    private readonly log: (message: string) => void,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-consul')
    const query = Object.fromEntries(url.searchParams)
    const method = req.method ?? 'GET'
    const token = this.#token(req, url)
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      token:
        token === undefined
          ? 'none'
          : token === this.aclToken || this.aclToken === undefined
            ? 'valid'
            : 'invalid',
      status: 0,
    }
    this.requests.push(record)
    res.on('finish', () => {
      record.status = res.statusCode
    })
    // Every answer since Consul 1.9 says which default policy is in force, even with ACLs off.
    res.setHeader('X-Consul-Default-ACL-Policy', this.aclToken === undefined ? 'allow' : 'deny')
    try {
      const caller = this.#caller(token)
      await this.#route(req, res, url, method, caller, token !== undefined)
    } catch (error) {
      if (error instanceof RequestRejection) text(res, error.status, error.reason)
      else {
        this.log(`internal error: ${error instanceof Error ? error.stack : String(error)}`)
        text(res, 500, error instanceof Error ? error.message : String(error))
      }
    }
  }

  async #route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    caller: Caller,
    authenticated: boolean,
  ): Promise<void> {
    const path = url.pathname
    const tail = (prefix: string) => decodeURIComponent(path.slice(prefix.length))
    if (path === '/v1/agent/service/register') {
      allow(method, 'PUT')
      return this.#register(req, res, url, caller)
    }
    if (path.startsWith('/v1/agent/service/deregister/')) {
      allow(method, 'PUT')
      return this.#deregister(res, tail('/v1/agent/service/deregister/'), caller)
    }
    if (path === '/v1/agent/services') {
      allow(method, 'GET')
      noFilter(url)
      return this.#agentServices(res, caller, authenticated)
    }
    if (path === '/v1/agent/checks') {
      allow(method, 'GET')
      noFilter(url)
      return this.#agentChecks(res, caller, authenticated)
    }
    if (path.startsWith('/v1/agent/service/') && !path.slice('/v1/agent/service/'.length).includes('/')) {
      allow(method, 'GET')
      return this.#agentService(res, tail('/v1/agent/service/'), caller)
    }
    if (path.startsWith('/v1/health/service/')) {
      allow(method, 'GET')
      return this.#blocking(req, res, url, () =>
        this.#healthService(url, tail('/v1/health/service/'), caller, authenticated),
      )
    }
    if (path === '/v1/catalog/services') {
      allow(method, 'GET')
      return this.#blocking(req, res, url, () => this.#catalogServices(url, caller, authenticated))
    }
    if (path.startsWith('/v1/catalog/service/')) {
      allow(method, 'GET')
      return this.#blocking(req, res, url, () =>
        this.#catalogService(url, tail('/v1/catalog/service/'), caller, authenticated),
      )
    }
    text(res, 404, '404 page not found')
  }

  // PUT /v1/agent/service/register
  async #register(req: IncomingMessage, res: ServerResponse, url: URL, caller: Caller): Promise<void> {
    const body = await readBody(req)
    const definition = decodeServiceRegistration(body)
    if (caller === 'anonymous') throw permissionDenied('service:write', definition.Name)
    const replace = url.searchParams.has('replace-existing-checks')
      ? ['', 'true'].includes(url.searchParams.get('replace-existing-checks') ?? '')
      : false
    this.state.register(definition, replace)
    res.writeHead(200).end()
  }

  // PUT /v1/agent/service/deregister/:service_id
  #deregister(res: ServerResponse, serviceId: string, caller: Caller): void {
    const existing = this.state.services.get(serviceId)
    if (existing === undefined) {
      throw new RequestRejection(
        404,
        `Unknown service ID ${JSON.stringify(serviceId)}. Ensure that the service ID is passed, not the service name.`,
      )
    }
    if (caller === 'anonymous') throw permissionDenied('service:write', existing.definition.Name)
    this.state.deregister(serviceId)
    this.log(`deregistered service ${serviceId}`)
    res.writeHead(200).end()
  }

  // GET /v1/agent/services
  #agentServices(res: ServerResponse, caller: Caller, authenticated: boolean): void {
    const all = [...this.state.services.values()]
    const visible = caller === 'management' ? all : []
    filteredHeader(res, authenticated, all.length !== visible.length)
    json(
      res,
      200,
      Object.fromEntries(visible.map((service) => [service.definition.ID, this.#agentService_(service)])),
    )
  }

  // GET /v1/agent/service/:service_id
  #agentService(res: ServerResponse, serviceId: string, caller: Caller): void {
    const service = this.state.services.get(serviceId)
    if (service === undefined) throw new RequestRejection(404, `unknown service ID: ${serviceId}`)
    if (caller === 'anonymous') throw permissionDenied('service:read', service.definition.Name)
    const body = this.#agentService_(service)
    const hash = contentHash(JSON.stringify(body))
    res.setHeader('X-Consul-ContentHash', hash)
    json(res, 200, { ...body, ContentHash: hash })
  }

  // GET /v1/agent/checks
  #agentChecks(res: ServerResponse, caller: Caller, authenticated: boolean): void {
    const all = [...this.state.checks.values()]
    const visible = caller === 'management' ? all : []
    filteredHeader(res, authenticated, all.length !== visible.length)
    json(res, 200, Object.fromEntries(visible.map((check) => [check.definition.CheckID, this.#check(check)])))
  }

  // GET /v1/health/service/:service
  #healthService(url: URL, name: string, caller: Caller, authenticated: boolean): Answer {
    this.#datacenter(url)
    noFilter(url)
    const passing = boolParam(url, 'passing')
    const tags = url.searchParams.getAll('tag')
    const all = this.#instances(name, tags)
    const visible = caller === 'management' ? all : []
    const entries = visible
      .map((service) => ({
        Node: this.#node(),
        Service: this.#healthServiceBody(service),
        Checks: [
          this.#serfHealth(),
          ...this.state.checksOf(service.definition.ID).map((check) => this.#check(check)),
        ],
      }))
      .filter((entry) => !passing || entry.Checks.every((check) => check.Status === 'passing'))
    return { body: entries, filtered: authenticated && visible.length !== all.length }
  }

  // GET /v1/catalog/services
  #catalogServices(url: URL, caller: Caller, authenticated: boolean): Answer {
    this.#datacenter(url)
    noFilter(url)
    const all = [...this.state.services.values()]
    const visible = caller === 'management' ? all : []
    const byName: Record<string, string[]> = {}
    for (const service of visible) {
      const tags = byName[service.definition.Name] ?? []
      for (const tag of service.definition.Tags) if (!tags.includes(tag)) tags.push(tag)
      byName[service.definition.Name] = tags
    }
    return { body: byName, filtered: authenticated && visible.length !== all.length }
  }

  // GET /v1/catalog/service/:service
  #catalogService(url: URL, name: string, caller: Caller, authenticated: boolean): Answer {
    this.#datacenter(url)
    noFilter(url)
    const all = this.#instances(name, url.searchParams.getAll('tag'))
    const visible = caller === 'management' ? all : []
    const node = this.#node()
    const body = visible.map((service) => ({
      ID: node.ID,
      Node: node.Node,
      Address: node.Address,
      Datacenter: node.Datacenter,
      TaggedAddresses: node.TaggedAddresses,
      NodeMeta: node.Meta,
      ServiceKind: '',
      ServiceID: service.definition.ID,
      ServiceName: service.definition.Name,
      ServiceTags: service.definition.Tags,
      ServiceAddress: service.definition.Address,
      ServiceMeta: service.definition.Meta,
      ServicePort: service.definition.Port,
      ServiceWeights: service.definition.Weights,
      ServiceEnableTagOverride: service.definition.EnableTagOverride,
      ServiceTaggedAddresses: {},
      CreateIndex: service.createIndex,
      ModifyIndex: service.modifyIndex,
    }))
    return { body, filtered: authenticated && visible.length !== all.length }
  }

  /**
   * Index-based blocking queries (API docs, "Blocking Queries"): with `?index=N` the answer waits until the
   * agent's index passes N, or `wait` (default 5m, at most 10m, plus up to wait/16 of jitter) runs out.
   * The fake has one index for everything, so a query may wake for an unrelated change; the docs allow that.
   */
  async #blocking(req: IncomingMessage, res: ServerResponse, url: URL, answer: () => Answer): Promise<void> {
    const rawIndex = url.searchParams.get('index')
    if (rawIndex !== null && rawIndex !== '') {
      if (!/^\d+$/.test(rawIndex)) throw new RequestRejection(400, 'Invalid index')
      let waitMs = DEFAULT_WAIT_MS
      const rawWait = url.searchParams.get('wait')
      if (rawWait !== null && rawWait !== '') {
        const parsed = parseDuration(rawWait)
        if ('error' in parsed || parsed.nanos < 0) throw new RequestRejection(400, 'Invalid wait time')
        waitMs = Math.min(parsed.nanos / 1e6, MAX_WAIT_MS)
      }
      waitMs += Math.random() * (waitMs / 16)
      // Validate before blocking, so a bad request fails at once rather than after the wait.
      answer()
      await new Promise<void>((resolve) => {
        const cancel = this.state.waitForChange(Number(rawIndex), waitMs, resolve)
        req.socket.once('close', () => {
          cancel()
          resolve()
        })
      })
      if (res.destroyed) return
    }
    const { body, filtered } = answer()
    res.setHeader('X-Consul-Index', String(Math.max(1, this.state.index)))
    res.setHeader('X-Consul-KnownLeader', 'true')
    res.setHeader('X-Consul-LastContact', '0')
    filteredHeader(res, filtered, filtered)
    json(res, 200, body)
  }

  #instances(name: string, tags: string[]): ServiceState[] {
    return [...this.state.services.values()].filter(
      (service) =>
        service.definition.Name === name && tags.every((tag) => service.definition.Tags.includes(tag)),
    )
  }

  #datacenter(url: URL): void {
    const dc = url.searchParams.get('dc')
    if (dc !== null && dc !== '' && dc !== this.identity.datacenter) {
      throw new RequestRejection(500, 'No path to datacenter')
    }
  }

  #node() {
    const { address } = this.identity
    return {
      ID: this.identity.nodeId,
      Node: this.identity.node,
      Address: address,
      Datacenter: this.identity.datacenter,
      TaggedAddresses: { lan: address, lan_ipv4: address, wan: address, wan_ipv4: address },
      Meta: { 'consul-network-segment': '' },
      CreateIndex: 1,
      ModifyIndex: 1,
    }
  }

  #agentService_(service: ServiceState) {
    const d = service.definition
    return {
      ID: d.ID,
      Service: d.Name,
      Tags: d.Tags,
      Meta: d.Meta,
      Port: d.Port,
      Address: d.Address,
      Weights: d.Weights,
      EnableTagOverride: d.EnableTagOverride,
      Datacenter: this.identity.datacenter,
    }
  }

  #healthServiceBody(service: ServiceState) {
    const d = service.definition
    return {
      ID: d.ID,
      Service: d.Name,
      Tags: d.Tags,
      Address: d.Address,
      Meta: d.Meta,
      Port: d.Port,
      Weights: d.Weights,
      EnableTagOverride: d.EnableTagOverride,
      CreateIndex: service.createIndex,
      ModifyIndex: service.modifyIndex,
    }
  }

  #check(check: CheckState) {
    const service = this.state.services.get(check.serviceId)?.definition
    const d = check.definition
    return {
      Node: this.identity.node,
      CheckID: d.CheckID,
      Name: d.Name,
      Status: check.status,
      Notes: d.Notes,
      Output: check.output,
      ServiceID: check.serviceId,
      ServiceName: service?.Name ?? '',
      ServiceTags: service?.Tags ?? [],
      Type: d.HTTP !== '' ? 'http' : 'tcp',
      Interval: formatDuration(d.IntervalNs),
      Timeout: formatDuration(d.TimeoutNs),
      Definition: {
        HTTP: d.HTTP,
        TCP: d.TCP,
        Interval: formatDuration(d.IntervalNs),
        Timeout: formatDuration(d.TimeoutNs),
        DeregisterCriticalServiceAfter: formatDuration(d.DeregisterCriticalServiceAfterNs),
      },
      CreateIndex: check.createIndex,
      ModifyIndex: check.modifyIndex,
    }
  }

  /** The node-level check every real node carries; the fake node is always alive. */
  #serfHealth() {
    return {
      Node: this.identity.node,
      CheckID: 'serfHealth',
      Name: 'Serf Health Status',
      Status: 'passing',
      Notes: '',
      Output: 'Agent alive and reachable',
      ServiceID: '',
      ServiceName: '',
      ServiceTags: [],
      Type: '',
      Interval: '',
      Timeout: '',
      CreateIndex: 1,
      ModifyIndex: 1,
    }
  }

  /** API docs, "Authentication": `X-Consul-Token`, `Authorization: Bearer`, or the deprecated `?token=`. */
  #token(req: IncomingMessage, url: URL): string | undefined {
    const fromQuery = url.searchParams.get('token')
    if (fromQuery) return fromQuery
    const header = req.headers['x-consul-token']
    if (typeof header === 'string' && header !== '') return header
    const authorization = req.headers.authorization
    const bearer = authorization === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(authorization)?.[1]
    return bearer
  }

  /**
   * ACLs off: everyone may do everything. ACLs on (a token configured, default policy deny): that token is a
   * management token, no token is the anonymous token (no rights: writes and single reads are refused, lists
   * come back filtered), any other token is refused outright with `403 ACL not found`.
   */
  #caller(token: string | undefined): Caller {
    if (this.aclToken === undefined) return 'management'
    if (token === undefined) return 'anonymous'
    if (token === this.aclToken) return 'management'
    throw new RequestRejection(403, 'ACL not found')
  }
}

interface Answer {
  body: unknown
  filtered: boolean
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new RequestRejection(405, `method ${method} not allowed`)
}

function noFilter(url: URL): void {
  if (url.searchParams.has('filter')) {
    throw new RequestRejection(501, 'fake Consul: ?filter expressions are not implemented by this fake')
  }
}

/** `?passing`, `?passing=true|false`; anything else is the agent's `400 Invalid value for ?passing`. */
function boolParam(url: URL, name: string): boolean {
  if (!url.searchParams.has(name)) return false
  const raw = url.searchParams.get(name) ?? ''
  if (raw === '') return true
  const value = {
    '1': true,
    t: true,
    T: true,
    true: true,
    TRUE: true,
    True: true,
    '0': false,
    f: false,
    F: false,
    false: false,
    FALSE: false,
    False: false,
  }[raw]
  if (value === undefined) throw new RequestRejection(400, `Invalid value for ?${name}`)
  return value
}

/** Only set for requests with a token (API docs, "Results Filtered by ACLs"). */
function filteredHeader(res: ServerResponse, authenticated: boolean, filtered: boolean): void {
  if (authenticated && filtered) res.setHeader('X-Consul-Results-Filtered-By-ACLs', 'true')
}

function permissionDenied(permission: string, resource: string): RequestRejection {
  const [kind, level] = permission.split(':')
  return new RequestRejection(
    403,
    `Permission denied: anonymous token lacks permission '${kind}:${level}' on ${JSON.stringify(resource)}`,
  )
}

function contentHash(text: string): string {
  let hash = 0xcbf29ce484222325n
  for (const byte of Buffer.from(text)) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n)
  return hash.toString(16)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
}

function text(res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(reason)
}

import { parseWith } from '@ghostfleet/core'
import { z } from 'zod'
import { ConsulTransport } from './consul-client.js'
import { parseConsulUrl } from './consul-url.js'
import { ConsulRequestError } from './errors/consul-request-error.js'
import { type DiscoveryLogger, errorFields, silentLogger } from './logger.js'
import { milliseconds, parseOptions } from './option-fields.js'
import {
  type ConsulRegistrationOptions,
  type ParsedRegistrationOptions,
  registrationOptionsSchema,
  tagsSchema,
} from './registration-options.js'

/**
 * Where a {@link ConsulRegistration} is in its life:
 * - `idle`: constructed; {@link ConsulRegistration.register} may have been called, no periodic loop.
 * - `running`: the periodic loop started by {@link ConsulRegistration.start} is verifying the registration.
 * - `stopped`: {@link ConsulRegistration.stop} or {@link ConsulRegistration.deregister} ended the loop.
 */
export type RegistrationState = 'idle' | 'running' | 'stopped'

/** A snapshot for logs, metrics and the sidecar's `/status`. */
export interface RegistrationStatus {
  state: RegistrationState
  /** The agent acknowledged the current definition (tags included) at the last successful register or check. */
  registered: boolean
  /** The tags the service is (or will be, once the agent is back) registered with. */
  tags: readonly string[]
  /** Loop ticks that failed in a row; 0 after a successful one. */
  consecutiveFailures: number
  /** Loop ticks that failed since construction (Consul down, ACL refusal, …). */
  failuresTotal: number
  /** Times the loop found the service missing or changed at the agent and registered it again. */
  reregistrationsTotal: number
  /** The last failure, for humans. */
  lastError?: string
  /** Epoch milliseconds of the last successful register or check. */
  lastSuccessAt?: number
}

/** The part of `GET /v1/agent/services` compared with what we registered; everything else is ignored. */
const agentServicesSchema = z.record(
  z.string(),
  z.object({
    Service: z.string(),
    Tags: z.array(z.string()).nullable().optional(),
    Meta: z.record(z.string(), z.string()).nullable().optional(),
    Address: z.string().optional(),
    Port: z.number().optional(),
  }),
)

/**
 * Registers this sidecar (or tracker) with its local Consul agent and keeps it registered.
 *
 * - {@link register} puts the service and its HTTP check on the agent and reports failure to the caller.
 * - {@link start} runs a loop that asks the agent, every `intervalMs`, whether it still holds the service as
 *   registered; when the agent restarted without state, reaped the service, or holds other tags, it registers
 *   again. A failing tick (Consul down, a refusal) is logged and counted, never thrown: the next tick retries.
 * - {@link updateTags} changes the tags (a mode change) and registers at once; if that fails the loop applies
 *   the new tags when the agent is back.
 * - {@link deregister} ends the loop and removes the service, for a clean shutdown.
 *
 * Calls to the agent are serialised, so a slow tick cannot land after, and undo, a newer registration.
 *
 * The `consul` client has no call for `GET /v1/agent/service/:id`, so the loop reads `GET /v1/agent/services`
 * (same agent-local state, one small map per host) rather than reaching into the client's private request API.
 *
 * @example
 * const registration = new ConsulRegistration({
 *   url: 'http://127.0.0.1:8500', service: 'ghostfleet-sidecar', id: 'ghostfleet-sidecar-host1-1',
 *   address: '10.0.0.5', port: 26670, tags: sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'normal' }),
 *   meta: { version: '0.1.0', node_id: nodeId }, check: { http: 'http://10.0.0.5:26670/readyz' }, logger,
 * })
 * registration.start(30_000)       // registers now, then verifies every 30 s; never throws
 * await registration.updateTags(sidecarTags({ chainId: 'kyve-1', poolId: 1, mode: 'ghost' }))
 * await registration.deregister()  // on SIGTERM
 */
export class ConsulRegistration {
  readonly service: string
  readonly id: string
  readonly #options: ParsedRegistrationOptions
  readonly #transport: ConsulTransport
  readonly #logger: DiscoveryLogger
  #tags: readonly string[]
  #state: RegistrationState = 'idle'
  #registered = false
  #everRegistered = false
  #consecutiveFailures = 0
  #failuresTotal = 0
  #reregistrationsTotal = 0
  #lastError: string | undefined
  #lastSuccessAt: number | undefined
  #timer: NodeJS.Timeout | undefined
  #intervalMs = 0
  #loopAbort: AbortController | undefined
  #tick: Promise<void> | undefined
  /** Bumped by start and stop, so a tick finishing after a restart of the loop does not schedule a second one. */
  #loopGeneration = 0
  #queue: Promise<unknown> = Promise.resolve()

  /** @throws InvalidOptionsError naming every bad option. Does not contact Consul. */
  constructor(options: ConsulRegistrationOptions) {
    this.#options = parseOptions('ConsulRegistration', registrationOptionsSchema, options)
    const endpoint = parseConsulUrl(this.#options.url)
    if (endpoint === undefined) throw new Error('unreachable: the url was validated')
    this.service = this.#options.service
    this.id = this.#options.id
    this.#tags = Object.freeze([...this.#options.tags])
    this.#logger = this.#options.logger ?? silentLogger
    this.#transport = new ConsulTransport(endpoint, this.#options.token, this.#options.requestTimeoutMs)
  }

  /** Current state and counters. */
  status(): RegistrationStatus {
    const status: RegistrationStatus = {
      state: this.#state,
      registered: this.#registered,
      tags: this.#tags,
      consecutiveFailures: this.#consecutiveFailures,
      failuresTotal: this.#failuresTotal,
      reregistrationsTotal: this.#reregistrationsTotal,
    }
    if (this.#lastError !== undefined) status.lastError = this.#lastError
    if (this.#lastSuccessAt !== undefined) status.lastSuccessAt = this.#lastSuccessAt
    return status
  }

  /**
   * Registers the service with its current tags. Idempotent: registering again replaces the definition.
   * @throws ConsulRequestError when the agent is unreachable or refuses (403 without `service:write`, 400).
   */
  async register(signal?: AbortSignal): Promise<void> {
    await this.#exclusive(() => this.#register(signal))
  }

  /**
   * Replaces the tags (e.g. `mode:normal` → `mode:ghost`) and, once the service has been registered or the loop
   * runs, registers again at once. The same tags as already registered change nothing.
   * @throws InvalidOptionsError for malformed tags (nothing changes).
   * @throws ConsulRequestError when the agent refused or was unreachable; the new tags are kept and the loop
   *   registers them on a later tick.
   */
  async updateTags(tags: readonly string[], signal?: AbortSignal): Promise<void> {
    const parsed = parseOptions('ConsulRegistration.updateTags', tagsSchema, tags)
    const changed =
      parsed.length !== this.#tags.length || parsed.some((tag, index) => tag !== this.#tags[index])
    if (!changed && this.#registered) return
    this.#tags = Object.freeze([...parsed])
    this.#registered = false
    if (this.#everRegistered || this.#state === 'running') await this.register(signal)
  }

  /**
   * Starts the periodic loop: one check right away, then one every `intervalMs`. Each check registers when the
   * agent does not hold the service as defined. Never throws and never rejects: failures are logged at `warn`,
   * counted in {@link status}, and retried on the next tick. The timer does not keep the process alive.
   * @throws InvalidOptionsError when `intervalMs` is not a whole number from 10 ms to 1 day.
   */
  start(intervalMs: number): void {
    this.#intervalMs = parseOptions('ConsulRegistration.start', milliseconds(10, 86_400_000), intervalMs)
    if (this.#state === 'running') return
    this.#state = 'running'
    this.#loopGeneration += 1
    this.#loopAbort = new AbortController()
    this.#schedule(0, this.#loopGeneration)
  }

  /** Ends the loop (waiting for a tick in progress, which is aborted) without touching the registration. */
  async stop(): Promise<void> {
    if (this.#state === 'running') this.#state = 'stopped'
    this.#loopGeneration += 1
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#loopAbort?.abort(new Error('ConsulRegistration stopped'))
    await this.#tick
  }

  /**
   * Ends the loop and removes the service from the agent, for a clean shutdown. A service the agent no longer
   * knows (it restarted, or reaped it) counts as removed.
   * @throws ConsulRequestError when the agent is unreachable or refuses; Consul then reaps the service after
   *   `deregisterCriticalServiceAfter`, since the check fails once this process is gone.
   */
  async deregister(signal?: AbortSignal): Promise<void> {
    await this.stop()
    this.#state = 'stopped'
    await this.#exclusive(async () => {
      const path = `/v1/agent/service/deregister/${encodeURIComponent(this.id)}`
      try {
        await this.#transport.call(
          `deregister service ${this.id}`,
          path,
          (controls) => this.#transport.client.agent.service.deregister({ id: this.id, ...controls }),
          signal,
        )
      } catch (error) {
        // Consul ≥ 1.9 answers 404 "Unknown service ID" for a service it does not hold.
        if (!(error instanceof ConsulRequestError && error.status === 404)) throw error
      }
      this.#registered = false
      this.#logger.info({ service: this.service, id: this.id }, 'deregistered from Consul')
    })
  }

  /** Stops the loop and closes the connections to the agent (does not deregister). */
  async close(): Promise<void> {
    await this.stop()
    this.#transport.close()
  }

  #schedule(delayMs: number, generation: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#tick = this.#runTick().finally(() => {
        this.#tick = undefined
        if (this.#state === 'running' && generation === this.#loopGeneration) {
          this.#schedule(this.#intervalMs, generation)
        }
      })
    }, delayMs)
    this.#timer.unref()
  }

  async #runTick(): Promise<void> {
    const signal = this.#loopAbort?.signal
    try {
      await this.#exclusive(() => this.#verify(signal))
      this.#consecutiveFailures = 0
      this.#lastError = undefined
    } catch (error) {
      if (signal?.aborted) return
      this.#registered = false
      this.#consecutiveFailures += 1
      this.#failuresTotal += 1
      this.#lastError = error instanceof Error ? error.message : String(error)
      this.#logger.warn(
        {
          service: this.service,
          id: this.id,
          consecutiveFailures: this.#consecutiveFailures,
          ...errorFields(error),
        },
        'Consul registration check failed; retrying on the next tick',
      )
    }
  }

  /** Registers when the agent does not hold the service exactly as defined. */
  async #verify(signal: AbortSignal | undefined): Promise<void> {
    const path = '/v1/agent/services'
    const answer = await this.#transport.call(
      `list the agent's services (looking for ${this.id})`,
      path,
      (controls) => this.#transport.client.agent.service.list(controls),
      signal,
    )
    const services = parseWith(agentServicesSchema, answer.body, `${this.#transport.endpoint.origin}${path}`)
    const held = services[this.id]
    const difference = held === undefined ? 'missing' : this.#difference(held)
    if (difference === undefined) {
      this.#markRegistered()
      return
    }
    if (this.#everRegistered) {
      this.#logger.info(
        { service: this.service, id: this.id, difference },
        difference === 'missing'
          ? 'the Consul agent does not hold the service (agent restarted, or service reaped): registering again'
          : 'the Consul agent holds another definition of the service: registering again',
      )
    }
    const again = this.#everRegistered
    await this.#register(signal)
    if (again) this.#reregistrationsTotal += 1
  }

  async #register(signal: AbortSignal | undefined): Promise<void> {
    const options = this.#options
    const tags = [...this.#tags]
    await this.#transport.call(
      `register service ${this.id}`,
      '/v1/agent/service/register',
      (controls) =>
        this.#transport.client.agent.service.register({
          name: options.service,
          id: options.id,
          address: this.#address(),
          port: options.port,
          tags,
          meta: { ...options.meta },
          check: {
            name: `${options.service} HTTP check`,
            http: options.check.http,
            interval: options.check.interval,
            timeout: options.check.timeout,
            deregistercriticalserviceafter: options.check.deregisterCriticalServiceAfter,
          },
          ...controls,
        }),
      signal,
    )
    const first = !this.#everRegistered
    this.#everRegistered = true
    // Tags may have changed while the request was in flight; only the tags sent count as registered.
    const current = this.#tags
    if (current.length === tags.length && current.every((tag, index) => tag === tags[index]))
      this.#markRegistered()
    if (first) this.#logger.info({ service: this.service, id: this.id, tags }, 'registered with Consul')
    else this.#logger.debug({ service: this.service, id: this.id, tags }, 'registered with Consul again')
  }

  #markRegistered(): void {
    this.#registered = true
    this.#lastSuccessAt = Date.now()
  }

  /** IPv6 goes to Consul without brackets, as Consul stores and returns addresses. */
  #address(): string {
    const address = this.#options.address
    return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  }

  #difference(held: z.output<typeof agentServicesSchema>[string]): string | undefined {
    if (held.Service !== this.#options.service) return `name ${JSON.stringify(held.Service)}`
    const tags = held.Tags ?? []
    if (tags.length !== this.#tags.length || tags.some((tag, index) => tag !== this.#tags[index])) {
      return `tags ${JSON.stringify(tags)}`
    }
    if ((held.Address ?? '') !== this.#address()) return `address ${JSON.stringify(held.Address ?? '')}`
    if (held.Port !== this.#options.port) return `port ${String(held.Port)}`
    const meta = held.Meta ?? {}
    const wanted = this.#options.meta
    const keys = new Set([...Object.keys(meta), ...Object.keys(wanted)])
    for (const key of keys) if (meta[key] !== wanted[key]) return `meta ${key}`
    return undefined
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation)
    this.#queue = result.catch(() => undefined)
    return result
  }
}

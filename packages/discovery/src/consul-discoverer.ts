import { loggerOption, parseWith } from '@ghostfleet/core'
import { z } from 'zod'
import { ConsulTransport } from './consul-client.js'
import { healthEntriesSchema, healthEntryTarget } from './consul-health.js'
import { parseConsulUrl } from './consul-url.js'
import type { DiscoveredTarget, Discoverer } from './discoverer.js'
import { type DiscoveryLogger, silentLogger } from './logger.js'
import {
  aclToken,
  bool,
  consulUrl,
  datacenter,
  milliseconds,
  objectExpected,
  parseOptions,
  serviceName,
} from './option-fields.js'

/** Options of {@link ConsulDiscoverer}. */
export interface ConsulDiscovererOptions {
  /** The Consul agent, `http(s)://host:port`. */
  url: string
  /** ACL token, sent as `X-Consul-Token`. Needs `service:read` and `node:read`. */
  token?: string
  /** The service to list. @default 'ghostfleet-sidecar' */
  service?: string
  /** Query this datacenter instead of the agent's own. */
  datacenter?: string
  /** Only instances whose every check passes (`?passing`). @default true */
  passingOnly?: boolean
  /** Deadline of one request. @default 10000 */
  requestTimeoutMs?: number
  /** Warnings about odd registrations and ACL filtering. @default silent */
  logger?: DiscoveryLogger
}

export const consulDiscovererOptionsSchema = z.strictObject(
  {
    url: consulUrl(),
    token: aclToken().optional(),
    service: serviceName().default('ghostfleet-sidecar'),
    datacenter: datacenter().optional(),
    passingOnly: bool().default(true),
    requestTimeoutMs: milliseconds(1, 600_000).default(10_000),
    logger: loggerOption().optional(),
  },
  { error: objectExpected('expected an options object') },
)

/**
 * Targets from Consul's health API (`GET /v1/health/service/<service>?passing`), the view Prometheus' Consul SD
 * has of the same services. With `passingOnly` (the default) an instance whose check is critical, e.g. a
 * sidecar whose `/readyz` fails, is left out; without it every registered instance is listed with `healthy`.
 *
 * Every call asks the agent afresh. An instance registered without an address or port cannot be a target and
 * is skipped with a warning; malformed `chain:`/`pool:`/`mode:` tags leave that field empty, with a warning.
 *
 * ACLs: Consul does not refuse anonymous reads, it filters them. Without a token, against a cluster whose
 * default policy is `deny`, the answer is an empty list, not an error; this is logged as a warning.
 *
 * @example
 * const consul = new ConsulDiscoverer({ url: 'http://127.0.0.1:8500', token: process.env.CONSUL_HTTP_TOKEN })
 * const healthy = await consul.discover(AbortSignal.timeout(5_000))
 * consul.close()
 */
export class ConsulDiscoverer implements Discoverer {
  readonly service: string
  readonly passingOnly: boolean
  readonly #datacenter: string | undefined
  readonly #transport: ConsulTransport
  readonly #logger: DiscoveryLogger
  readonly #anonymous: boolean
  #warnedAcl = false

  /** @throws InvalidOptionsError naming every bad option. Does not contact Consul. */
  constructor(options: ConsulDiscovererOptions) {
    const parsed = parseOptions('ConsulDiscoverer', consulDiscovererOptionsSchema, options)
    const endpoint = parseConsulUrl(parsed.url)
    if (endpoint === undefined) throw new Error('unreachable: the url was validated')
    this.service = parsed.service
    this.passingOnly = parsed.passingOnly
    this.#datacenter = parsed.datacenter
    this.#logger = parsed.logger ?? silentLogger
    this.#anonymous = parsed.token === undefined
    this.#transport = new ConsulTransport(endpoint, parsed.token, parsed.requestTimeoutMs)
  }

  /**
   * @throws ConsulRequestError when the agent is unreachable or refuses (403 for an unknown token).
   * @throws ValidationError (from `@ghostfleet/core`) when the answer is not a list of service instances.
   */
  async discover(signal?: AbortSignal): Promise<DiscoveredTarget[]> {
    const path = `/v1/health/service/${encodeURIComponent(this.service)}`
    const answer = await this.#transport.call(
      `list ${this.passingOnly ? 'passing ' : ''}instances of ${this.service}`,
      path,
      (controls) =>
        this.#transport.client.health.service({
          service: this.service,
          passing: this.passingOnly,
          ...(this.#datacenter === undefined ? {} : { dc: this.#datacenter }),
          ...controls,
        }),
      signal,
    )
    const entries = parseWith(healthEntriesSchema, answer.body, `${this.#transport.endpoint.origin}${path}`)
    this.#warnAboutAcls(answer.headers, entries.length)
    const targets: DiscoveredTarget[] = []
    for (const entry of entries) {
      const { target, problems } = healthEntryTarget(entry)
      if (problems.length > 0) {
        this.#logger.warn(
          { service: this.service, id: entry.Service.ID, node: entry.Node.Node, problems },
          target === undefined
            ? 'Consul instance skipped: it is not a usable target'
            : 'Consul instance has malformed tags',
        )
      }
      if (target !== undefined) targets.push(target)
    }
    return targets
  }

  /** Closes the keep-alive connections to the agent. */
  close(): void {
    this.#transport.close()
  }

  #warnAboutAcls(headers: Record<string, string | string[] | undefined>, count: number): void {
    const filtered = headers['x-consul-results-filtered-by-acls'] === 'true'
    const anonymousDenied =
      this.#anonymous && count === 0 && headers['x-consul-default-acl-policy'] === 'deny'
    if (!filtered && !anonymousDenied) {
      this.#warnedAcl = false
      return
    }
    if (this.#warnedAcl) return
    this.#warnedAcl = true
    this.#logger.warn(
      { service: this.service, filteredByAcls: filtered, anonymous: this.#anonymous },
      filtered
        ? 'Consul left out instances the ACL token may not read: give it service:read and node:read'
        : 'Consul answered no instances to a request without ACL token while its default policy is deny: ' +
            'configure a token, the list may be filtered rather than empty',
    )
  }
}

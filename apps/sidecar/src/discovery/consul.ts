/**
 * The sidecar's Consul registration: service `ghostfleet-sidecar`, id = the sidecar's
 * fleet id (what it reports under on Redis, so the tracker can match the two), tags `chain:`/`pool:`/`mode:`,
 * meta `version` (and `node_id` when known), its HTTP address, an HTTP check on `/readyz`.
 *
 * Consul is advisory: an agent that is down or refuses never affects supervision. `ConsulRegistration` retries
 * on its own loop; this module only follows the mode. The controller has no mode-change hook, so the mode is
 * read from the persisted state (a local call) once a second and the tags are updated when it changed.
 */
import { hostname as osHostname } from 'node:os'
import type { NodeMode } from '@ghostfleet/core'
import {
  ConsulRegistration,
  type ConsulSettings,
  type DiscoveryLogger,
  type RegistrationStatus,
  sidecarTags,
} from '@ghostfleet/discovery'
import type { Logger } from '@ghostfleet/telemetry'
import { sidecarIdFromHostname } from '../fleet/sidecar-id.js'

/**
 * The Consul service id: the fleet id when fleet mode is on (the id on Redis), else
 * `ghostfleet-sidecar-<hostname>-<poolId>` (cut to Consul's 64 characters, keeping the pool).
 */
export function sidecarServiceId(input: {
  fleetSidecarId: string | null
  poolId: number
  hostname?: string
}): string {
  if (input.fleetSidecarId !== null) return input.fleetSidecarId
  const suffix = `-${input.poolId}`
  const host = sidecarIdFromHostname(input.hostname ?? osHostname())
  return `ghostfleet-sidecar-${host}`.slice(0, 64 - suffix.length) + suffix
}

export interface SidecarConsulOptions extends ConsulSettings {
  serviceId: string
  chainId: string
  poolId: number
  version: string
  /** The node's id (`node_info.id` of its `/status`), when known; omitted from the meta otherwise. */
  nodeId?: string
  /** The sidecar's HTTP server, e.g. `http://10.0.0.5:26670`. A wildcard host is replaced by the host name. */
  httpUrl: string
  /** The mode the node runs in now. */
  mode: () => NodeMode
  /** Registration check interval. @default 30000 */
  intervalMs?: number
  /** Consul's interval for the `/readyz` check (a Go duration). @default '10s' */
  checkInterval?: string
  /** How often the mode is compared with the registered tags. @default 1000 */
  modeCheckMs?: number
  logger: Logger
  hostname?: string
}

const WILDCARD = new Set(['0.0.0.0', '[::]', '::', ''])

export class SidecarConsul {
  private readonly registration: ConsulRegistration
  private readonly options: SidecarConsulOptions
  private mode: NodeMode
  private timer: NodeJS.Timeout | undefined

  /** @throws InvalidOptionsError (from `@ghostfleet/discovery`) when the registration is not valid. */
  constructor(options: SidecarConsulOptions) {
    this.options = options
    const api = new URL(options.httpUrl)
    const address = WILDCARD.has(api.hostname) ? (options.hostname ?? osHostname()) : api.hostname
    const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
    const port = Number(api.port)
    this.mode = options.mode()
    this.registration = new ConsulRegistration({
      url: options.url,
      ...(options.token === undefined ? {} : { token: options.token }),
      service: 'ghostfleet-sidecar',
      id: options.serviceId,
      address,
      port,
      tags: this.tags(this.mode),
      meta: {
        version: options.version,
        ...(options.nodeId === undefined ? {} : { node_id: options.nodeId }),
      },
      check: {
        http: `${api.protocol}//${host}:${port}/readyz`,
        ...(options.checkInterval === undefined ? {} : { interval: options.checkInterval }),
      },
      logger: options.logger as DiscoveryLogger,
    })
  }

  /** Registers now and keeps the registration (and the mode tag) current. Never throws for Consul being down. */
  start(): void {
    this.registration.start(this.options.intervalMs ?? 30_000)
    const every = this.options.modeCheckMs ?? 1_000
    const follow = () => {
      this.timer = setTimeout(() => {
        void this.followMode().finally(() => {
          if (this.timer !== undefined) follow()
        })
      }, every)
      this.timer.unref()
    }
    follow()
  }

  status(): RegistrationStatus {
    return this.registration.status()
  }

  /** Stops following the mode and removes the service from the agent (a failure is logged: Consul reaps it). */
  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    try {
      await this.registration.deregister(AbortSignal.timeout(5_000))
    } catch (error) {
      this.options.logger.warn(
        { err: String(error) },
        'could not deregister from Consul; it reaps the service once the check stays critical',
      )
    } finally {
      await this.registration.close()
    }
  }

  private tags(mode: NodeMode): string[] {
    return sidecarTags({ chainId: this.options.chainId, poolId: this.options.poolId, mode })
  }

  private async followMode(): Promise<void> {
    const mode = this.options.mode()
    if (mode === this.mode) return
    this.mode = mode
    try {
      await this.registration.updateTags(this.tags(mode))
    } catch (error) {
      // The new tags are kept; the registration loop applies them once the agent answers.
      this.options.logger.warn({ err: String(error), mode }, 'could not update the Consul mode tag; retrying')
    }
  }
}

export interface SidecarConsulInput {
  settings: ConsulSettings | null
  /** The sidecar's HTTP server URL; null when `http.enabled = false`. */
  httpUrl: string | null
  /** The fleet id (fleet mode), else null. */
  fleetSidecarId: string | null
  chainId: string
  poolId: number
  version: string
  mode: () => NodeMode
  logger: Logger
}

/**
 * The registration `start` runs, or null when Consul is off. Never throws: Consul is advisory, so a registration
 * that cannot be built (no HTTP server to check) is logged at error and the sidecar runs without it.
 */
export function sidecarConsulFrom(input: SidecarConsulInput): SidecarConsul | null {
  if (input.settings === null) return null
  if (input.httpUrl === null) {
    input.logger.error(
      { consul: input.settings.url },
      'not registering with Consul: its health check needs the HTTP server (set http.enabled = true)',
    )
    return null
  }
  try {
    return new SidecarConsul({
      ...input.settings,
      serviceId: sidecarServiceId({ fleetSidecarId: input.fleetSidecarId, poolId: input.poolId }),
      chainId: input.chainId,
      poolId: input.poolId,
      version: input.version,
      httpUrl: input.httpUrl,
      mode: input.mode,
      logger: input.logger,
    })
  } catch (error) {
    input.logger.error({ err: String(error) }, 'not registering with Consul: the registration is not valid')
    return null
  }
}

/**
 * The tracker's Consul side: it registers itself as service `ghostfleet-tracker` (kept
 * registered across agent restarts by `ConsulRegistration`) and, every interval, compares the sidecars Consul
 * lists with the sidecars reporting on Redis, for the fleet API and the metrics.
 *
 * Consul is advisory here: nothing it says reaches a decision, and an outage only shows up in the view, the
 * `ghostfleet_tracker_consul_up` gauge and one warning (then debug lines until it is back).
 */
import { hostname } from 'node:os'
import {
  ConsulRegistration,
  type ConsulSettings,
  type DiscoveryLogger,
  listSidecarsFromConsul,
  reconcile,
} from '@ghostfleet/discovery'
import type { Logger } from '@ghostfleet/telemetry'
import type { DiscoveryView } from './fleet-view.js'

export {
  CONSUL_TOKEN_ENV,
  CONSUL_URL_ENV,
  type ConsulSettings,
  consulSettingsFrom,
} from '@ghostfleet/discovery'

export const NO_DISCOVERY: Readonly<DiscoveryView> = Object.freeze({
  consul: null,
  consulUp: null,
  registered: false,
  registeredButSilent: [],
  reportingButUnregistered: [],
  checkedAt: null,
  lastError: null,
})

export interface ConsulMonitorOptions extends ConsulSettings {
  /** Registration check and comparison interval. */
  intervalMs: number
  /** The sidecars reporting on Redis now (not silent). */
  reportingIds: () => Promise<string[]>
  logger: Logger
}

const WILDCARD = new Set(['0.0.0.0', '[::]', '::', ''])

export class ConsulMonitor {
  private readonly options: ConsulMonitorOptions
  private registration: ConsulRegistration | null = null
  private timer: NodeJS.Timeout | undefined
  private running = false
  private tick: Promise<void> | undefined
  private abort = new AbortController()
  private state: DiscoveryView

  constructor(options: ConsulMonitorOptions) {
    this.options = options
    this.state = { ...NO_DISCOVERY, consul: options.url }
  }

  /**
   * Registers the tracker (id `ghostfleet-tracker-<id>`, address and port of its HTTP API, HTTP check on
   * `/readyz`) and starts the comparison loop. Never throws for Consul being down: both loops retry.
   * @throws InvalidOptionsError (from `@ghostfleet/discovery`) when the id or address cannot be registered.
   */
  start(self: { id: string; url: string }): void {
    const api = new URL(self.url)
    // A wildcard bind is reachable at the host's name; Consul needs an address others can use.
    const address = WILDCARD.has(api.hostname) ? hostname() : api.hostname
    const host = address.includes(':') && !address.startsWith('[') ? `[${address}]` : address
    const port = Number(api.port)
    this.registration = new ConsulRegistration({
      url: this.options.url,
      ...(this.options.token === undefined ? {} : { token: this.options.token }),
      service: 'ghostfleet-tracker',
      id: `ghostfleet-tracker-${self.id}`.slice(0, 64),
      address,
      port,
      check: { http: `${api.protocol}//${host}:${port}/readyz` },
      logger: this.options.logger as DiscoveryLogger,
    })
    this.registration.start(this.options.intervalMs)
    this.running = true
    this.schedule(0)
  }

  view(): DiscoveryView {
    return {
      ...this.state,
      registered: this.registration?.status().registered ?? false,
    }
  }

  /** Ends both loops and removes the tracker from the agent (failures are logged: Consul reaps it later). */
  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.timer)
    this.abort.abort(new Error('tracker stopping'))
    await this.tick
    const registration = this.registration
    if (registration === null) return
    try {
      await registration.deregister(AbortSignal.timeout(5_000))
    } catch (error) {
      this.options.logger.warn(
        { err: String(error) },
        'could not deregister from Consul; it reaps the service once the check stays critical',
      )
    } finally {
      await registration.close()
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.tick = this.compare().finally(() => {
        this.tick = undefined
        if (this.running) this.schedule(this.options.intervalMs)
      })
    }, delayMs)
    this.timer.unref()
  }

  private async compare(): Promise<void> {
    const { url, token, logger } = this.options
    try {
      const inConsul = await listSidecarsFromConsul(
        { url, ...(token === undefined ? {} : { token }) },
        AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.max(1_000, this.options.intervalMs))]),
      )
      let reporting: string[]
      try {
        reporting = await this.options.reportingIds()
      } catch (error) {
        // Redis, not Consul: keep the last comparison, say why it is not fresher.
        this.state = { ...this.state, consulUp: true, lastError: `reading Redis: ${String(error)}` }
        return
      }
      const result = reconcile(inConsul, reporting)
      if (this.state.consulUp === false) logger.info({ consul: url }, 'Consul reachable again')
      this.state = {
        ...this.state,
        consulUp: true,
        registeredButSilent: [...new Set(result.silentOnRedis.map((target) => target.id))],
        reportingButUnregistered: result.missingFromConsul,
        checkedAt: Date.now(),
        lastError: null,
      }
    } catch (error) {
      if (!this.running) return
      const message = error instanceof Error ? error.message : String(error)
      // Once per outage at warn: a Consul outage must not flood the log every interval.
      if (this.state.consulUp !== false) {
        logger.warn(
          { consul: url, err: message },
          'cannot list sidecars from Consul; retrying every interval',
        )
      } else {
        logger.debug({ consul: url, err: message }, 'Consul still unreachable')
      }
      this.state = { ...this.state, consulUp: false, lastError: message }
    }
  }
}

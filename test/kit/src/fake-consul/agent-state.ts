/**
 * What one fake agent holds: its services, their checks (run on their own schedule), a Raft-like index that
 * moves on every change, and the reaper that removes services critical for longer than their
 * `DeregisterCriticalServiceAfter`. The fake is a one-node dev agent: the catalog is this node's services,
 * updated at once (a real agent syncs to the servers by anti-entropy within seconds).
 */
import { probe } from './check-probe.js'
import type { CheckDefinition, CheckStatus, ServiceDefinition } from './register-body.js'

/** Timings the real agent hard-codes; tests shorten them. */
export interface AgentTimings {
  /** Checks run at least this far apart (Consul's minimum interval is 1 s). */
  minCheckIntervalMs: number
  /** `DeregisterCriticalServiceAfter` below this is raised to it (Consul: 1 minute). */
  minDeregisterCriticalAfterMs: number
  /** How often the reaper runs (Consul: every 30 seconds). */
  reapIntervalMs: number
}

export interface CheckState {
  definition: CheckDefinition
  serviceId: string
  status: CheckStatus
  output: string
  /** Epoch ms the check last became critical; undefined while it is not critical. */
  criticalSince: number | undefined
  successes: number
  failures: number
  createIndex: number
  modifyIndex: number
  timer: NodeJS.Timeout | undefined
  /** Bumped when the check is replaced or removed, so a probe in flight does not write a stale result. */
  generation: number
}

export interface ServiceState {
  definition: ServiceDefinition
  createIndex: number
  modifyIndex: number
}

export class AgentState {
  readonly services = new Map<string, ServiceState>()
  readonly checks = new Map<string, CheckState>()
  #index = 1
  #running = false
  #reaper: NodeJS.Timeout | undefined
  #generation = 0
  readonly #waiters = new Set<() => void>()
  readonly #timings: AgentTimings
  readonly #log: (message: string) => void

  constructor(timings: AgentTimings, log: (message: string) => void) {
    this.#timings = timings
    this.#log = log
  }

  get index(): number {
    return this.#index
  }

  /** Starts check runners and the reaper (the agent process is up). */
  resume(): void {
    if (this.#running) return
    this.#running = true
    for (const check of this.checks.values()) this.#scheduleCheck(check, true)
    this.#reaper = setInterval(() => this.#reap(), this.#timings.reapIntervalMs)
  }

  /** Stops every timer (the agent process is down). State is kept, as an agent with its data directory. */
  pause(): void {
    this.#running = false
    clearInterval(this.#reaper)
    for (const check of this.checks.values()) {
      clearTimeout(check.timer)
      check.timer = undefined
      check.generation += 1
    }
    this.#wakeWaiters()
  }

  /** Forgets everything, as an agent restarted without its data directory. */
  forget(): void {
    for (const check of this.checks.values()) {
      clearTimeout(check.timer)
      check.generation += 1
    }
    this.services.clear()
    this.checks.clear()
    this.#index = 1
  }

  /**
   * Adds or replaces a service. Checks that already existed keep their status and output (the agent restores
   * them from a snapshot on re-registration); with `replaceExistingChecks`, checks of the service missing from
   * the request are removed.
   */
  register(definition: ServiceDefinition, replaceExistingChecks: boolean): void {
    const index = this.#bump()
    const previous = this.services.get(definition.ID)
    this.services.set(definition.ID, {
      definition,
      createIndex: previous?.createIndex ?? index,
      modifyIndex: index,
    })
    const kept = new Set(definition.Checks.map((check) => check.CheckID))
    if (replaceExistingChecks) {
      for (const [id, check] of this.checks) {
        if (check.serviceId === definition.ID && !kept.has(id)) this.#removeCheck(id)
      }
    }
    for (const checkDefinition of definition.Checks) {
      const old = this.checks.get(checkDefinition.CheckID)
      if (old !== undefined) {
        clearTimeout(old.timer)
        old.generation += 1
      }
      const status = old?.status ?? checkDefinition.Status
      const check: CheckState = {
        definition: checkDefinition,
        serviceId: definition.ID,
        status,
        output: old?.output ?? '',
        criticalSince: status === 'critical' ? (old?.criticalSince ?? Date.now()) : undefined,
        successes: 0,
        failures: 0,
        createIndex: old?.createIndex ?? index,
        modifyIndex: index,
        timer: undefined,
        generation: (old?.generation ?? 0) + 1,
      }
      this.checks.set(checkDefinition.CheckID, check)
      if (this.#running) this.#scheduleCheck(check, true)
    }
    this.#log(
      `registered service ${definition.ID} (${definition.Name}) tags=${JSON.stringify(definition.Tags)}`,
    )
  }

  /** Removes a service and its checks; false when the agent does not hold it. */
  deregister(serviceId: string): boolean {
    if (!this.services.has(serviceId)) return false
    this.services.delete(serviceId)
    for (const [id, check] of this.checks) if (check.serviceId === serviceId) this.#removeCheck(id)
    this.#bump()
    return true
  }

  checksOf(serviceId: string): CheckState[] {
    return [...this.checks.values()].filter((check) => check.serviceId === serviceId)
  }

  /**
   * Resolves when the index moves past `index`, after `waitMs`, or when the agent goes down; what a blocking
   * query waits for. Returns a function that cancels the wait.
   */
  waitForChange(index: number, waitMs: number, done: () => void): () => void {
    if (index < this.#index || !this.#running) {
      done()
      return () => {}
    }
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      this.#waiters.delete(finish)
      done()
    }
    const timer = setTimeout(finish, waitMs)
    this.#waiters.add(finish)
    return () => {
      finished = true
      clearTimeout(timer)
      this.#waiters.delete(finish)
    }
  }

  #bump(): number {
    this.#index += 1
    this.#wakeWaiters()
    return this.#index
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake()
  }

  #removeCheck(id: string): void {
    const check = this.checks.get(id)
    if (check === undefined) return
    clearTimeout(check.timer)
    check.generation += 1
    this.checks.delete(id)
  }

  #intervalMs(check: CheckState): number {
    return Math.max(this.#timings.minCheckIntervalMs, check.definition.IntervalNs / 1e6)
  }

  /** The first run is staggered randomly within one interval, as the agent does, then every interval. */
  #scheduleCheck(check: CheckState, first: boolean): void {
    const interval = this.#intervalMs(check)
    const delay = first ? Math.random() * interval : interval
    const generation = check.generation
    check.timer = setTimeout(async () => {
      check.timer = undefined
      const result = await probe(check.definition)
      if (
        !this.#running ||
        check.generation !== generation ||
        this.checks.get(check.definition.CheckID) !== check
      ) {
        return
      }
      this.#apply(check, result.status, result.output)
      this.#scheduleCheck(check, false)
    }, delay)
  }

  /** `SuccessBeforePassing` / `FailuresBeforeCritical` hold a transition until enough results agree. */
  #apply(check: CheckState, status: CheckStatus, output: string): void {
    check.output = output
    if (status === 'passing') {
      check.successes += 1
      check.failures = 0
      if (check.successes < check.definition.SuccessBeforePassing) return
    } else if (status === 'critical') {
      check.failures += 1
      check.successes = 0
      if (check.failures < check.definition.FailuresBeforeCritical) return
    } else {
      check.successes = 0
      check.failures = 0
    }
    if (check.status === status) return
    check.status = status
    check.criticalSince = status === 'critical' ? Date.now() : undefined
    check.modifyIndex = this.#bump()
    this.#log(`check ${check.definition.CheckID} is now ${status}`)
  }

  /** The agent's `reapServices`: a service whose check has been critical too long is deregistered. */
  #reap(): void {
    const now = Date.now()
    for (const check of [...this.checks.values()]) {
      const after = check.definition.DeregisterCriticalServiceAfterNs / 1e6
      if (after <= 0 || check.status !== 'critical' || check.criticalSince === undefined) continue
      const limit = Math.max(after, this.#timings.minDeregisterCriticalAfterMs)
      if (now - check.criticalSince > limit && this.deregister(check.serviceId)) {
        this.#log(
          `reaped service ${check.serviceId}: check ${check.definition.CheckID} critical for ${now - check.criticalSince} ms`,
        )
      }
    }
  }
}

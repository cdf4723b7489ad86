import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import { AddressBookChecker, addressBookEntries } from './checkers/address-book.js'
import { AvailabilityTally, poolServed } from './checkers/availability.js'
import { BudgetChecker } from './checkers/budget.js'
import { FencingChecker, type TrackerRole } from './checkers/fencing.js'
import { checkValidatedBase, mustServe } from './checkers/validated-blocks.js'
import { getJson } from './http-json.js'
import type { Ledger } from './ledger.js'
import type { RedisObserver } from './redis-snapshot.js'
import { parseSidecarStatus, type SidecarSample, unansweredSample } from './sidecar-sample.js'
import type { SoakFleet, SoakSidecar } from './soak-fleet.js'

/*
 * One sampling round: every sidecar's /status, the trackers' roles, a Redis snapshot, the chain height; then
 * every checker that judges a moment. Rounds follow each other at a fixed pace; no checker waits on time.
 */

const roleSchema = z.object({
  tracker: z.object({
    id: z.string(),
    role: z.enum(['leader', 'standby']),
    epoch: z.number().int().nullable(),
  }),
})
const nodeStatusSchema = z.object({
  result: z.object({ sync_info: z.object({ latest_block_height: z.coerce.number().int() }) }),
})

/** Heights the cache window must cover above the pool height for the pool to count as served. */
export const CACHE_WINDOW = 30
/** How long a down node may take to count in the tracker's budget (three report intervals, and a sample's lag). */
const BUDGET_TOLERANCE_MS = 5_000
/** How long a node back in normal mode may take to show its whole original address book. */
const ADDRESS_BOOK_GRACE_MS = 15_000

export class Sampler {
  readonly latest = new Map<string, SidecarSample>()
  latestRoles: TrackerRole[] = []
  readonly availability = new AvailabilityTally()
  rounds = 0
  private readonly books = new AddressBookChecker(ADDRESS_BOOK_GRACE_MS)
  readonly fencing = new FencingChecker()
  private readonly budget: BudgetChecker
  /** Sidecars whose address book had entries in normal mode (the check is empty for the others). */
  readonly booksSeen = new Set<string>()

  constructor(
    private readonly fleet: SoakFleet,
    private readonly ledger: Ledger,
    private readonly redis: RedisObserver,
  ) {
    this.budget = new BudgetChecker(fleet.timings.maxUnavailable, BUDGET_TOLERANCE_MS)
  }

  poolHeight(pool: number): number {
    const snapshot = this.fleet.kyve.pool(pool)
    return Number(snapshot.currentKey === '' ? snapshot.startKey : snapshot.currentKey)
  }

  async round(): Promise<void> {
    const samples = await Promise.all(this.fleet.sidecars.map((s) => this.sampleSidecar(s)))
    // Read after the samples: the true pool height only grows, so this never judges a prune too strictly.
    const poolHeights = new Map(this.fleet.pools.map((pool) => [pool, this.poolHeight(pool)]))
    const chainHeight = await this.chainHeight()
    for (const sample of samples) this.latest.set(sample.id, sample)

    await Promise.all(
      samples.map(async (sample) => {
        const poolHeight = poolHeights.get(sample.pool) ?? 0
        this.ledger.check('validated-blocks', checkValidatedBase(sample, poolHeight))
        if (mustServe(sample, poolHeight)) {
          const sidecar = this.fleet.sidecars.find((s) => s.id === sample.id)
          if (sidecar) this.ledger.check('validated-blocks', await this.blockProblem(sidecar, poolHeight))
        }
      }),
    )
    for (const pool of this.fleet.pools) {
      this.ledger.check('budget', this.budget.observe(pool, samples))
      if (chainHeight !== null) {
        this.availability.add(
          pool,
          poolServed(pool, samples, poolHeights.get(pool) ?? 0, chainHeight, CACHE_WINDOW),
        )
      }
    }
    await Promise.all(samples.map((sample) => this.observeBook(sample)))

    const snapshot = await this.redis.snapshot(this.fleet.sidecars.map((s) => s.id))
    if (snapshot !== null) this.record(this.fencing.observeRedis(snapshot))
    this.latestRoles = await this.trackerRoles()
    this.record(this.fencing.observeRoles(this.latestRoles))
    this.rounds++
  }

  /** The trackers that answer, with their role. */
  async trackerRoles(): Promise<TrackerRole[]> {
    const answers = await Promise.all(
      this.fleet.trackers.map(async (tracker) => {
        const answer = await getJson(`${tracker.http}/v1/fleet`, 1_000)
        const parsed = roleSchema.safeParse(answer?.body)
        return parsed.success ? [{ ...parsed.data.tracker, id: tracker.id }] : []
      }),
    )
    return answers.flat()
  }

  private record(result: { checks: number; problems: string[] }): void {
    for (let i = 0; i < result.checks; i++) this.ledger.check('fencing', null)
    for (const problem of result.problems) this.ledger.violate('fencing', problem)
  }

  private async sampleSidecar(sidecar: SoakSidecar): Promise<SidecarSample> {
    const at = Date.now()
    const answer = await getJson(`${sidecar.http}/status`, 2_000)
    if (answer === null || answer.status !== 200) return unansweredSample(sidecar.id, sidecar.pool, at)
    return parseSidecarStatus(sidecar.id, sidecar.pool, at, answer.body)
  }

  private async chainHeight(): Promise<number | null> {
    const producer = this.fleet.local.producer
    if (producer === null) return null
    const parsed = nodeStatusSchema.safeParse((await getJson(`${producer.rpc}/status`, 2_000))?.body)
    return parsed.success ? parsed.data.result.sync_info.latest_block_height : null
  }

  /**
   * The node said its store holds the pool height: `/block?height=` must return it. An RPC error answer (not a
   * connection failure: the node may have stopped since) is a missing validated block.
   */
  private async blockProblem(sidecar: SoakSidecar, height: number): Promise<string | null> {
    const answer = await getJson(`${sidecar.rpc}/block?height=${height}`, 2_000)
    if (answer === null) return null
    const body = answer.body as { result?: unknown; error?: { message?: string; data?: string } }
    if (answer.status === 200 && typeof body.result === 'object' && body.result !== null) return null
    return `${sidecar.id}: block ${height} (the pool height, within the node's stated store) not served: ${JSON.stringify(body.error ?? body).slice(0, 200)}`
  }

  private async observeBook(sample: SidecarSample): Promise<void> {
    if (!sample.answered) return
    const sidecar = this.fleet.sidecars.find((s) => s.id === sample.id)
    if (sidecar === undefined) return
    let entries: Set<string> | null = null
    if (sample.mode === 'normal' && sample.activity === 'idle' && sample.nodeState === 'running') {
      try {
        entries = addressBookEntries(
          await readFile(path.join(sidecar.home, 'config', 'addrbook.json'), 'utf8'),
        )
      } catch {
        entries = null
      }
      if (entries !== null && entries.size > 0) this.booksSeen.add(sample.id)
    }
    const result = this.books.observe({ id: sample.id, at: sample.at, mode: sample.mode, entries })
    if (result.checked) this.ledger.check('address-book', result.problem)
  }
}

/**
 * Shared helpers of the fleet end-to-end tests (fleet*.test.ts). The processes themselves are
 * started by `LocalFleet` from `@ghostfleet/devnet`, the same code `ghostfleet-devnet up` (the demo) runs; these
 * helpers read what the processes expose (HTTP, metrics, JSON logs, /proc) and record what happened over time.
 * Everything runs from the built CLIs: `npx turbo run build` first.
 */
import { FLEET_POOL_ID, type KyveSimulator, LocalFleet, type SidecarInfo } from '@ghostfleet/devnet'
import { getJson, getText, type Json, requireRedisServer, type TempDir, tempDir } from '@ghostfleet/testkit'

/** A fresh LocalFleet in a temp dir; `teardown()` stops every process and removes the dir. */
export async function createFleet(
  prefix: string,
): Promise<{ fleet: LocalFleet; dir: TempDir; teardown(): Promise<void> }> {
  requireRedisServer()
  const dir = await tempDir(prefix)
  const fleet = await LocalFleet.create(dir.path)
  return {
    fleet,
    dir,
    async teardown() {
      await fleet.stop()
      if (process.env['GF_KEEP_FLEET']) process.stderr.write(`kept ${dir.path}\n`)
      else await dir.remove()
    },
  }
}

/** The sidecar's /status (throws while it does not answer). */
export async function sidecarStatus(sidecar: SidecarInfo): Promise<Json> {
  const answer = await getJson(`${sidecar.http}/status`)
  if (answer === null || answer.status !== 200)
    throw new Error(`${sidecar.id} /status: ${JSON.stringify(answer)}`)
  return answer.body
}

/** The Prometheus text a fleet process serves at `<baseUrl>/metrics`. */
export async function metricsText(baseUrl: string): Promise<string> {
  return await getText(`${baseUrl}/metrics`, 3_000)
}

/** Does the node answer `/block` (the RPC the KYVE protocol node reads)? */
export async function nodeServesBlocks(rpc: string): Promise<boolean> {
  const answer = await getJson(`${rpc}/block`, 2_000)
  return answer !== null && answer.status === 200 && typeof answer.body['result'] === 'object'
}

/** The pool height (validated `current_key`) the simulator serves right now. */
export function poolHeight(kyve: KyveSimulator): number {
  const pool = kyve.pool(FLEET_POOL_ID)
  const key = pool.currentKey === '' ? pool.startKey : pool.currentKey
  return Number(key)
}

/**
 * Repeats `sample` (awaited, then again after `everyMs`) until {@link Recorder.stop}: a record of what the fleet
 * looked like over time, for assertions that must hold at every moment (the availability budget).
 */
export class Recorder<T> {
  readonly samples: Array<{ at: number; value: T }> = []
  readonly errors: string[] = []
  private running = true
  private readonly loop: Promise<void>

  constructor(sample: () => Promise<T>, everyMs: number) {
    this.loop = (async () => {
      while (this.running) {
        const at = Date.now()
        try {
          this.samples.push({ at, value: await sample() })
        } catch (error) {
          this.errors.push(error instanceof Error ? error.message : String(error))
        }
        const wait = everyMs - (Date.now() - at)
        // Pacing of the sampler itself (how often it looks), not a wait for something to happen.
        if (wait > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, wait))
      }
    })()
  }

  async stop(): Promise<Array<{ at: number; value: T }>> {
    this.running = false
    await this.loop
    return this.samples
  }
}

/**
 * Shared helpers of the fleet end-to-end tests (fleet*.test.ts, demo.test.ts). The processes themselves are
 * started by `LocalFleet` from `@ghostfleet/devnet`, the same code `ghostfleet-devnet up` (the demo) runs; these
 * helpers read what the processes expose (HTTP, metrics, JSON logs, /proc) and record what happened over time.
 * Everything runs from the built CLIs: `npx turbo run build` first.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
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

/** The JSON lines of a pino log file. */
export function logLines(file: string): Json[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Json]
      } catch {
        return []
      }
    })
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

/** A span of time a sidecar's node was down on purpose (a mode switch or a prune), from its own log. */
export interface Disruption {
  sidecarId: string
  kind: 'switch' | 'prune'
  from: number
  to: number
  detail: Json
}

/**
 * The mode switches and prunes in a sidecar's log, as spans from "switching to …"/"pruning: stopping the node"
 * to "now in … mode"/the prune's result line. A span still open at the end of the log lasts until `openUntil`.
 */
export function disruptions(sidecarId: string, file: string, openUntil = Date.now()): Disruption[] {
  const spans: Disruption[] = []
  let open: { kind: 'switch' | 'prune'; from: number; detail: Json } | null = null
  for (const line of logLines(file)) {
    const msg = String(line['msg'] ?? '')
    const at = Number(line['time'])
    if (msg.startsWith('switching to ') || msg.startsWith('pruning: stopping the node')) {
      open = { kind: msg.startsWith('pruning') ? 'prune' : 'switch', from: at, detail: line }
    } else if (
      open !== null &&
      ((open.kind === 'switch' && /^now in (normal|ghost) mode/.test(msg)) ||
        (open.kind === 'prune' &&
          (msg.startsWith('pruned blocks') ||
            /^prune to \d+: nothing to do/.test(msg) ||
            msg.startsWith('prune failed'))))
    ) {
      spans.push({ sidecarId, kind: open.kind, from: open.from, to: at, detail: open.detail })
      open = null
    }
  }
  if (open !== null)
    spans.push({ sidecarId, kind: open.kind, from: open.from, to: openUntil, detail: open.detail })
  return spans
}

/** Pairs of spans (of different sidecars) that overlap in time. */
export function overlapping(spans: Disruption[]): Array<[Disruption, Disruption]> {
  const pairs: Array<[Disruption, Disruption]> = []
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i] as Disruption
      const b = spans[j] as Disruption
      if (a.sidecarId !== b.sidecarId && a.from < b.to && b.from < a.to) pairs.push([a, b])
    }
  }
  return pairs
}

/**
 * Processes whose command line mentions `needle` (a work directory, a `--port N`), from /proc: what a test
 * checks to prove that nothing it started is left running.
 */
export async function processesMentioning(needle: string): Promise<Array<{ pid: number; cmdline: string }>> {
  const found: Array<{ pid: number; cmdline: string }> = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    let cmdline: string
    try {
      cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim()
    } catch {
      continue
    }
    if (cmdline.includes(needle)) found.push({ pid: Number(entry), cmdline })
  }
  return found
}

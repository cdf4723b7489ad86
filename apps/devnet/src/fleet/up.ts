import { execFile } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { requireRedisServer } from '@ghostfleet/local-services'
import { LiveFrame } from '@ghostfleet/telemetry'
import { type DemoScenario, scenarioPhase } from './demo-scenario.js'
import { FLEET_POOL_ID, FLEET_THRESHOLDS, LocalFleet } from './local-fleet.js'
import { fetchFleetHeights, poolCeiling } from './pool-pacer.js'
import { watchStopTriggers } from './stop-triggers.js'

const run = promisify(execFile)

/** Options of `ghostfleet devnet up`. */
export interface UpOptions {
  /** Sidecars, each supervising one follower node. @default 3 */
  sidecars: number
  /** Producer block time. @default 200 */
  blockTimeMs: number
  /** Stop by itself after this long (tests, CI); otherwise runs until Ctrl-C. */
  durationSeconds?: number
  /** Keep the work directory (homes, configs, logs) after stopping. */
  keep: boolean
  /** Work directory. @default a fresh directory under the OS temp dir */
  dir?: string
  scenario: DemoScenario
  /** Where the live table and progress go. */
  print: (text: string) => void
  /** Redraw the table in place (a TTY) rather than append it. */
  redraw: boolean
  /** The terminal's width (for the redraw). */
  columns?: () => number | undefined
}

/*
 * The pool settings of `LocalFleet` make the thresholds 60 blocks ahead → ghost, 30 → normal. One bundle of one
 * block every 50 ms lets the pool catch up at 20 blocks/s, faster than the 5 blocks/s the chain makes.
 */
const BUNDLE_EVERY_MS = 50
/** A prune is due every 20 s of ghost mode (the fleet default is 24 h). */
const PRUNING_INTERVAL_HOURS = 20 / 3600
/** How often the table is refreshed. */
const TABLE_EVERY_MS = 2000
/** How often the pool's cap follows the nodes (the pool never passes the cap, however late this runs). */
const PACE_EVERY_MS = 200

/**
 * Starts the whole local fleet — a private redis-server, a producer node, the simulated KYVE API, a tracker and
 * N sidecars each supervising a follower node — drives the pool through ghost/prune/normal cycles, prints the
 * fleet table, and stops everything on SIGINT, SIGTERM, SIGHUP, a closed output, its own crash, or after
 * `durationSeconds` (see stop-triggers.ts).
 */
export async function up(options: UpOptions): Promise<void> {
  requireRedisServer()
  const dir = options.dir ?? path.join(os.tmpdir(), `ghostfleet-demo-${Date.now()}`)
  await mkdir(dir, { recursive: true })
  const fleet = await LocalFleet.create(dir)
  const triggers = watchStopTriggers({
    durationSeconds: options.durationSeconds,
    onCrash: (error) => {
      process.exitCode = 1
      if (triggers.outputOpen()) process.stderr.write(`ghostfleet devnet up crashed: ${String(error)}\n`)
    },
  })
  // Whatever else ends this process (process.exit somewhere, a second crash during the teardown), what still
  // runs of the fleet goes with it.
  const killLeftovers = () => fleet.killNow()
  process.once('exit', killLeftovers)
  const live = new LiveFrame({
    write: (text) => {
      if (triggers.outputOpen()) options.print(text)
    },
    tty: options.redraw,
    columns: options.columns,
  })
  const say = (line: string) => live.line(line)
  const stopped = triggers.reason.then((reason) => ({ stop: reason }))
  // Set once the fleet stops: a table still being fetched then is not drawn under "everything stopped".
  let tableClosed = false

  try {
    const startup = (async () => {
      say(`ghostfleet demo: work directory ${dir} (logs in ${fleet.logs})`)
      const redis = await fleet.startRedis()
      say(`redis-server on ${redis.url}`)

      const producer = await fleet.startProducer(options.blockTimeMs)
      say(`producer node ${producer.nodeId} on ${producer.rpc} (pid ${producer.process.pid})`)

      const kyve = await fleet.startKyve({ bundleEveryMs: BUNDLE_EVERY_MS, paused: true })
      say(`simulated KYVE API on ${kyve.url} (pool ${FLEET_POOL_ID}, paused)`)

      const tracker = await fleet.startTracker({
        id: 'demo-tracker',
        pruningIntervalHours: PRUNING_INTERVAL_HOURS,
      })
      say(`tracker on ${tracker.url} (pid ${tracker.process.pid})`)

      for (let i = 1; i <= options.sidecars; i++) {
        const sidecar = await fleet.startSidecar({
          id: `demo-sidecar-${i}`,
          pruningIntervalHours: PRUNING_INTERVAL_HOURS,
        })
        say(
          `sidecar ${sidecar.id} supervising a follower (RPC ${sidecar.rpc}, sidecar API ${sidecar.http}, ` +
            `pid ${sidecar.process.pid})`,
        )
      }
      return { kyve, tracker }
    })()
    // A stop during the start-up does not wait for it (the fleet refuses to spawn anything once stopping).
    startup.catch(() => {})
    const first = await Promise.race([startup, stopped])
    if ('stop' in first) {
      say(`\nstopping (${first.stop})…`)
      return
    }
    const { kyve, tracker } = first

    const started = Date.now()
    let paused = true
    let ceiling: number | null = null
    let cap: number | null = null
    // Moves the pool as the scenario says. While it catches up, the simulator holds it at a cap below the lowest node
    // (pool-pacer.ts): the cap, not this loop's timing, keeps the pool from running past a node.
    const pace = async (): Promise<string> => {
      const phase = scenarioPhase(options.scenario, Date.now() - started)
      if (phase === 'pool paused: nodes run ahead') {
        if (!paused) await kyve.setPool(FLEET_POOL_ID, { paused: true })
        paused = true
        return phase
      }
      const heights = await fetchFleetHeights(tracker.url)
      if (heights !== null) ceiling = poolCeiling(heights)
      const key = Number(kyve.pool(FLEET_POOL_ID).currentKey || 0)
      // No report yet: hold the pool where it is.
      const wantCap = Math.max(0, ceiling ?? key)
      if (paused || wantCap !== cap) {
        await kyve.setPool(FLEET_POOL_ID, { paused: false, heightCap: wantCap })
        paused = false
        cap = wantCap
      }
      return key >= wantCap ? `${phase}, held below the lowest node` : phase
    }
    const showTable = async (phase: string) => {
      const table = await fleetTable(fleet, tracker.url)
      if (tableClosed) return
      const elapsed = Math.round((Date.now() - started) / 1000)
      // The pool height is the table's (the tracker's view), so that header and table cannot disagree.
      const header =
        `ghostfleet demo — ${elapsed}s — ${phase} — thresholds: ghost at ` +
        `+${FLEET_THRESHOLDS.heightDifferenceMax}, normal at +${FLEET_THRESHOLDS.heightDifferenceMin} ` +
        '— Ctrl-C stops everything'
      live.frame(`${header}\n${table}`)
    }
    let nextTableAt = 0
    let drawing: Promise<void> | null = null
    const step = async () => {
      const phase = await pace()
      // The table runs the tracker's CLI, which takes a while to start: drawn beside the pacing, never in its way.
      if (drawing === null && Date.now() >= nextTableAt) {
        nextTableAt = Date.now() + TABLE_EVERY_MS
        drawing = showTable(phase).finally(() => {
          drawing = null
        })
      }
      const dead = fleet.processes.find((p) => p.hasExited())
      if (dead) throw new Error(`${dead.name} exited unexpectedly (${await dead.exit()}); see ${fleet.logs}`)
    }
    for (;;) {
      const next = await Promise.race([step().then(() => ({ tick: true })), stopped])
      if ('stop' in next) {
        say(`\nstopping (${next.stop})…`)
        return
      }
      const wait = await Promise.race([
        delay(PACE_EVERY_MS, undefined, { ref: false }).then(() => ({ tick: true })),
        stopped,
      ])
      if ('stop' in wait) {
        say(`\nstopping (${wait.stop})…`)
        return
      }
    }
  } finally {
    tableClosed = true
    await fleet.stop(say)
    say('everything stopped')
    if (!options.keep && options.dir === undefined) await rm(dir, { recursive: true, force: true })
    else say(`kept ${dir}`)
    process.off('exit', killLeftovers)
    triggers.dispose()
  }
}

/** The tracker's own `status` command renders the table, so the demo shows exactly what an operator sees. */
async function fleetTable(fleet: LocalFleet, trackerUrl: string): Promise<string> {
  try {
    const status = fleet.command(fleet.bins.tracker, ['status', '--tracker', trackerUrl])
    const { stdout } = await run(status.command, status.args)
    return stdout
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string }
    return failed.stdout || failed.stderr || failed.message
  }
}

import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  FLEET_KYVE_CHAIN_ID,
  FLEET_MAX_BUNDLE_SIZE,
  FLEET_SOURCE_CHAIN_ID,
  FLEET_UPLOAD_INTERVAL,
  type KyveSimulator,
  LocalFleet,
  ManagedProcess,
  startKyveSimulator,
  waitForHttp,
} from '@ghostfleet/devnet'
import { RedisPath } from './netns-cut.js'
import { snapshotRuntime } from './runtime-snapshot.js'
import { SentinelRedis } from './sentinel-redis.js'
import { mountSmallDisk, unmountSmallDisk } from './small-disk.js'

/** `single`: one redis-server; `sentinel`: a primary, a replica and three sentinels (see sentinel-redis.ts). */
export type RedisMode = 'single' | 'sentinel'

/** The sidecars (by index) whose Redis path goes through a network namespace the soak can cut (netns-cut.ts). */
const ROUTED_SIDECARS = [1, 4]
// The built script from src (tests) as from dist: the relay runs under plain node inside the namespace.
const RELAY_SCRIPT = fileURLToPath(new URL('../dist/relay-cli.js', import.meta.url))

/** Debian's libfaketime (package `faketime`), or null when it is not installed: clock jumps are then skipped. */
const LIBFAKETIME =
  [
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1',
  ].find((file) => existsSync(file)) ?? null

/**
 * A sidecar (and the node it starts, which inherits the environment) whose wall clock follows the offset in
 * `clockFile`, re-read at most once a second. The monotonic clock stays real, as on a host whose NTP steps the
 * time: timers keep their length, `Date.now()` jumps.
 */
async function fakeClockEnv(clockFile: string): Promise<NodeJS.ProcessEnv> {
  await writeFile(clockFile, '+0\n')
  return {
    LD_PRELOAD: LIBFAKETIME ?? '',
    FAKETIME_TIMESTAMP_FILE: clockFile,
    FAKETIME_CACHE_DURATION: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  }
}

/*
 * The soak's fleet: LocalFleet's redis-server and producer, a KYVE simulator with two pools, two trackers and
 * three sidecars per pool, each supervising a follower in its own home. Unlike LocalFleet, every tracker and
 * sidecar can be restarted with exactly the command it was started with (same config, same home, same ports):
 * the soak plays systemd for what its schedule kills.
 */

export interface FleetTimings {
  blockTimeMs: number
  bundleEveryMs: number
  pruningIntervalHours: number
  leaseTtlMs: number
  maxUnavailable: number
  trackerTimeoutSeconds: number
}

export const SOAK_TIMINGS: FleetTimings = {
  blockTimeMs: 200,
  bundleEveryMs: 50,
  pruningIntervalHours: 15 / 3600,
  leaseTtlMs: 3000,
  maxUnavailable: 1,
  trackerTimeoutSeconds: 15,
}

/** A tracker or sidecar process the soak supervises. */
export interface Member {
  id: string
  kind: 'sidecar' | 'tracker'
  args: string[]
  env: NodeJS.ProcessEnv
  logFile: string
  /** The sidecar's HTTP API, the tracker's /v1 API. */
  http: string
  process: ManagedProcess
  /** Set by the soak right before it kills the process on purpose. */
  killExpected: boolean
  restarts: number
}

export interface SoakSidecar extends Member {
  kind: 'sidecar'
  pool: number
  /** libfaketime's offset file for this sidecar and its node (`+0`, `+600`, `-300`); null without libfaketime. */
  clockFile: string | null
  /** The node's home is a small filesystem of its own (see small-disk.ts). */
  smallDisk: boolean
  /** Its Redis path through a network namespace the soak can cut, or null (direct). */
  redisPath: RedisPath | null
  rpc: string
  home: string
  configDir: string
}

export interface SoakTracker extends Member {
  kind: 'tracker'
}

export type UnexpectedExit = (member: Member, exit: number | string) => void

export class SoakFleet {
  readonly sidecars: SoakSidecar[] = []
  readonly trackers: SoakTracker[] = []
  readonly pools: readonly number[] = [0, 1]

  private constructor(
    readonly local: LocalFleet,
    readonly kyve: KyveSimulator,
    readonly timings: FleetTimings,
    private readonly onUnexpectedExit: UnexpectedExit,
    /** Redis behind Sentinel (redis mode `sentinel`), else null. */
    readonly sentinel: SentinelRedis | null,
  ) {}

  /** Every port the soak's Redis processes listen on (the leftover search matches them by port). */
  redisPorts(): number[] {
    return this.sentinel?.ports() ?? (this.local.redis ? [this.local.redis.port] : [])
  }

  get dir(): string {
    return this.local.dir
  }

  static async start(
    dir: string,
    timings: FleetTimings,
    onUnexpectedExit: UnexpectedExit,
    say: (line: string) => void,
    smallDisks: number,
    redisMode: RedisMode,
    onRedisPorts: (ports: number[]) => void,
  ): Promise<SoakFleet> {
    const local = await LocalFleet.create(dir, await snapshotRuntime(dir))
    let kyve: KyveSimulator | null = null
    let sentinel: SentinelRedis | null = null
    const paths: RedisPath[] = []
    try {
      if (redisMode === 'sentinel') {
        sentinel = await SentinelRedis.start(path.join(dir, 'redis'), local.logs)
        onRedisPorts(sentinel.ports())
        // LocalFleet gives its trackers and sidecars this URL: the relay that follows Sentinel.
        local.redis = sentinel
        say(
          `redis behind Sentinel: primary :${sentinel.masterPort()}, sentinels ${sentinel.sentinels.map((s) => `:${s.port}`).join(' ')}, fleet URL ${sentinel.url}`,
        )
      } else {
        const redis = await local.startRedis()
        onRedisPorts([redis.port])
        say(`redis-server ${redis.url}`)
      }
      const redisPort = local.redis?.port ?? 0
      const producer = await local.startProducer(timings.blockTimeMs)
      say(`producer ${producer.rpc}`)
      kyve = await startKyveSimulator({
        chainId: FLEET_KYVE_CHAIN_ID,
        sourceChainId: FLEET_SOURCE_CHAIN_ID,
        chainRpc: producer.rpc,
        maxBundleSize: FLEET_MAX_BUNDLE_SIZE,
        uploadInterval: FLEET_UPLOAD_INTERVAL,
        bundleEveryMs: timings.bundleEveryMs,
        pools: [
          { id: 0, paused: true },
          { id: 1, paused: true },
        ],
        log: () => {},
      })
      // LocalFleet's trackers read the KYVE URL from here; the soak's simulator serves two pools.
      local.kyve = kyve
      say(`KYVE simulator ${kyve.url} (pools 0 and 1)`)
      const fleet = new SoakFleet(local, kyve, timings, onUnexpectedExit, sentinel)
      for (const id of ['tracker-a', 'tracker-b']) await fleet.startTracker(id)
      say(`trackers ${fleet.trackers.map((t) => `${t.id} ${t.http}`).join(', ')}`)
      const specs = fleet.pools.flatMap((pool) => [0, 1, 2].map((n) => ({ pool, id: `p${pool}-s${n}` })))
      for (const index of ROUTED_SIDECARS) {
        const routed = await RedisPath.create(
          index,
          { host: '127.0.0.1', port: redisPort },
          RELAY_SCRIPT,
          dir,
          local.logs,
          say,
        )
        if (routed === null) break
        paths[index] = routed
        say(`${specs[index]?.id}: Redis through network namespace ${routed.netns} (${routed.url})`)
      }
      // The last `smallDisks` sidecars get a home of their own size (see small-disk.ts).
      await Promise.all(
        specs.map((spec, index) =>
          fleet.startSidecar(spec.id, spec.pool, index >= specs.length - smallDisks, paths[index] ?? null),
        ),
      )
      fleet.sidecars.sort((a, b) => a.id.localeCompare(b.id))
      say(`sidecars ${fleet.sidecars.map((s) => s.id).join(', ')}`)
      return fleet
    } catch (error) {
      await local.stop()
      for (const routed of paths) await routed?.remove()
      throw error
    }
  }

  private async startTracker(id: string): Promise<void> {
    const info = await this.local.startTracker({
      id,
      pruningIntervalHours: this.timings.pruningIntervalHours,
      leaseTtlMs: this.timings.leaseTtlMs,
      maxUnavailable: this.timings.maxUnavailable,
    })
    const tracker: SoakTracker = {
      id,
      kind: 'tracker',
      args: info.args,
      env: {},
      logFile: info.logFile,
      http: info.url,
      process: info.process,
      killExpected: false,
      restarts: 0,
    }
    this.watch(tracker)
    this.trackers.push(tracker)
  }

  /**
   * LocalFleet's sidecar set-up (init against the pool, config patched for fast ticks and fleet mode), started by
   * the soak itself so it can restart the same command after killing it.
   */
  private async startSidecar(
    id: string,
    pool: number,
    ownDisk: boolean,
    redisPath: RedisPath | null,
  ): Promise<void> {
    const home = path.join(this.dir, `node-${id}`)
    await mkdir(home, { recursive: true })
    const smallDisk = ownDisk && (await mountSmallDisk(home))
    const { args, http, rpc, configDir } = await this.local.prepareSidecar({
      id,
      poolId: pool,
      home,
      pruningIntervalHours: this.timings.pruningIntervalHours,
      trackerTimeoutSeconds: this.timings.trackerTimeoutSeconds,
      // The crash-restart backoff doubles up to 5 min and resets only after 10 min up (the kubelet curve); the soak
      // kills the same node several times in 10 min, so its cap is scaled down like every other timing here.
      restartBackoffMaxSeconds: 16,
    })
    const clockFile = LIBFAKETIME === null ? null : path.join(this.dir, `clock-${id}.rc`)
    const env = {
      ...(clockFile === null ? {} : await fakeClockEnv(clockFile)),
      // Wins over the config file's fleet.redisUrl.
      ...(redisPath === null ? {} : { GHOSTFLEET_REDIS_URL: redisPath.url }),
    }
    const sidecar: SoakSidecar = {
      id,
      kind: 'sidecar',
      pool,
      clockFile,
      smallDisk,
      redisPath,
      args,
      env,
      logFile: this.local.logFile(id),
      http,
      process: this.spawn(id, args, env),
      killExpected: false,
      restarts: 0,
      rpc,
      home,
      configDir,
    }
    this.watch(sidecar)
    await waitForHttp(`${sidecar.http}/livez`, sidecar.process, id)
    this.sidecars.push(sidecar)
  }

  /**
   * SIGKILLs the member's own process (not its group: a sidecar's node survives it, as it may under systemd with
   * `KillMode=process`, and the restarted sidecar must cope), waits for the exit, starts the same command again
   * and waits for its HTTP API.
   */
  async killAndRestart(member: Member): Promise<void> {
    member.killExpected = true
    member.process.kill('SIGKILL')
    await member.process.exit()
    member.killExpected = false
    member.process = this.spawn(member.id, member.args, member.env)
    member.restarts++
    this.watch(member)
    await waitForHttp(`${member.http}/livez`, member.process, member.id)
  }

  /** The sidecars first (each stops its node), then the trackers, then LocalFleet's own (producer, KYVE, Redis). */
  async stop(say: (line: string) => void): Promise<void> {
    const stopOne = async (member: Member, graceMs: number) => {
      member.killExpected = true
      say(`${member.id}: exit ${await member.process.stop(graceMs)}`)
    }
    await Promise.all(this.sidecars.map((s) => stopOne(s, 30_000)))
    await Promise.all(this.trackers.map((t) => stopOne(t, 15_000)))
    await this.local.stop(say)
    for (const sidecar of this.sidecars) {
      if (sidecar.smallDisk) await unmountSmallDisk(sidecar.home)
      await sidecar.redisPath?.remove()
    }
  }

  private spawn(name: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
    return new ManagedProcess(name, process.execPath, args, this.local.logFile(name), env, { group: true })
  }

  private watch(member: Member): void {
    const proc = member.process
    void proc.exit().then((exit) => {
      if (member.process === proc && !member.killExpected) this.onUnexpectedExit(member, exit)
    })
  }
}

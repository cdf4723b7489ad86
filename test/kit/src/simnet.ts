import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SidecarConfigInput } from '@ghostfleet/core'
import { eventually, freePort } from '@ghostfleet/local-services'
import { stringify } from 'smol-toml'
import { getJson, getText, type Json } from './http.js'
import { runProcess, startProcess, type TestProcess } from './process.js'
import { type TempDir, tempDir } from './temp.js'

/*
 * A small network of real processes: simulated nodes (a producer, followers that find it through their address book
 * only) and sidecars supervising them, every one started from the built CLIs (`npx turbo run build`). Every process
 * is tracked and killed in `cleanup()`; sidecars run in their own process group. Their nodes lead process groups of
 * their own (so the sidecar can stop a node's whole tree) and are found through {@link SimNet.nodesLaunchedBy}, so
 * they go too, orphans of a killed sidecar included.
 *
 * The simulated KYVE API is devnet's and the node finder is the sidecar's: the kit cannot depend on either (both
 * depend on the kit), so a suite's subclass supplies them and registers what it starts with `stopAtCleanup`.
 */

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
export const SIMNODE_CLI = path.join(REPO, 'apps', 'devnet', 'dist', 'simnode-cli.js')
export const SIDECAR_CLI = path.join(REPO, 'apps', 'sidecar', 'dist', 'cli.js')
export const TRACKER_CLI = path.join(REPO, 'apps', 'tracker', 'dist', 'cli.js')

/** The chain the net's homes run (`initHome`'s default); a simulated pool names it as its source chain. */
export const SIM_CHAIN_ID = 'sim-1'

export interface HomeInfo {
  home: string
  id: string
}

export interface Producer {
  proc: TestProcess
  id: string
  rpcPort: number
  p2pPort: number
  /** `id@127.0.0.1:port` */
  address: string
  height(): Promise<number>
}

export interface Follower extends HomeInfo {
  rpcPort: number
  p2pPort: number
  rpcUrl: string
}

export interface Stoppable {
  stop(): Promise<void>
}

/** Heights from a node's /status; `null` while it does not answer. */
export async function nodeStatus(
  rpcUrl: string,
  timeoutMs = 2_000,
): Promise<{ height: number; base: number; catchingUp: boolean } | null> {
  const answer = await getJson(`${rpcUrl}/status`, timeoutMs)
  if (answer === null || answer.status !== 200) return null
  const info = (answer.body as { result?: { sync_info?: Record<string, unknown> } }).result?.sync_info
  if (info === undefined) return null
  return {
    height: Number(info['latest_block_height']),
    base: Number(info['earliest_block_height']),
    catchingUp: info['catching_up'] === true,
  }
}

/** The node's height once it answers (it may be restarting right now). */
export async function answeredHeight(rpcUrl: string, timeoutMs = 20_000): Promise<number> {
  return await eventually(
    async () => {
      const status = await nodeStatus(rpcUrl)
      if (status === null) throw new Error(`${rpcUrl} does not answer`)
      return status.height
    },
    { timeoutMs, intervalMs: 100, description: `${rpcUrl} to answer` },
  )
}

/** A running `ghostfleet-sidecar start`. */
export class SidecarProcess {
  private out = ''
  readonly exited: Promise<number | string>
  private done = false

  constructor(
    readonly child: ChildProcess,
    readonly configDir: string,
    readonly httpUrl: string,
    private readonly nodesLaunchedBy: (configDir: string) => Promise<number[]>,
  ) {
    const collect = (chunk: Buffer) => {
      this.out += chunk.toString('utf8')
      if (this.out.length > 2_000_000) this.out = this.out.slice(-1_000_000)
      if (process.env['GF_TEST_ECHO']) process.stderr.write(chunk)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.done = true
        resolve(code ?? signal ?? -1)
      })
    })
  }

  get pid(): number {
    return this.child.pid as number
  }

  hasExited(): boolean {
    return this.done
  }

  output(): string {
    return this.out
  }

  /** The JSON log lines written so far. */
  logs(): Array<Record<string, unknown>> {
    return this.out
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>]
        } catch {
          return []
        }
      })
  }

  logsMatching(pattern: RegExp): Array<Record<string, unknown>> {
    return this.logs().filter((entry) => pattern.test(String(entry['msg'] ?? '')))
  }

  async status(): Promise<Json> {
    const answer = await getJson(`${this.httpUrl}/status`)
    if (answer === null || answer.status !== 200)
      throw new Error(`sidecar /status: ${JSON.stringify(answer)}`)
    return answer.body
  }

  async metrics(): Promise<string> {
    return await getText(`${this.httpUrl}/metrics`)
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.done) this.child.kill(signal)
  }

  /** SIGKILL the sidecar alone (its node survives, as after a real crash). */
  killSidecarOnly(): void {
    this.signal('SIGKILL')
  }

  /** SIGKILL the sidecar's process group, and every node process a sidecar of its config directory launched. */
  async killGroup(): Promise<void> {
    const targets = [this.pid, ...(await this.nodesLaunchedBy(this.configDir))]
    for (const pid of targets) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL')
        } catch {
          // Already gone, or not a group leader.
        }
      }
    }
  }
}

export abstract class SimNet {
  private readonly procs: TestProcess[] = []
  private readonly sidecars: SidecarProcess[] = []
  private readonly resources: Stoppable[] = []

  constructor(readonly dir: TempDir) {}

  static async create<T extends SimNet>(
    this: new (
      dir: TempDir,
    ) => T,
    prefix = 'gf-sidecar-e2e-',
  ): Promise<T> {
    return new this(await tempDir(prefix))
  }

  /** The living node processes a sidecar of `configDir` launched (the sidecar's own /proc scan). */
  protected abstract nodesLaunchedBy(configDir: string): Promise<number[]>

  path(...parts: string[]): string {
    return path.join(this.dir.path, ...parts)
  }

  /** Stops `resource` (a simulated KYVE API, a Redis) at {@link cleanup}, after every process is gone. */
  stopAtCleanup<T extends Stoppable>(resource: T): T {
    this.resources.push(resource)
    return resource
  }

  /** Kills `proc` at {@link cleanup}. */
  track(proc: TestProcess): TestProcess {
    this.procs.push(proc)
    return proc
  }

  async initHome(name: string, chainId = SIM_CHAIN_ID): Promise<HomeInfo> {
    const home = this.path(name)
    const r = await runProcess('node', [
      SIMNODE_CLI,
      'init',
      '--home',
      home,
      '--chain-id',
      chainId,
      '--moniker',
      name,
    ])
    if (r.code !== 0) throw new Error(`simnode init failed: ${r.stderr}`)
    return { home, id: (JSON.parse(r.stdout) as { node_id: string }).node_id }
  }

  async startProducer(blockTimeMs = 100, chainId = SIM_CHAIN_ID): Promise<Producer> {
    const info = await this.initHome('producer', chainId)
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    const proc = this.track(
      startProcess('node', [
        SIMNODE_CLI,
        'start',
        '--home',
        info.home,
        '--producer',
        '--block-time',
        String(blockTimeMs),
        '--rpc.laddr',
        `tcp://127.0.0.1:${rpcPort}`,
        '--p2p.laddr',
        `tcp://127.0.0.1:${p2pPort}`,
        '--log-level',
        'error',
      ]),
    )
    const rpcUrl = `http://127.0.0.1:${rpcPort}`
    await eventually(
      async () => {
        if (proc.hasExited()) throw new Error(`producer exited: ${proc.output()}`)
        if ((await nodeStatus(rpcUrl)) === null) throw new Error('producer RPC not up')
      },
      { timeoutMs: 20_000, description: 'producer RPC' },
    )
    return {
      proc,
      id: info.id,
      rpcPort,
      p2pPort,
      address: `${info.id}@127.0.0.1:${p2pPort}`,
      height: async () => (await nodeStatus(rpcUrl))?.height ?? 0,
    }
  }

  /**
   * A follower home on fixed loopback ports, whose only way to the producer is its address book (no seeds,
   * no persistent peers): in normal mode it syncs, in ghost mode it cannot.
   */
  async follower(
    producer: Producer,
    options: { name?: string; extraConfig?: (text: string) => string } = {},
  ): Promise<Follower> {
    const info = await this.initHome(options.name ?? 'follower')
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    const configFile = path.join(info.home, 'config', 'config.toml')
    let config = await readFile(configFile, 'utf8')
    config = config
      .replace(/^laddr = "tcp:\/\/127\.0\.0\.1:26657"$/m, `laddr = "tcp://127.0.0.1:${rpcPort}"`)
      .replace(/^laddr = "tcp:\/\/0\.0\.0\.0:26656"$/m, `laddr = "tcp://127.0.0.1:${p2pPort}"`)
    if (options.extraConfig) config = options.extraConfig(config)
    await writeFile(configFile, config)
    await writeFile(path.join(info.home, 'config', 'addrbook.json'), addressBookWith(producer))
    return { ...info, rpcPort, p2pPort, rpcUrl: `http://127.0.0.1:${rpcPort}` }
  }

  /** `<dir>/bin/simnode`: a wrapper script so the sidecar launches the simulated node like a chain binary. */
  async nodeBinary(): Promise<string> {
    const file = this.path('bin', 'simnode')
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE_CLI}" "$@"\n`)
    await chmod(file, 0o755)
    return file
  }

  /** Writes `<configDir>/config.toml` (validated by the sidecar when it starts). */
  async writeConfig(configDir: string, config: SidecarConfigInput): Promise<void> {
    await mkdir(configDir, { recursive: true })
    await writeFile(path.join(configDir, 'config.toml'), stringify(config))
  }

  /**
   * Starts `ghostfleet-sidecar start --config <dir>` in its own process group, logging at `GHOSTFLEET_LOG_LEVEL`
   * (debug unless set), `env` added.
   */
  startSidecar(
    configDir: string,
    httpPort: number,
    extraArgs: string[] = [],
    env: NodeJS.ProcessEnv = {},
  ): SidecarProcess {
    const child = spawn(process.execPath, [SIDECAR_CLI, 'start', '--config', configDir, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, GHOSTFLEET_LOG_LEVEL: process.env['GHOSTFLEET_LOG_LEVEL'] ?? 'debug', ...env },
    })
    const sidecar = new SidecarProcess(child, configDir, `http://127.0.0.1:${httpPort}`, (dir) =>
      this.nodesLaunchedBy(dir),
    )
    this.sidecars.push(sidecar)
    return sidecar
  }

  async cleanup(): Promise<void> {
    for (const sidecar of this.sidecars.splice(0)) await sidecar.killGroup()
    await Promise.all(this.procs.splice(0).map((p) => p.stop('SIGKILL')))
    for (const resource of this.resources.splice(0)) await resource.stop().catch(() => undefined)
    await this.dir.remove()
  }
}

/** A CometBFT address book holding the producer (as a follower that met it would have). */
export function addressBookWith(producer: Producer): string {
  const zero = '0001-01-01T00:00:00Z'
  const addr = { id: producer.id, ip: '127.0.0.1', port: producer.p2pPort }
  return `${JSON.stringify(
    {
      key: '0123456789abcdef01234567',
      addrs: [
        {
          addr,
          src: addr,
          buckets: [7],
          attempts: 0,
          bucket_type: 1,
          last_attempt: zero,
          last_success: zero,
          last_ban_time: zero,
        },
      ],
    },
    null,
    '\t',
  )}\n`
}

/** A sidecar config for tests: fast ticks, small thresholds, short timeouts, every default otherwise. */
export function testConfig(options: {
  binary: string
  follower: Follower
  kyveUrl: string
  httpPort: number
  thresholds?: { heightDifferenceMax: number; heightDifferenceMin: number; keepRecent: number }
  flags?: string
  intervalSeconds?: number
  pruningIntervalHours?: number
  pruningEnabled?: boolean
  maxPoolAgeSeconds?: number
  backoff?: { initial: number; max: number }
  /** Append the node's output to this file instead of passing it through. */
  logFile?: string
}): SidecarConfigInput {
  return {
    node: {
      binary: options.binary,
      home: options.follower.home,
      launcher: 'binary',
      flags: options.flags ?? '--log-level error',
      rpcEndpoint: options.follower.rpcUrl,
      stopGraceSeconds: 10,
      ...(options.logFile === undefined ? {} : { output: 'file' as const, logFile: options.logFile }),
    },
    pool: {
      chainId: 'kyve-1',
      poolId: 1,
      endpoints: [options.kyveUrl],
      maxPoolAgeSeconds: options.maxPoolAgeSeconds ?? 30,
    },
    thresholds: options.thresholds ?? { heightDifferenceMax: 40, heightDifferenceMin: 20, keepRecent: 60 },
    pruning: {
      enabled: options.pruningEnabled ?? true,
      intervalHours: options.pruningIntervalHours ?? 0.0005,
      margin: 1,
    },
    supervision: {
      intervalSeconds: options.intervalSeconds ?? 0.5,
      restartBackoffInitialSeconds: options.backoff?.initial ?? 0.2,
      restartBackoffMaxSeconds: options.backoff?.max ?? 1,
      restartBackoffResetSeconds: 600,
    },
    http: { enabled: true, listen: `127.0.0.1:${options.httpPort}` },
  }
}

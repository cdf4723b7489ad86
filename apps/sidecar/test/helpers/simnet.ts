import { type ChildProcess, spawn } from 'node:child_process'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SidecarConfigInput } from '@ghostfleet/core'
import { type KyveSimulator, type KyveSimulatorOptions, startKyveSimulator } from '@ghostfleet/devnet'
import {
  eventually,
  freePort,
  runProcess,
  startProcess,
  type TempDir,
  type TestProcess,
  tempDir,
} from '@ghostfleet/testkit'
import { stringify } from 'smol-toml'
import { processesLaunchedBy } from '../../src/supervisor/process-inspect.js'

/*
 * A small network for end-to-end tests: a producer simnode, a follower home supervised by a real
 * `ghostfleet-sidecar start` process, and the simulated KYVE API in-process. Everything runs from the built
 * CLIs (`npx turbo run build --filter=@ghostfleet/sidecar...`). Every process is tracked and killed in
 * `cleanup()`; sidecars run in their own process group. Their nodes lead process groups of their own (so the
 * sidecar can stop a node's whole tree), and are found by the environment marker the sidecar gives them, so
 * they go too, orphans of a killed sidecar included.
 */

export const SIMNODE_CLI = fileURLToPath(new URL('../../../devnet/dist/simnode-cli.js', import.meta.url))
export const SIDECAR_CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

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

// biome-ignore lint/suspicious/noExplicitAny: JSON documents are inspected freely in assertions
export type Json = Record<string, any>

/** GET a JSON document; `null` when the server does not answer. */
export async function getJson(
  url: string,
  timeoutMs = 3_000,
): Promise<{ status: number; body: unknown } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    const text = await response.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
    return { status: response.status, body }
  } catch {
    return null
  }
}

export async function getText(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) })
  return await response.text()
}

/** The value of one series in a Prometheus text exposition (`name{a="b"}`), or undefined. */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const match = /^([a-z_]+)(\{([^}]*)\})?\s+(\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = new Map<string, string>()
    for (const pair of (match[3] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g))
      found.set(pair[1] as string, pair[2] as string)
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) return Number(match[4])
  }
  return undefined
}

/** Heights from a node's /status; `null` while it does not answer. */
export async function nodeStatus(
  rpcUrl: string,
): Promise<{ height: number; base: number; catchingUp: boolean } | null> {
  const answer = await getJson(`${rpcUrl}/status`, 2_000)
  if (answer === null || answer.status !== 200) return null
  const info = (answer.body as { result: { sync_info: Record<string, unknown> } }).result.sync_info
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
  ) {
    const collect = (chunk: Buffer) => {
      this.out += chunk.toString('utf8')
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
    return answer.body as Json
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
    const targets = [this.pid, ...(await processesLaunchedBy(this.configDir))]
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

export class SimNet {
  private readonly procs: TestProcess[] = []
  private readonly sidecars: SidecarProcess[] = []
  private kyveSim: KyveSimulator | undefined

  private constructor(readonly dir: TempDir) {}

  static async create(prefix = 'gf-sidecar-e2e-'): Promise<SimNet> {
    return new SimNet(await tempDir(prefix))
  }

  path(...parts: string[]): string {
    return path.join(this.dir.path, ...parts)
  }

  async initHome(name: string, chainId = 'sim-1'): Promise<HomeInfo> {
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

  async startProducer(blockTimeMs = 100, chainId = 'sim-1'): Promise<Producer> {
    const info = await this.initHome('producer', chainId)
    const rpcPort = await freePort()
    const p2pPort = await freePort()
    const proc = startProcess('node', [
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
    ])
    this.procs.push(proc)
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

  /** `<dir>/simnode`: a wrapper script so the sidecar launches the simulated node like a chain binary. */
  async nodeBinary(): Promise<string> {
    const file = this.path('bin', 'simnode')
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${SIMNODE_CLI}" "$@"\n`)
    await chmod(file, 0o755)
    return file
  }

  async startKyve(options: KyveSimulatorOptions): Promise<KyveSimulator> {
    // The pools serve the chain SimNet's homes run (initHome's default), as a real pool's config names it.
    this.kyveSim = await startKyveSimulator({ sourceChainId: 'sim-1', ...options })
    return this.kyveSim
  }

  /** Writes `<configDir>/config.toml` (validated by the sidecar when it starts). */
  async writeConfig(configDir: string, config: SidecarConfigInput): Promise<void> {
    await mkdir(configDir, { recursive: true })
    await writeFile(path.join(configDir, 'config.toml'), stringify(config))
  }

  /** Starts `ghostfleet-sidecar start --config <dir>` in its own process group. */
  startSidecar(configDir: string, httpPort: number, extraArgs: string[] = []): SidecarProcess {
    const child = spawn(process.execPath, [SIDECAR_CLI, 'start', '--config', configDir, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, GHOSTFLEET_LOG_LEVEL: process.env['GHOSTFLEET_LOG_LEVEL'] ?? 'debug' },
    })
    const sidecar = new SidecarProcess(child, configDir, `http://127.0.0.1:${httpPort}`)
    this.sidecars.push(sidecar)
    return sidecar
  }

  async cleanup(): Promise<void> {
    for (const sidecar of this.sidecars.splice(0)) await sidecar.killGroup()
    await Promise.all(this.procs.splice(0).map((p) => p.stop('SIGKILL')))
    await this.kyveSim?.stop().catch(() => undefined)
    this.kyveSim = undefined
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

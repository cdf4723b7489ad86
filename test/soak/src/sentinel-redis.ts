import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { ManagedProcess } from '@ghostfleet/devnet'
import { canConnect, eventually, freePort, type TestRedis } from '@ghostfleet/testkit'
import { Redis } from 'ioredis'
import { type Address, TcpRelay } from './tcp-relay.js'

export type { Address } from './tcp-relay.js'

/*
 * Redis behind Debian's redis-sentinel, as the soak runs it: one primary, one replica, three sentinels, all on
 * free loopback ports, no persistence. The fleet reaches the primary through a TCP relay that follows Sentinel
 * (each new connection goes to the primary Sentinel names; a `+switch-master` drops every open one, so clients
 * reconnect to the new primary), the way an operator fronts Sentinel with HAProxy for clients that take a plain
 * address. The binaries take only a `redis://` URL (see the report); the soak's own observer asks Sentinel
 * directly.
 *
 * A failover loses writes on purpose: the replica is stopped (SIGSTOP) while the fleet keeps writing to the
 * primary, the primary is SIGKILLed, the replica continued; Sentinel promotes it without what it never received.
 */

export const MASTER_NAME = 'ghostfleet'
/** How long the replica misses the primary's writes before the primary dies: below `down-after`, so Sentinel
 * does not count the replica as down and may promote it. */
const UNREPLICATED_MS = 800
const DOWN_AFTER_MS = 1_000

interface DataServer {
  port: number
  dir: string
  process: ManagedProcess
}

export class SentinelRedis implements TestRedis {
  readonly sentinels: Address[] = []
  private readonly sentinelProcesses: ManagedProcess[] = []
  private readonly servers: DataServer[] = []
  private master: Address | null = null
  private relay: TcpRelay | null = null
  private readonly watchers: Redis[] = []

  private constructor(
    private readonly dir: string,
    private readonly logDir: string,
    readonly port: number,
  ) {}

  /** The fleet's Redis URL: the relay that follows Sentinel. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Every port this set-up listens on (the leftover search matches redis processes by port). */
  ports(): number[] {
    return [this.port, ...this.servers.map((s) => s.port), ...this.sentinels.map((s) => s.port)]
  }

  /** The primary's port as Sentinel names it (null before the first answer). */
  masterPort(): number | null {
    return this.master?.port ?? null
  }

  static async start(dir: string, logDir: string): Promise<SentinelRedis> {
    await mkdir(dir, { recursive: true })
    const set = new SentinelRedis(dir, logDir, await freePort())
    try {
      set.relay = await TcpRelay.listen({ host: '127.0.0.1', port: set.port }, () => set.master)
      const primary = await set.startServer(await freePort(), null)
      await set.startServer(await freePort(), primary.port)
      for (let i = 0; i < 3; i++) await set.startSentinel(i, primary.port)
      set.master = { host: '127.0.0.1', port: primary.port }
      await set.awaitSentinelsReady()
      for (const sentinel of set.sentinels) set.watch(sentinel)
      return set
    } catch (error) {
      await set.stop()
      throw error
    }
  }

  /**
   * The failover with lost writes; resolves when Sentinel names the new primary and the old one runs again as its
   * replica. Returns a note for the report.
   */
  async failover(): Promise<string> {
    const oldPort = this.master?.port
    const primary = this.servers.find((s) => s.port === oldPort)
    const replica = this.servers.find((s) => s.port !== oldPort)
    if (primary === undefined || replica === undefined) throw new Error('no primary and replica to fail over')
    const replicaOffset = await replOffset(replica.port, 'slave_repl_offset')
    replica.process.kill('SIGSTOP')
    let primaryOffset: number | null = null
    try {
      // The window of writes the replica will never see: part of the fault, not a wait for anything.
      await delay(UNREPLICATED_MS)
      primaryOffset = await replOffset(primary.port, 'master_repl_offset')
      primary.process.kill('SIGKILL')
      await primary.process.exit()
    } finally {
      replica.process.kill('SIGCONT')
    }
    await eventually(
      async () => {
        const named = await this.askSentinel()
        if (named?.port !== replica.port) throw new Error(`Sentinel still names ${JSON.stringify(named)}`)
        this.switchTo(named)
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'Sentinel promoting the replica' },
    )
    // The old primary comes back empty, as a replica of the new one.
    this.servers.splice(this.servers.indexOf(primary), 1)
    await this.startServer(primary.port, replica.port)
    const lost =
      primaryOffset !== null && replicaOffset !== null ? `${primaryOffset - replicaOffset} bytes` : 'unknown'
    return `primary :${primary.port} killed, replica :${replica.port} promoted; unreplicated writes lost: ${lost}`
  }

  /** TestRedis: the data set is lost (both servers killed and started empty in their roles). */
  async kill(): Promise<void> {
    for (const server of this.servers) {
      server.process.kill('SIGKILL')
      await server.process.exit()
    }
  }

  async restart(): Promise<void> {
    const masterPort = this.master?.port
    const old = this.servers.splice(0)
    const first = old.find((s) => s.port === masterPort) ?? old[0]
    for (const server of [first, ...old.filter((s) => s !== first)]) {
      if (server === undefined) continue
      if (!server.process.hasExited()) {
        server.process.kill('SIGKILL')
        await server.process.exit()
      }
      await this.startServer(server.port, server === first ? null : (first?.port ?? null))
    }
    this.relay?.dropAll()
  }

  async stop(): Promise<void> {
    for (const watcher of this.watchers) watcher.disconnect()
    await this.relay?.close()
    await Promise.all(
      [...this.sentinelProcesses, ...this.servers.map((s) => s.process)].map((p) => p.stop(5_000)),
    )
  }

  /** SIGKILLs every process at once (an `exit` handler). */
  killNow(): void {
    for (const p of [...this.sentinelProcesses, ...this.servers.map((s) => s.process)]) p.killNow()
  }

  private async startServer(port: number, replicaOf: number | null): Promise<DataServer> {
    const dir = path.join(this.dir, `redis-${port}`)
    await mkdir(dir, { recursive: true })
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    args.push('--dir', dir)
    if (replicaOf !== null) args.push('--replicaof', '127.0.0.1', String(replicaOf))
    const proc = new ManagedProcess(
      `redis-${port}`,
      'redis-server',
      args,
      path.join(this.logDir, `redis-${port}.log`),
      {},
      { group: true },
    )
    await eventually(
      async () => {
        if (proc.hasExited()) throw new Error(`redis-server :${port} exited (see its log)`)
        if (!(await canConnect(port))) throw new Error('not accepting connections yet')
      },
      { timeoutMs: 15_000, description: `redis-server on port ${port}` },
    )
    const server = { port, dir, process: proc }
    this.servers.push(server)
    return server
  }

  private async startSentinel(index: number, masterPort: number): Promise<void> {
    const port = await freePort()
    const dir = path.join(this.dir, `sentinel-${index}`)
    await mkdir(dir, { recursive: true })
    const conf = path.join(dir, 'sentinel.conf')
    // Sentinel rewrites its own config file (discovered replicas and sentinels, the current epoch).
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'sentinel resolve-hostnames no',
        `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${MASTER_NAME} 1`,
        '',
      ].join('\n'),
    )
    const proc = new ManagedProcess(
      `sentinel-${index}`,
      'redis-sentinel',
      [conf],
      path.join(this.logDir, `sentinel-${index}.log`),
      {},
      { group: true },
    )
    this.sentinelProcesses.push(proc)
    await eventually(
      async () => {
        if (proc.hasExited()) throw new Error(`redis-sentinel ${index} exited (see its log)`)
        if (!(await canConnect(port))) throw new Error('not accepting connections yet')
      },
      { timeoutMs: 15_000, description: `redis-sentinel on port ${port}` },
    )
    this.sentinels.push({ host: '127.0.0.1', port })
  }

  /** Every sentinel knows the replica and the two other sentinels: a failover can be agreed. */
  private async awaitSentinelsReady(): Promise<void> {
    await eventually(
      async () => {
        for (const sentinel of this.sentinels) {
          const client = directClient(sentinel.port)
          try {
            const replicas = (await client.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[]
            const peers = (await client.call('SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[]
            if (replicas.length < 1 || peers.length < 2)
              throw new Error(
                `sentinel :${sentinel.port} sees ${replicas.length} replicas, ${peers.length} peers`,
              )
          } finally {
            client.disconnect()
          }
        }
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'sentinels discovering each other and the replica' },
    )
  }

  /** Follows `+switch-master` on one sentinel: the relay's target changes at once. */
  private watch(sentinel: Address): void {
    const client = new Redis({ host: sentinel.host, port: sentinel.port, retryStrategy: () => 500 })
    client.on('error', () => {})
    client.on('message', (_channel: string, message: string) => {
      // "<name> <old-ip> <old-port> <new-ip> <new-port>"
      const [name, , , host, port] = message.split(' ')
      if (name === MASTER_NAME && host !== undefined && port !== undefined)
        this.switchTo({ host, port: Number(port) })
    })
    client.subscribe('+switch-master').catch(() => {})
    this.watchers.push(client)
  }

  private switchTo(address: Address): void {
    if (this.master?.host === address.host && this.master.port === address.port) return
    this.master = address
    this.relay?.dropAll()
  }

  private async askSentinel(): Promise<Address | null> {
    for (const sentinel of this.sentinels) {
      const client = directClient(sentinel.port)
      try {
        const answer = (await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as
          | [string, string]
          | null
        if (answer !== null) return { host: answer[0], port: Number(answer[1]) }
      } catch {
        // Try the next sentinel.
      } finally {
        client.disconnect()
      }
    }
    return null
  }
}

function directClient(port: number): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  return client
}

/** A replication offset from `INFO replication`, or null when the server does not answer. */
async function replOffset(port: number, field: string): Promise<number | null> {
  const client = directClient(port)
  try {
    const info = await client.info('replication')
    const value = new RegExp(`${field}:(\\d+)`).exec(info)?.[1]
    return value === undefined ? null : Number(value)
  } catch {
    return null
  } finally {
    client.disconnect()
  }
}

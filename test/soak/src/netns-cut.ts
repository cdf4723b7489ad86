import { execFile, execFileSync } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { promisify } from 'node:util'
import { ManagedProcess } from '@ghostfleet/devnet'
import { eventually } from '@ghostfleet/testkit'
import { type Address, TcpRelay } from './tcp-relay.js'

const run = promisify(execFile)

/*
 * A sidecar's path to Redis through a network namespace of the soak's own, so that the soak can cut that path and
 * nothing else: the sidecar keeps its node, KYVE and its HTTP API on loopback.
 *
 *   sidecar ──▶ ns address :6379 ─(veth)─▶ relay inside the namespace ─(veth)─▶ host-side address ──▶ relay in the
 *   soak ──▶ the fleet's Redis
 *
 * The cut brings the namespace's end of the veth down: packets stop both ways with no reset, as in a network
 * partition. Only the pair the soak created is touched (names carry the soak's pid; the /30 is checked unused
 * first), and everything is removed on stop, on the process's exit, and looked for afterwards (`leftoverNetns`).
 * Needs root and iproute2; without them the sidecars talk to Redis directly and the fault is skipped.
 */

const NETNS_PREFIX = `gfsoak${process.pid}n`
const NS_REDIS_PORT = 6379

export class RedisPath {
  private constructor(
    readonly netns: string,
    private readonly nsVeth: string,
    readonly nsAddress: string,
    private readonly hostRelay: TcpRelay,
    private readonly nsRelay: ManagedProcess,
  ) {}

  /** The URL the routed sidecar is given. */
  get url(): string {
    return `redis://${this.nsAddress}:${NS_REDIS_PORT}`
  }

  /** Creates namespace `index` and its relays to `redis`; null when this host does not allow it (not root). */
  static async create(
    index: number,
    redis: Address,
    relayScript: string,
    marker: string,
    logDir: string,
    say: (line: string) => void,
  ): Promise<RedisPath | null> {
    if (process.getuid?.() !== 0) return null
    const netns = `${NETNS_PREFIX}${index}`
    const hostVeth = `gf${process.pid}h${index}`
    const nsVeth = `gf${process.pid}i${index}`
    const subnet = await freeSubnet(index)
    const hostAddress = `${subnet}.1`
    const nsAddress = `${subnet}.2`
    try {
      await ip('netns', 'add', netns)
      await ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth)
      await ip('link', 'set', nsVeth, 'netns', netns)
      await ip('addr', 'add', `${hostAddress}/30`, 'dev', hostVeth)
      await ip('link', 'set', hostVeth, 'up')
      await ip('-n', netns, 'addr', 'add', `${nsAddress}/30`, 'dev', nsVeth)
      await ip('-n', netns, 'link', 'set', nsVeth, 'up')
      await ip('-n', netns, 'link', 'set', 'lo', 'up')
    } catch (error) {
      removeNetnsSync(netns)
      say(`no network namespace for the Redis cut (${String(error).split('\n')[0]}); the fault is skipped`)
      return null
    }
    const hostRelay = await TcpRelay.listen({ host: hostAddress, port: 0 }, () => redis)
    const hostPort = hostRelay.port
    const nsRelay = new ManagedProcess(
      `relay-${netns}`,
      'ip',
      [
        'netns',
        'exec',
        netns,
        process.execPath,
        relayScript,
        nsAddress,
        String(NS_REDIS_PORT),
        hostAddress,
        String(hostPort),
        marker,
      ],
      path.join(logDir, `relay-${netns}.log`),
      {},
      { group: true },
    )
    const routed = new RedisPath(netns, nsVeth, nsAddress, hostRelay, nsRelay)
    try {
      await eventually(
        async () => {
          if (nsRelay.hasExited()) throw new Error(`the relay in ${netns} exited (see its log)`)
          if (!(await canConnectTo(nsAddress, NS_REDIS_PORT)))
            throw new Error('not accepting connections yet')
        },
        { timeoutMs: 15_000, description: `relay in ${netns}` },
      )
    } catch (error) {
      await routed.remove()
      throw error
    }
    return routed
  }

  /** Brings the namespace's end of the veth down: the sidecar's Redis traffic stops both ways. */
  async cut(): Promise<void> {
    await ip('-n', this.netns, 'link', 'set', this.nsVeth, 'down')
  }

  async heal(): Promise<void> {
    await ip('-n', this.netns, 'link', 'set', this.nsVeth, 'up')
  }

  async remove(): Promise<void> {
    await this.nsRelay.stop(5_000)
    await this.hostRelay.close()
    removeNetnsSync(this.netns)
  }
}

/** The soak's namespaces still present (deleting a namespace deletes its veth pair). */
export function leftoverNetns(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(NETNS_PREFIX))
  } catch {
    return []
  }
}

/** Removes every namespace of this soak, synchronously (an `exit` handler); returns their names. */
export function removeAllNetnsSync(): string[] {
  const left = leftoverNetns()
  for (const netns of left) removeNetnsSync(netns)
  return left
}

function removeNetnsSync(netns: string): void {
  try {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' })
  } catch {
    // Not there.
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args)
}

/** A 10.x.y.0/30 that no address or route of this host uses yet (the first three octets). */
async function freeSubnet(index: number): Promise<string> {
  const { stdout: addrs } = await run('ip', ['-4', '-o', 'addr', 'show'])
  const { stdout: routes } = await run('ip', ['-4', 'route', 'show', 'table', 'all'])
  for (let attempt = 0; attempt < 64; attempt++) {
    const subnet = `10.${213 + index}.${(process.pid + attempt * 7) % 256}`
    const prefix = `${subnet}.`
    if (!addrs.includes(prefix) && !routes.includes(prefix) && !routes.includes(`${subnet}.0/`)) return subnet
  }
  throw new Error('no free 10.x.y.0/30 for the soak namespace')
}

async function canConnectTo(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

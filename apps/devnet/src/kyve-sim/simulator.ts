import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { handleAdminRequest, type SimulatorControl, UnknownPoolError } from './admin-api.js'
import { type Fault, FaultRegistry, type FaultSpec } from './faults.js'
import { GoNumError, goParseUint } from './go-strconv.js'
import { handleKyveRequest, type KyveApiContext, type Reply } from './kyve-api.js'
import { type Logger, silentLogger } from './log.js'
import { type KyveSimulatorOptions, resolveSimulatorOptions } from './options.js'
import { parsePoolPatch } from './pool-patch.js'
import { KyveChainClock, PoolRunner, type PoolSnapshot } from './pool-runner.js'
import { SimulatedPool } from './pool-state.js'
import { type KyveSimStats, RequestStats } from './request-stats.js'

/** A running KYVE REST simulator (see {@link startKyveSimulator}). */
export interface KyveSimulator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the REST endpoint to give clients). */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Adds a fault (see faults.ts for the kinds). @throws InvalidFaultError */
  setFault(spec: FaultSpec): Fault
  /** Clears every fault, or only those bound to `poolId`; returns how many were cleared. */
  clearFaults(poolId?: string | number): number
  /** Clears one fault by id. */
  clearFault(id: string): boolean
  /** The active faults. */
  faults(): Fault[]
  /**
   * Changes a pool: `{ currentKey, paused, tick, chainHeight, disabled, endKey, maxBundleSize, uploadInterval,
   * lagBlocks }` (see pool-patch.ts). Resolves with the pool after the change (and the round, with `tick`).
   * @throws UnknownPoolError, InvalidPoolPatchError, PoolChangeRejectedError — nothing changed then.
   */
  setPool(poolId: string | number, patch: unknown): Promise<PoolSnapshot>
  /** A pool's simulator-side state. @throws UnknownPoolError */
  pool(poolId: string | number): PoolSnapshot
  /** Every pool's simulator-side state. */
  pools(): PoolSnapshot[]
  /** Request counts per route and per pool since start or the last {@link resetStats}. */
  stats(): KyveSimStats
  /** Starts counting from zero. */
  resetStats(): void
  /** Stops the rounds and the server (open connections are closed). Idempotent. */
  stop(): Promise<void>
}

/** Pending `delay` faults, cut short when the simulator stops. */
class Waits {
  private readonly pending = new Set<{ timer: NodeJS.Timeout; reject: (error: Error) => void }>()

  wait(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this.pending.delete(entry)
          resolve()
        }, ms),
        reject,
      }
      this.pending.add(entry)
    })
  }

  cancelAll(): void {
    for (const entry of this.pending) {
      clearTimeout(entry.timer)
      entry.reject(new Error('simulator stopped'))
    }
    this.pending.clear()
  }
}

function canonicalPoolId(poolId: string | number): string {
  try {
    return goParseUint(String(poolId), 10, 64).toString()
  } catch (error) {
    if (error instanceof GoNumError) throw new UnknownPoolError(String(poolId))
    throw error
  }
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, {
    'Content-Type': reply.contentType,
    'Content-Length': Buffer.byteLength(reply.body),
    ...reply.headers,
  })
  response.end(reply.body)
}

/**
 * Starts a simulated KYVE REST API (chain ≥ v1.5 shapes by default, v1.4 with `apiVersion: '1.4'`) with an
 * admin API under `/admin/` on the same port. Pools with a `chainRpc` advance on their own, bounded by that
 * node's height; the others move only through {@link KyveSimulator.setPool}.
 *
 * @example
 * const kyve = await startKyveSimulator({ pools: [{ id: 1 }], chainRpc: 'http://127.0.0.1:26657', bundleEveryMs: 500 })
 * await fetch(`${kyve.url}/kyve/query/v1beta1/pool/1`)
 * await kyve.stop()
 * @throws InvalidSimulatorOptionsError when the options are invalid; an `Error` when the port cannot be bound.
 */
export async function startKyveSimulator(input: KyveSimulatorOptions): Promise<KyveSimulator> {
  const options = resolveSimulatorOptions(input)
  const log: Logger = options.log ?? silentLogger
  const clock = new KyveChainClock(options.kyveStartHeight)
  const faults = new FaultRegistry()
  const stats = new RequestStats(options.pools.map((pool) => pool.id))
  const waits = new Waits()
  const runners = new Map<string, PoolRunner>()
  const pools = new Map<string, SimulatedPool>()
  const now = Math.floor(Date.now() / 1000)
  for (const poolOptions of options.pools) {
    const pool = new SimulatedPool(poolOptions, options.apiVersion === '1.5')
    if (poolOptions.currentKey !== '')
      pool.setCurrentKey(poolOptions.currentKey, { kyveHeight: clock.height, now })
    pools.set(pool.id, pool)
    runners.set(pool.id, new PoolRunner(pool, poolOptions, clock, faults, log))
  }

  const runnerOf = (poolId: string | number): PoolRunner => {
    const id = canonicalPoolId(poolId)
    const runner = runners.get(id)
    if (runner === undefined) throw new UnknownPoolError(id)
    return runner
  }
  const control: SimulatorControl = {
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    faults: () => faults.list(),
    setFault: (spec) => {
      const fault = faults.add(spec)
      log({ level: 'info', msg: 'fault set', fault })
      return fault
    },
    clearFaults: (poolId) => faults.clear(poolId),
    clearFault: (id) => faults.remove(id),
    pools: () => [...runners.values()].map((runner) => runner.snapshot()),
    pool: (poolId) => runnerOf(poolId).snapshot(),
    setPool: async (poolId, patch) => {
      const runner = runnerOf(poolId)
      return await runner.update(parsePoolPatch(patch))
    },
  }
  const apiContext: KyveApiContext = {
    pools,
    version: options.apiVersion,
    chainId: options.chainId,
    faults,
    stats,
    kyveHeight: () => clock.height,
    wait: (ms) => waits.wait(ms),
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://simulator.invalid')
    let path: string
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      // Go's net/http refuses a request whose path escapes are malformed before any handler runs.
      send(response, {
        status: 400,
        contentType: 'text/plain; charset=utf-8',
        body: '400 Bad Request',
        headers: {},
      })
      return
    }
    const reply =
      path === '/admin' || path.startsWith('/admin/')
        ? await handleAdminRequest(control, request, path, url.searchParams)
        : await handleKyveRequest(apiContext, request.method ?? 'GET', path, url.searchParams)
    send(response, reply)
  }

  let stopping = false
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (stopping) {
        response.destroy()
        return
      }
      log({ level: 'error', msg: 'request failed', url: request.url, error: String(error) })
      if (!response.headersSent) {
        send(response, {
          status: 500,
          contentType: 'text/plain; charset=utf-8',
          body: 'internal error',
          headers: {},
        })
      } else {
        response.destroy()
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${urlHost}:${address.port}`
  log({
    level: 'info',
    msg: 'kyve simulator listening',
    url,
    apiVersion: options.apiVersion,
    pools: [...pools.keys()],
  })
  for (const runner of runners.values()) runner.start()

  let stopped: Promise<void> | undefined
  return {
    url,
    host: address.address,
    port: address.port,
    ...control,
    clearFaults: (poolId) => faults.clear(poolId === undefined ? undefined : canonicalPoolId(poolId)),
    stop() {
      stopped ??= (async () => {
        stopping = true
        waits.cancelAll()
        await Promise.all([...runners.values()].map((runner) => runner.stop()))
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        log({ level: 'info', msg: 'kyve simulator stopped' })
      })()
      return stopped
    },
  }
}

import type { IncomingMessage } from 'node:http'
import { type Fault, type FaultSpec, InvalidFaultError } from './faults.js'
import { GoNumError, goParseUint } from './go-strconv.js'
import type { Reply } from './kyve-api.js'
import { InvalidPoolPatchError } from './pool-patch.js'
import type { PoolSnapshot } from './pool-runner.js'
import { PoolChangeRejectedError } from './pool-state.js'
import type { KyveSimStats } from './request-stats.js'

/*
 * The admin API under /admin/ on the simulator's own port (JSON in, JSON out; requests here are not counted):
 *
 *   GET    /admin/stats                 request counts per route and per pool id since start or last reset
 *   POST   /admin/stats/reset           start counting from zero (also: DELETE /admin/stats)
 *   GET    /admin/faults                active faults
 *   POST   /admin/faults                add one: {"kind":"error500"|"delay"|"garbage"|"schema"|"regress"|
 *                                       "freeze"|"notfound", "poolId"?, "routes"?, "times"?, "delayMs"?,
 *                                       "regressBy"?, "message"?} → 201 with the fault (and its id)
 *   DELETE /admin/faults[?poolId=N]     clear all faults (or those bound to pool N)
 *   DELETE /admin/faults/{id}           clear one fault
 *   GET    /admin/pools                 simulator-side state of every pool
 *   GET    /admin/pool/{id}             one pool
 *   POST   /admin/pool/{id}             change it: {"currentKey"?, "paused"?, "tick"?, "chainHeight"?,
 *                                       "disabled"?, "endKey"?, "maxBundleSize"?, "uploadInterval"?,
 *                                       "lagBlocks"?, "heightCap"?} → the pool after the change
 *
 * Rejected input answers 400 with {"error": "..."} naming every problem, and changes nothing.
 */

/** What the admin API drives. */
export interface SimulatorControl {
  stats(): KyveSimStats
  resetStats(): void
  faults(): Fault[]
  setFault(spec: FaultSpec): Fault
  clearFaults(poolId?: string): number
  clearFault(id: string): boolean
  pools(): PoolSnapshot[]
  /** @throws UnknownPoolError */
  pool(poolId: string): PoolSnapshot
  /** @throws UnknownPoolError, InvalidPoolPatchError, PoolChangeRejectedError */
  setPool(poolId: string, patch: unknown): Promise<PoolSnapshot>
}

/** The simulator has no pool with this id. */
export class UnknownPoolError extends Error {
  constructor(readonly poolId: string) {
    super(`the simulator has no pool ${poolId}`)
    this.name = 'UnknownPoolError'
  }
}

const MAX_BODY_BYTES = 64 * 1024

function json(status: number, value: unknown): Reply {
  return { status, contentType: 'application/json', body: `${JSON.stringify(value)}\n`, headers: {} }
}

class AdminInputError extends Error {}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    const buffer = chunk as Buffer
    size += buffer.length
    if (size > MAX_BODY_BYTES) throw new AdminInputError(`body larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new AdminInputError(`body is not JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function canonicalPoolId(text: string): string {
  try {
    return goParseUint(text, 10, 64).toString()
  } catch (error) {
    throw new AdminInputError(`pool id: ${error instanceof GoNumError ? error.message : String(error)}`)
  }
}

/** Answers one request under /admin/. */
export async function handleAdminRequest(
  control: SimulatorControl,
  request: IncomingMessage,
  path: string,
  query: URLSearchParams,
): Promise<Reply> {
  const method = request.method ?? 'GET'
  const segments = path
    .split('/')
    .filter((segment) => segment !== '')
    .slice(1)
  const [resource, id, extra] = segments
  try {
    if (resource === 'stats' && id === undefined) {
      if (method === 'GET') return json(200, control.stats())
      if (method === 'DELETE') {
        control.resetStats()
        return json(200, control.stats())
      }
    } else if (resource === 'stats' && id === 'reset' && extra === undefined) {
      if (method === 'POST') {
        control.resetStats()
        return json(200, control.stats())
      }
    } else if (resource === 'faults' && id === undefined) {
      if (method === 'GET') return json(200, { faults: control.faults() })
      if (method === 'POST')
        return json(201, { fault: control.setFault((await readJsonBody(request)) as FaultSpec) })
      if (method === 'DELETE') {
        const poolId = query.get('poolId') ?? query.get('pool_id')
        return json(200, {
          removed: control.clearFaults(poolId === null ? undefined : canonicalPoolId(poolId)),
        })
      }
    } else if (resource === 'faults' && id !== undefined && extra === undefined) {
      if (method === 'DELETE') {
        return control.clearFault(id)
          ? json(200, { removed: 1 })
          : json(404, { error: `no fault with id ${id}` })
      }
    } else if (resource === 'pools' && id === undefined) {
      if (method === 'GET') return json(200, { pools: control.pools() })
    } else if (resource === 'pool' && id !== undefined && extra === undefined) {
      const poolId = canonicalPoolId(id)
      if (method === 'GET') return json(200, control.pool(poolId))
      if (method === 'POST') return json(200, await control.setPool(poolId, await readJsonBody(request)))
    } else {
      return json(404, { error: `no admin route ${path}` })
    }
    return json(405, { error: `${method} is not allowed on ${path}` })
  } catch (error) {
    if (error instanceof UnknownPoolError) return json(404, { error: error.message })
    if (
      error instanceof AdminInputError ||
      error instanceof InvalidFaultError ||
      error instanceof InvalidPoolPatchError ||
      error instanceof PoolChangeRejectedError
    ) {
      return json(400, { error: error.message })
    }
    throw error
  }
}

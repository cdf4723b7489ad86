import type { RpcId } from './rpc-envelope.js'
import { ROUTED_METHODS } from './rpc-methods.js'

/**
 * One RPC call as the gateway routes it, from a URI request (`GET /block?height=5`) or one JSON-RPC request
 * (`POST /` with `{"method":"block","params":{"height":"5"}}`). Every upstream is asked in URI form, so a
 * successful answer is HTTP 200 and a failed one HTTP 500 whichever way the caller asked.
 */
export interface RpcCall {
  method: string
  /** The height asked for; null: the latest, or a method without a height. */
  height: number | null
  /** The query to send upstream: the caller's own for a URI request, built from the params for JSON-RPC. */
  query: string
  /** The caller's JSON-RPC id; `undefined` for a URI request. */
  id: RpcId | undefined
}

/**
 * A height parameter as CometBFT reads it (`5` or `"5"`; empty: not given). Anything else is left to the node,
 * which answers its own "Invalid params" error: routed as "latest", since every node says the same.
 */
export function heightOf(raw: unknown): number | null {
  if (raw === undefined || raw === null || raw === '') return null
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : null
  if (typeof raw !== 'string') return null
  const match = /^"?([0-9]{1,16})"?$/.exec(raw)
  if (match === null || raw.startsWith('"') !== raw.endsWith('"')) return null
  const height = Number(match[1])
  return Number.isSafeInteger(height) && height > 0 ? height : null
}

/** A URI request for a routed method: the query goes upstream as it came. */
export function uriCall(method: string, search: URLSearchParams, rawQuery: string): RpcCall {
  const routed = ROUTED_METHODS.get(method)
  const height = routed?.byHeight === true ? heightOf(search.get('height') ?? undefined) : null
  return { method, height, query: rawQuery, id: undefined }
}

/** Why a JSON-RPC request cannot be routed: answered with CometBFT's code and message. */
export interface CallProblem {
  id: RpcId
  code: number
  message: string
  data: string
}

/**
 * One element of a JSON-RPC body, or the problem with it. Parameters become URI form: numbers and numeric
 * strings bare, other strings quoted, as CometBFT's URI handler reads them. `null` for a method that is not
 * routed: the request goes to the local node as it came.
 */
export function jsonRpcCall(request: unknown): RpcCall | CallProblem | null {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { id: null, code: -32600, message: 'Invalid Request', data: 'request is not an object' }
  }
  const r = request as { id?: unknown; method?: unknown; params?: unknown }
  const id: RpcId = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null
  if (typeof r.method !== 'string') {
    return { id, code: -32600, message: 'Invalid Request', data: 'method is not a string' }
  }
  const routed = ROUTED_METHODS.get(r.method)
  if (routed === undefined) return null
  const named: Record<string, unknown> = {}
  if (Array.isArray(r.params)) {
    const list: unknown[] = r.params
    for (const [index, arg] of routed.args.entries()) named[arg] = list[index]
  } else if (typeof r.params === 'object' && r.params !== null) Object.assign(named, r.params)
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(named)) {
    if (value === undefined || value === null || value === '') continue
    const bare = typeof value === 'number' || (typeof value === 'string' && /^-?[0-9]+$/.test(value))
    query.set(name, bare ? String(value) : JSON.stringify(value))
  }
  return {
    method: r.method,
    height: routed.byHeight ? heightOf(named['height']) : null,
    query: query.toString(),
    id,
  }
}

export function isProblem(value: RpcCall | CallProblem | null): value is CallProblem {
  return value !== null && 'code' in value
}

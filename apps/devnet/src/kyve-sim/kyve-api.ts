import type { Fault, FaultRegistry, KyveRoute } from './faults.js'
import { GoNumError, goParseUint } from './go-strconv.js'
import { GatewayError, GrpcCode, keyNotFound, notImplemented, typeMismatch } from './grpc-status.js'
import { type ApiVersion, encodeJsonpb, encodeStatusJson, type JsonValue } from './json-encoding.js'
import { nodeInfoJson } from './node-info.js'
import { filteredPaginate, type Page, paginateBundles } from './pagination.js'
import type { SimulatedPool } from './pool-state.js'
import {
  boolParam,
  nextKeyJson,
  parsePageRequest,
  stringParam,
  uint32Param,
  uint64Key,
} from './query-params.js'
import type { RequestStats } from './request-stats.js'
import { finalizedBundleJson, poolResponseJson } from './responses.js'

/*
 * The KYVE REST routes, answered as the Cosmos SDK gRPC gateway answers them: JSON from the
 * query, `google.rpc.Status` bodies for errors, HTTP 501 for anything no route matches (any method but GET too),
 * and `Grpc-Metadata-X-Cosmos-Block-Height` on every answer that reached the query service. The
 * `x-cosmos-block-height` request header (pinning an old height) is not honoured: there is only the latest state.
 */

/** An HTTP answer. */
export interface Reply {
  status: number
  contentType: string
  body: string
  headers: Record<string, string>
}

/** What the routes need from the simulator. */
export interface KyveApiContext {
  pools: ReadonlyMap<string, SimulatedPool>
  version: ApiVersion
  chainId: string
  faults: FaultRegistry
  stats: RequestStats
  /** The simulated KYVE chain's latest block height. */
  kyveHeight(): number
  /** Resolves after `ms` (the `delay` fault); rejects when the simulator stops. */
  wait(ms: number): Promise<void>
}

type RouteMatch =
  | { route: 'pools' }
  | { route: 'pool'; id: string }
  | { route: 'bundles'; poolId: string }
  | { route: 'bundle'; poolId: string; id: string }
  | { route: 'node_info' }

/** grpc-gateway patterns: literal segments, `{param}` matching exactly one segment. */
function matchRoute(segments: string[]): RouteMatch | null {
  const path = segments.join('/')
  if (path === 'kyve/query/v1beta1/pools') return { route: 'pools' }
  if (path === 'cosmos/base/tendermint/v1beta1/node_info') return { route: 'node_info' }
  const [a, b, c, d, e, extra] = segments
  if (
    a === 'kyve' &&
    b === 'query' &&
    c === 'v1beta1' &&
    d === 'pool' &&
    e !== undefined &&
    extra === undefined
  ) {
    return { route: 'pool', id: e }
  }
  if (a === 'kyve' && b === 'v1' && c === 'bundles' && d !== undefined && extra === undefined) {
    return e === undefined ? { route: 'bundles', poolId: d } : { route: 'bundle', poolId: d, id: e }
  }
  return null
}

/** `runtime.Uint64` on a path parameter. */
function pathUint64(name: string, value: string): string {
  try {
    return goParseUint(value, 0, 64).toString()
  } catch (error) {
    throw typeMismatch(name, error instanceof GoNumError ? error : new Error(String(error)))
  }
}

/** The pool id a path names, or undefined when it does not parse (stats, fault scope). */
function poolIdOf(match: RouteMatch): string | undefined {
  const raw =
    match.route === 'pool'
      ? match.id
      : match.route === 'bundles' || match.route === 'bundle'
        ? match.poolId
        : undefined
  if (raw === undefined) return undefined
  try {
    return goParseUint(raw, 0, 64).toString()
  } catch {
    return undefined
  }
}

const MAINTENANCE_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>Bad Gateway</h1><p>The upstream node is restarting. Please try again later.</p></body></html>\n'

/** Valid JSON of the wrong shape for each route (the `schema` fault). */
function wrongShape(route: KyveRoute, poolId: string | undefined): { [key: string]: JsonValue } {
  const id = Number(poolId ?? 0)
  switch (route) {
    case 'pool':
      return { pool: { id, data: { id, current_key: 1234, start_key: 1 } } }
    case 'pools':
      return { pools: { count: 1 }, pagination: 'none' }
    case 'bundles':
      return { finalized_bundles: [{ pool_id: id, to_key: 1234 }], pagination: {} }
    case 'bundle':
      return { bundle: { pool_id: id, to_key: 1234 } }
    case 'node_info':
      return { default_node_info: { network: 1 } }
  }
}

class Responder {
  constructor(private readonly context: KyveApiContext) {}

  /** A successful query answer (headers of a call that reached the gRPC service). */
  ok(body: { [key: string]: JsonValue }): Reply {
    return this.reply(200, encodeJsonpb(body, this.context.version), true)
  }

  /** An error; `reachedService` when the query service produced it (it then carries the height header). */
  error(error: GatewayError, reachedService: boolean): Reply {
    const body = encodeStatusJson(
      { code: error.code, message: error.message, details: [] },
      this.context.version,
    )
    return this.reply(error.httpStatus, body, reachedService)
  }

  private reply(status: number, body: string, reachedService: boolean): Reply {
    const headers: Record<string, string> = reachedService
      ? {
          'Grpc-Metadata-Content-Type': 'application/grpc',
          'Grpc-Metadata-X-Cosmos-Block-Height': String(this.context.kyveHeight()),
        }
      : {}
    return { status, contentType: 'application/json', body, headers }
  }
}

/**
 * Answers one request to the KYVE REST API (anything outside `/admin/`).
 * @param path the decoded URL path.
 */
export async function handleKyveRequest(
  context: KyveApiContext,
  method: string,
  path: string,
  query: URLSearchParams,
): Promise<Reply> {
  const respond = new Responder(context)
  const match = method === 'GET' ? matchRoute(path.split('/').slice(1)) : null
  if (match === null) {
    context.stats.record('unknown')
    return respond.error(notImplemented(), false)
  }
  const poolId = poolIdOf(match)
  context.stats.record(match.route, poolId)
  const faults = context.faults.take(match.route, match.route === 'pools' ? null : poolId)
  const delay = faults.reduce((sum, fault) => sum + (fault.kind === 'delay' ? (fault.delayMs ?? 0) : 0), 0)
  if (delay > 0) await context.wait(delay)
  // For /pools, notfound and regress bound to one pool change that pool's entry; everything else is wholesale.
  const wholesale = faults.find(
    (fault) => fault.kind === 'error500' || fault.kind === 'garbage' || fault.kind === 'schema',
  )
  if (wholesale?.kind === 'error500') {
    const message = wholesale.message ?? 'simulated fault: internal error'
    return respond.error(new GatewayError(GrpcCode.Internal, message), false)
  }
  if (wholesale?.kind === 'garbage') {
    return { status: 200, contentType: 'text/html; charset=utf-8', body: MAINTENANCE_PAGE, headers: {} }
  }
  if (wholesale?.kind === 'schema') {
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify(wrongShape(match.route, poolId)),
      headers: {},
    }
  }
  try {
    switch (match.route) {
      case 'node_info':
        return respond.ok(nodeInfoJson(context.chainId, context.version))
      case 'pool':
        return poolRoute(context, respond, pathUint64('id', match.id), faults)
      case 'pools':
        return poolsRoute(context, respond, query, faults)
      case 'bundles':
        return bundlesRoute(context, respond, pathUint64('pool_id', match.poolId), query, faults)
      case 'bundle':
        return bundleRoute(
          context,
          respond,
          pathUint64('pool_id', match.poolId),
          pathUint64('id', match.id),
          faults,
        )
    }
  } catch (error) {
    if (error instanceof GatewayError) return respond.error(error, false)
    throw error
  }
}

/** The pool as the faults present it: undefined when missing or hidden by `notfound`. */
function visiblePool(context: KyveApiContext, poolId: string, faults: Fault[]): SimulatedPool | undefined {
  const hidden = faults.some(
    (fault) => fault.kind === 'notfound' && (fault.poolId === null || fault.poolId === poolId),
  )
  return hidden ? undefined : context.pools.get(poolId)
}

function regressionFor(poolId: string, faults: Fault[]): number {
  return faults.reduce(
    (most, fault) =>
      fault.kind === 'regress' && (fault.poolId === null || fault.poolId === poolId)
        ? Math.max(most, fault.regressBy ?? 0)
        : most,
    0,
  )
}

function poolRoute(context: KyveApiContext, respond: Responder, poolId: string, faults: Fault[]): Reply {
  const pool = visiblePool(context, poolId, faults)
  if (pool === undefined) return respond.error(keyNotFound(), true)
  return respond.ok({
    pool: poolResponseJson(pool, { version: context.version, regressBy: regressionFor(poolId, faults) }),
  })
}

function poolsRoute(
  context: KyveApiContext,
  respond: Responder,
  query: URLSearchParams,
  faults: Fault[],
): Reply {
  const page = parsePageRequest(query)
  const search = (stringParam(query, ['search']) ?? '').toLowerCase()
  const runtime = stringParam(query, ['runtime']) ?? ''
  // The surprise of the real API: `disabled` defaults to false and is compared with !=, so without
  // ?disabled=true the list omits disabled pools, and with it the list holds only them.
  const disabled = boolParam(query, ['disabled']) ?? false
  const storageProviderId = uint32Param(query, ['storage_provider_id', 'storageProviderId']) ?? 0
  const entries = [...context.pools.values()]
    .filter((pool) => visiblePool(context, pool.id, faults) !== undefined)
    .map((pool) => ({ key: uint64Key(BigInt(pool.id)), value: pool }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
  return pageReply(
    respond,
    'pools',
    () =>
      filteredPaginate(
        entries,
        page,
        (pool) =>
          pool.name.toLowerCase().includes(search) &&
          (runtime === '' || runtime === pool.runtime) &&
          disabled === pool.disabled &&
          (storageProviderId === 0 || storageProviderId === pool.currentStorageProviderId),
      ),
    (pool) => poolResponseJson(pool, { version: context.version, regressBy: regressionFor(pool.id, faults) }),
  )
}

/** One page of a list as the gateway renders it; a bad page request is answered with its gRPC error. */
function pageReply<T>(
  respond: Responder,
  field: string,
  paginate: () => Page<T>,
  json: (item: T) => JsonValue,
): Reply {
  try {
    const result = paginate()
    return respond.ok({
      [field]: result.items.map(json),
      pagination: { next_key: nextKeyJson(result.nextKey), total: result.total.toString() },
    })
  } catch (error) {
    if (error instanceof GatewayError) return respond.error(error, true)
    throw error
  }
}

function bundlesRoute(
  context: KyveApiContext,
  respond: Responder,
  poolId: string,
  query: URLSearchParams,
  faults: Fault[],
): Reply {
  const page = parsePageRequest(query)
  const index = stringParam(query, ['index']) ?? ''
  const bundles = visiblePool(context, poolId, faults)?.bundles ?? []
  if (index !== '') {
    let position: bigint
    try {
      position = goParseUint(index, 10, 64)
    } catch {
      return respond.error(
        new GatewayError(GrpcCode.InvalidArgument, 'index needs to be an unsigned integer'),
        true,
      )
    }
    const pool = visiblePool(context, poolId, faults)
    const bundle = pool?.bundleContainingIndex(position)
    return respond.ok({
      finalized_bundles: bundle === undefined ? [] : [finalizedBundleJson(poolId, bundle)],
      pagination: null,
    })
  }
  return pageReply(
    respond,
    'finalized_bundles',
    () => paginateBundles(bundles, page),
    (bundle) => finalizedBundleJson(poolId, bundle),
  )
}

function bundleRoute(
  context: KyveApiContext,
  respond: Responder,
  poolId: string,
  id: string,
  faults: Fault[],
): Reply {
  const bundles = visiblePool(context, poolId, faults)?.bundles ?? []
  const bundle = BigInt(id) < BigInt(bundles.length) ? bundles[Number(id)] : undefined
  if (bundle === undefined) return respond.error(keyNotFound(), true)
  return respond.ok(finalizedBundleJson(poolId, bundle))
}

import { goDecodeBytes, goParseBool, goParseUint } from './go-strconv.js'
import { GatewayError, GrpcCode } from './grpc-status.js'

/*
 * Query parameters the way grpc-gateway v1.16 `PopulateQueryParameters` fills a request message: a key is the
 * field path by proto name or JSON name (`pagination.count_total` or `pagination.countTotal`), the first value
 * wins, unknown keys are ignored, and a value that does not parse is an InvalidArgument (HTTP 400) whose message
 * is the Go parser's error.
 */

/** `cosmos.base.query.v1beta1.PageRequest` as the handlers receive it. */
export interface PageRequest {
  /** null when absent; an empty buffer when given as "" (Go: non-nil, zero length). */
  key: Buffer | null
  offset: bigint
  limit: bigint
  countTotal: boolean
  reverse: boolean
}

/** The first value of the first of `names` present. */
function first(params: URLSearchParams, names: string[]): string | undefined {
  for (const name of names) {
    const value = params.get(name)
    if (value !== null) return value
  }
  return undefined
}

/** The first of `names` present, parsed by `parse`; a value that does not parse is an InvalidArgument. */
function parsedParam<T>(
  params: URLSearchParams,
  names: string[],
  parse: (value: string) => T,
): T | undefined {
  const value = first(params, names)
  if (value === undefined) return undefined
  try {
    return parse(value)
  } catch (error) {
    throw new GatewayError(GrpcCode.InvalidArgument, error instanceof Error ? error.message : String(error))
  }
}

/** A uint64 field (`runtime.Uint64`, base 0). */
export function uint64Param(params: URLSearchParams, names: string[]): bigint | undefined {
  return parsedParam(params, names, (value) => goParseUint(value, 0, 64))
}

/** A uint32 field (`runtime.Uint32`, base 0). */
export function uint32Param(params: URLSearchParams, names: string[]): number | undefined {
  return parsedParam(params, names, (value) => Number(goParseUint(value, 0, 32)))
}

/** A bool field (`strconv.ParseBool`). */
export function boolParam(params: URLSearchParams, names: string[]): boolean | undefined {
  return parsedParam(params, names, goParseBool)
}

/** A string field. */
export function stringParam(params: URLSearchParams, names: string[]): string | undefined {
  return first(params, names)
}

/** `pagination.*` of a request. @throws GatewayError (InvalidArgument) on a value that does not parse. */
export function parsePageRequest(params: URLSearchParams): PageRequest {
  return {
    key: parsedParam(params, ['pagination.key'], goDecodeBytes) ?? null,
    offset: uint64Param(params, ['pagination.offset']) ?? 0n,
    limit: uint64Param(params, ['pagination.limit']) ?? 0n,
    countTotal: boolParam(params, ['pagination.count_total', 'pagination.countTotal']) ?? false,
    reverse: boolParam(params, ['pagination.reverse']) ?? false,
  }
}

/** `query.DefaultLimit` of the Cosmos SDK. */
export const DEFAULT_PAGE_LIMIT = 100n

/** A store key as `GetByteKey(uint64)` writes it: 8 bytes big-endian. */
export function uint64Key(value: bigint): Buffer {
  const buffer = Buffer.alloc(8)
  buffer.writeBigUInt64BE(BigInt.asUintN(64, value))
  return buffer
}

/** `pagination.next_key` in JSON: base64 (Go `[]byte`) or null for a nil key. */
export function nextKeyJson(key: Buffer | null): string | null {
  return key === null ? null : key.toString('base64')
}

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A tiny stand-in for a CometBFT node's `/abci_info` (the real simulated node is built elsewhere): answers
 * `result.response.last_block_height` = `height`, omits it in `missing` mode (a node before its first block),
 * drops the connection in `down` mode, and answers non-JSON in `garbage` mode.
 */
export interface FakeChain {
  url: string
  height: number
  mode: 'ok' | 'missing' | 'down' | 'garbage'
  /** `/abci_info` requests so far. */
  requests: number
  close(): Promise<void>
}

export async function startFakeChain(height: number): Promise<FakeChain> {
  const chain: FakeChain = {
    url: '',
    height,
    mode: 'ok',
    requests: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  const server: Server = createServer((request, response) => {
    if (request.url?.split('?')[0] !== '/abci_info') {
      response.writeHead(404).end()
      return
    }
    chain.requests++
    if (chain.mode === 'down') {
      request.socket.destroy()
      return
    }
    if (chain.mode === 'garbage') {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>nope</html>')
      return
    }
    const info: Record<string, string> = { data: 'osmosis', version: '25.0.0', app_version: '0' }
    if (chain.mode === 'ok') {
      info.last_block_height = String(chain.height)
      info.last_block_app_hash = 'AAAA'
    }
    response
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ jsonrpc: '2.0', id: -1, result: { response: info } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  chain.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  server.keepAliveTimeout = 1
  return chain
}

/** An HTTP answer with its body as text. */
export interface TextAnswer {
  status: number
  text: string
  headers: Headers
}

export async function getText(url: string, init?: RequestInit): Promise<TextAnswer> {
  const response = await fetch(url, init)
  return { status: response.status, text: await response.text(), headers: response.headers }
}

/** GET and parse JSON (throws when the body is not JSON). */
export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T; text: string }> {
  const answer = await getText(url)
  return { status: answer.status, body: JSON.parse(answer.text) as T, text: answer.text }
}

/** Sends a JSON body to the admin API. */
export async function sendJson(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? null : JSON.parse(text) }
}

/** The shape of one JSON field: how it must be typed. */
export type FieldType =
  | 'u64'
  | 'u32'
  | 'string'
  | 'bool'
  | 'legacyDec'
  | 'status'
  | 'kyveAddress'
  | 'rfc3339'
  | 'stringArray'
  | 'nullOrBase64'
  | FieldSpec
  | { arrayOf: FieldSpec }

/** Expected keys in order, with their types. */
export type FieldSpec = ReadonlyArray<readonly [string, FieldType]>

const CHECKS: Record<string, (value: unknown) => boolean> = {
  u64: (value) => typeof value === 'string' && /^(?:0|[1-9][0-9]*)$/.test(value) && BigInt(value) < 1n << 64n,
  u32: (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32,
  string: (value) => typeof value === 'string',
  bool: (value) => typeof value === 'boolean',
  legacyDec: (value) => typeof value === 'string' && /^(?:0|[1-9][0-9]*)\.[0-9]{18}$/.test(value),
  status: (value) => typeof value === 'string' && /^POOL_STATUS_[A-Z_]+$/.test(value),
  kyveAddress: (value) => typeof value === 'string' && /^kyve1[02-9ac-hj-np-z]{38}$/.test(value),
  rfc3339: (value) =>
    typeof value === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)$/.test(value),
  stringArray: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
  nullOrBase64: (value) =>
    value === null || (typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value)),
}

/**
 * Every problem of `value` against `spec` (keys in exactly this order, each of its type), as readable lines.
 * An empty list means the value matches.
 */
export function shapeProblems(value: unknown, spec: FieldSpec, path = '$'): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [`${path}: expected an object`]
  const record = value as Record<string, unknown>
  const problems: string[] = []
  const keys = Object.keys(record)
  const expected = spec.map(([key]) => key)
  if (keys.join(',') !== expected.join(',')) {
    problems.push(`${path}: keys ${JSON.stringify(keys)} instead of ${JSON.stringify(expected)}`)
  }
  for (const [key, type] of spec) {
    const field = record[key]
    const where = `${path}.${key}`
    if (typeof type === 'string') {
      if (!CHECKS[type]?.(field)) problems.push(`${where}: ${JSON.stringify(field)} is not a ${type}`)
    } else if ('arrayOf' in type) {
      if (!Array.isArray(field)) problems.push(`${where}: expected an array`)
      else {
        for (const [i, item] of field.entries())
          problems.push(...shapeProblems(item, type.arrayOf, `${where}[${i}]`))
      }
    } else {
      problems.push(...shapeProblems(field, type, where))
    }
  }
  return problems
}

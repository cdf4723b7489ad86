import { z } from 'zod'
import {
  type EndpointError,
  EndpointHttpError,
  EndpointTooOldError,
  InvalidRequestError,
  InvalidResponseError,
  PoolMismatchError,
  PoolNotFoundError,
} from './errors.js'
import { type PoolResponse, poolResponseSchema } from './pool-schema.js'

/** The route of the pool query, relative to an endpoint. */
export function poolRoute(poolId: number): string {
  return `/kyve/query/v1beta1/pool/${poolId}`
}

/** An HTTP answer as received: status and raw body text. */
export interface HttpAnswer {
  status: number
  body: string
}

/** What the answer is checked against. */
export interface AnswerExpectation {
  endpoint: string
  chainId: string
  poolId: number
}

/** The marshalled `google.rpc.Status` the SDK gateway sends on errors. */
const grpcStatusSchema = z.object({
  code: z.int(),
  message: z.string(),
  details: z.array(z.unknown()).optional(),
})

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat === '') return '(empty body)'
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** One line per zod issue: `pool.data.current_key: expected string, received number`. */
export function summarizeIssues(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`,
  )
}

/**
 * Interprets one answer of the pool route.
 * @returns the validated body when it is a 2xx answer about the requested pool.
 * @throws the EndpointError subclass that names what is wrong:
 *   PoolNotFoundError (HTTP 500 + gRPC code 2 + "key not found"; the caller decides whether it is final),
 *   EndpointTooOldError (HTTP 501 or gRPC code 12), InvalidRequestError (HTTP 400 + gRPC code 3),
 *   EndpointHttpError (any other non-2xx), InvalidResponseError (2xx but not JSON or not the pool shape),
 *   PoolMismatchError (a valid body about another pool).
 */
export function interpretPoolAnswer(answer: HttpAnswer, expected: AnswerExpectation): PoolResponse {
  const { endpoint, poolId } = expected
  if (answer.status < 200 || answer.status > 299) throw errorForStatus(answer, expected)
  const json = parseJson(answer.body)
  if (!json.ok)
    throw new InvalidResponseError(
      endpoint,
      `HTTP ${answer.status} body is not JSON: ${snippet(answer.body)}`,
    )
  const parsed = poolResponseSchema.safeParse(json.value)
  if (!parsed.success) {
    throw new InvalidResponseError(
      endpoint,
      'the body does not match the KYVE pool schema',
      summarizeIssues(parsed.error),
    )
  }
  if (parsed.data.pool.id !== String(poolId))
    throw new PoolMismatchError(endpoint, poolId, parsed.data.pool.id)
  return parsed.data
}

function errorForStatus(answer: HttpAnswer, expected: AnswerExpectation): EndpointError {
  const { endpoint, chainId, poolId } = expected
  const json = parseJson(answer.body)
  const grpc = json.ok ? grpcStatusSchema.safeParse(json.value) : undefined
  if (grpc?.success) {
    const { code, message } = grpc.data
    // The SDK renders ErrKeyNotFound as gRPC Unknown (2) / HTTP 500, and its wording varies with the query
    // path ("codespace sdk code 22: key not found", "key not found: unknown request"): match the substring.
    if (answer.status === 500 && code === 2 && /key not found/i.test(message)) {
      return new PoolNotFoundError(endpoint, chainId, poolId, message)
    }
    if (answer.status === 501 || code === 12) {
      return new EndpointTooOldError(
        endpoint,
        answer.status,
        poolRoute(poolId),
        `gRPC code ${code}: ${message}`,
      )
    }
    if (answer.status === 400 && code === 3) return new InvalidRequestError(endpoint, message)
    return new EndpointHttpError(endpoint, answer.status, `gRPC code ${code}: ${snippet(message)}`)
  }
  if (answer.status === 501) {
    return new EndpointTooOldError(endpoint, answer.status, poolRoute(poolId), snippet(answer.body))
  }
  return new EndpointHttpError(endpoint, answer.status, snippet(answer.body))
}
